/*
 * cmd_attest.c - attest: ask the enclave for a fresh attestation
 * document binding a nonce, and with --verify check it on the spot with
 * verify/attestation.h (the same verifier as verify-attestation): the
 * COSE_Sign1 ES384 signature, the chain to the pinned AWS Nitro root (or
 * --root), our nonce echoed, and PCR0 when --expect-pcr0 is given.
 *
 * The nonce is fresh random (32 bytes) unless --nonce gives one, so a
 * document cannot be replayed from an earlier run. Exit 0 only when every
 * check passes; 1 with the reason otherwise (or the enclave's error);
 * 2 bad usage; 3 the enclave could not be reached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "verify/attestation.h"
#include "common/hex.h"
#include "common/timefmt.h"
#include "host/enclavectl/ctl.h"

#define NONCE_DEFAULT_LEN 32
#define FIELD_MAX_BYTES   512
#define ROOT_PEM_MAX      ((size_t)64 << 10)

static const char attest_help[] =
"usage: enclavectl [global options] attest [--nonce HEX] [--user-data HEX]\n"
"           [--verify] [--expect-pcr0 HEX] [--root PEM] [--at TIME]\n"
"           [--allow-debug]\n"
"\n"
"Ask the enclave for a fresh AWS Nitro attestation document that binds a\n"
"nonce (default: 32 random bytes). Without --verify, print the document as\n"
"base64 (what verify-attestation reads). With --verify, check it here: the\n"
"COSE_Sign1 ES384 signature, the certificate chain to the AWS Nitro root,\n"
"the nonce echoed, and PCR0; print what was checked. Exit 0 only when every\n"
"check passes, else 1 and the reason. A debug-mode document (PCR0, PCR1\n"
"and PCR2 all zero: the parent can read the enclave's memory) prints\n"
"'debug mode: yes' and fails unless --allow-debug is given.\n"
"\n"
"  --nonce HEX         the nonce to bind (1..512 bytes of hex)\n"
"  --user-data HEX     user data to bind (1..512 bytes of hex)\n"
"  --verify            verify the document (else just print it)\n"
"  --expect-pcr0 HEX   with --verify: PCR0 (the image hash) must match\n"
"  --root PEM          with --verify: trust this root (PEM file) instead of\n"
"                      the built-in AWS Nitro Enclaves root G1\n"
"  --at TIME           with --verify: check the chain as of TIME\n"
"                      (2024-11-14T23:46:27Z or seconds; default now)\n"
"  --allow-debug       with --verify: accept a debug-mode document\n"
"  --help              print this help\n";

enum {
	OPT_NONCE = 256, OPT_USER_DATA, OPT_VERIFY, OPT_EXPECT_PCR0, OPT_ROOT,
	OPT_AT, OPT_ALLOW_DEBUG, OPT_HELP,
};

static const struct option attest_options[] = {
	{ "nonce", required_argument, NULL, OPT_NONCE },
	{ "user-data", required_argument, NULL, OPT_USER_DATA },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "expect-pcr0", required_argument, NULL, OPT_EXPECT_PCR0 },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "at", required_argument, NULL, OPT_AT },
	{ "allow-debug", no_argument, NULL, OPT_ALLOW_DEBUG },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct attest_args {
	char        nonce_hex[2 * FIELD_MAX_BYTES + 1];
	uint8_t     nonce[FIELD_MAX_BYTES];
	size_t      nonce_len;
	const char *user_data_hex;
	int         verify;
	uint8_t     pcr0[ATT_PCR_MAX_LEN];
	size_t      pcr0_len;
	const char *root_file;
	int         at_set;
	time_t      at;
	int         allow_debug;
	char       *document;	/* the answer: base64, enclave_free() it */
};

/* Returns -1 to go on, or the exit status. */
static int
parse(const char *cmd, int argc, char **argv, struct attest_args *a)
{
	int opt, need_verify = 0;

	ctl_getopt_reset();
	while ((opt = ctl_getopt(cmd, argc, argv, attest_options)) != -1) {
		switch (opt) {
		case OPT_NONCE:
			if (ctl_hex_arg(optarg, a->nonce, FIELD_MAX_BYTES,
			    &a->nonce_len) < 0)
				return ctl_usage_error(cmd, "--nonce takes hex "
				    "of 1..%d bytes", FIELD_MAX_BYTES);
			hex_encode(a->nonce_hex, a->nonce, a->nonce_len);
			a->nonce_hex[2 * a->nonce_len] = '\0';
			break;
		case OPT_USER_DATA:
			if (ctl_hex_arg(optarg, NULL, FIELD_MAX_BYTES, NULL) < 0)
				return ctl_usage_error(cmd, "--user-data takes "
				    "hex of 1..%d bytes", FIELD_MAX_BYTES);
			a->user_data_hex = optarg;
			break;
		case OPT_VERIFY:
			a->verify = 1;
			break;
		case OPT_EXPECT_PCR0:
			if (ctl_hex_arg(optarg, a->pcr0, ATT_PCR_MAX_LEN,
			    &a->pcr0_len) < 0)
				return ctl_usage_error(cmd, "--expect-pcr0 takes "
				    "hex (96 characters for SHA-384)");
			need_verify = 1;
			break;
		case OPT_ROOT:
			a->root_file = optarg;
			need_verify = 1;
			break;
		case OPT_AT:
			if (ctl_parse_time(optarg, &a->at) < 0)
				return ctl_usage_error(cmd, "--at takes "
				    "YYYY-MM-DDTHH:MM:SSZ or seconds, not '%s'",
				    optarg);
			a->at_set = 1;
			need_verify = 1;
			break;
		case OPT_ALLOW_DEBUG:
			a->allow_debug = 1;
			need_verify = 1;
			break;
		case 'h':
		case OPT_HELP:
			fputs(attest_help, stdout);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (ctl_no_operands(cmd, argc, argv) != 0)
		return CTL_EXIT_USAGE;
	if (need_verify && !a->verify)
		return ctl_usage_error(cmd, "--expect-pcr0, --root, --at and "
		    "--allow-debug check a document: add --verify");
	return -1;
}

static int
verify(const char *cmd, const struct attest_args *a, const char *b64)
{
	struct att_verify_opts o;
	struct att_expect_pcr pcr0;
	struct attestation_doc d;
	struct buf doc = BUF_INIT, root = BUF_INIT;
	char hex[2 * ATT_PCR_MAX_LEN + 1];
	char when[TIMEFMT_RFC3339_LEN + 1];
	int rc = CTL_EXIT_REMOTE;

	memset(&o, 0, sizeof(o));
	if (a->root_file != NULL) {
		if (ctl_read_input(cmd, a->root_file, ROOT_PEM_MAX, &root) < 0 ||
		    buf_append(&root, "", 1, ROOT_PEM_MAX + 1) < 0) {
			rc = CTL_EXIT_USAGE;
			goto out;
		}
		o.root_pem = (const char *)root.data;
	}
	o.at_set = 1;
	o.at = a->at_set ? a->at : time(NULL);
	o.expected_nonce = a->nonce;
	o.expected_nonce_len = a->nonce_len;
	if (a->pcr0_len > 0) {
		pcr0.index = 0;
		pcr0.value = a->pcr0;
		pcr0.len = a->pcr0_len;
		o.expected_pcrs = &pcr0;
		o.nexpected_pcrs = 1;
	}
	if (attestation_decode_input((const uint8_t *)b64, strlen(b64),
	    &doc) < 0) {
		ctl_error(cmd, "verification failed: the enclave's document is "
		    "not base64 of at most %d bytes", ATT_DOC_MAX);
		goto out;
	}
	if (ctl_verify_document(cmd, &doc, &o, a->allow_debug, &d) < 0)
		goto out;
	printf("verified: yes\n");
	ctl_print_debug_mode(&d);
	printf("module_id: %s\n", d.module_id);
	timefmt_rfc3339(when, (time_t)(d.timestamp_ms / 1000));
	printf("timestamp: %s\n", when);
	printf("nonce: echoed (%zu bytes)\n", a->nonce_len);
	if (d.pcrs[0].present && d.pcrs[0].len <= ATT_PCR_MAX_LEN) {
		hex_encode(hex, d.pcrs[0].value, d.pcrs[0].len);
		hex[2 * d.pcrs[0].len] = '\0';
		printf("PCR0: %s%s\n", hex, a->pcr0_len ? " (as expected)" : "");
	}
	printf("root: %s\n", a->root_file ? a->root_file :
	    "AWS Nitro Enclaves root G1 (built in)");
	attestation_doc_free(&d);
	rc = fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_REMOTE;
out:
	buf_free(&doc, 0);
	buf_free(&root, 0);
	return rc;
}

static int
send_attest(struct enclave_client *c, void *arg)
{
	struct attest_args *a = arg;

	enclave_free(a->document);
	a->document = NULL;
	return enclave_attest(c, a->nonce_hex, a->user_data_hex, &a->document,
	    NULL);
}

ctl_command_fn cmd_attest;
int
cmd_attest(const struct ctl_global *g, int argc, char **argv)
{
	static const char cmd[] = "attest";
	struct attest_args *a;
	char *b64 = NULL;
	int rc;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		ctl_error(cmd, "out of memory");
		return CTL_EXIT_REMOTE;
	}
	if ((rc = parse(cmd, argc, argv, a)) >= 0)
		goto out;
	if (a->nonce_len == 0) {
		a->nonce_len = NONCE_DEFAULT_LEN;
		if (RAND_bytes(a->nonce, (int)a->nonce_len) != 1) {
			ctl_error(cmd, "cannot make a random nonce");
			rc = CTL_EXIT_REMOTE;
			goto out;
		}
		hex_encode(a->nonce_hex, a->nonce, a->nonce_len);
		a->nonce_hex[2 * a->nonce_len] = '\0';
	}
	rc = ctl_call(g, cmd, send_attest, a, 0);
	b64 = a->document;
	if (rc != CTL_EXIT_OK)
		goto out;
	if (a->verify)
		rc = verify(cmd, a, b64);
	else
		rc = printf("%s\n", b64) > 0 && fflush(stdout) == 0 ?
		    CTL_EXIT_OK : CTL_EXIT_REMOTE;
out:
	enclave_free(b64);
	free(a);
	return rc;
}
