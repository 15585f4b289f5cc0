/*
 * cmd_verify_attestation.c - verify-attestation: check a saved Nitro
 * attestation document offline (verify/attestation.h does the work).
 *
 * Exit 0 only when every check passes: the COSE_Sign1 ES384 signature,
 * the certificate chain to the pinned root at the chosen moment, and the
 * expected nonce and PCRs when given. Exit 1 with the reason otherwise;
 * 2 for bad usage or an unreadable file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify/attestation.h"
#include "common/guard.h"
#include "common/hex.h"
#include "common/number.h"
#include "common/timefmt.h"
#include "host/enclavectl/ctl.h"

#define ROOT_PEM_MAX   ((size_t)64 << 10)
#define DOC_FILE_MAX   ((size_t)4 * ATT_DOC_MAX)
#define PCR_HEX_MAX    (2 * ATT_PCR_MAX_LEN)

static const char verify_help[] =
"usage: enclavectl verify-attestation [--at TIME] [--expect-pcr0 HEX]\n"
"           [--expect-pcr N=HEX]... [--expect-nonce HEX] [--root PEM]\n"
"           [--expect-measurements FILE] [--allow-debug] FILE\n"
"\n"
"Verify a saved AWS Nitro attestation document: the COSE_Sign1 ES384\n"
"signature, the certificate chain from its leaf through its cabundle to\n"
"the pinned root, and the expected PCRs and nonce when given. FILE ('-'\n"
"for standard input) holds the document as base64 (as `attest` returns\n"
"it) or raw CBOR. Prints the document's fields; exit status 0 only when\n"
"every check passes, else 1 and the reason. A document whose PCR0, PCR1\n"
"and PCR2 are all zero comes from an enclave run with --debug-mode (the\n"
"parent instance can read its memory): 'debug mode: yes' is printed and\n"
"it fails unless --allow-debug is given.\n"
"\n"
"  --at TIME           verify the chain as of TIME: 2024-11-14T23:46:27Z,\n"
"                      seconds since the epoch, or 'document' for the\n"
"                      document's own timestamp (default: now)\n"
"  --expect-pcr0 HEX   PCR0 (the image hash, 96 hex characters) must match\n"
"  --expect-pcr N=HEX  PCR N must match (repeatable)\n"
"  --expect-measurements FILE\n"
"                      PCR0, PCR1 and PCR2 (and PCR8 when given) must all\n"
"                      match this measurements.json (make eif,\n"
"                      build-enclave.sh): PCR0 alone does not pin where\n"
"                      the image's sections begin and end\n"
"  --expect-nonce HEX  the nonce must match\n"
"  --root PEM          trust this root certificate (PEM file) instead of\n"
"                      the built-in AWS Nitro Enclaves root G1\n"
"  --allow-debug       accept a debug-mode document (for development)\n"
"  --help              print this help\n";

enum {
	OPT_AT = 256, OPT_EXPECT_PCR0, OPT_EXPECT_PCR, OPT_EXPECT_NONCE,
	OPT_ROOT, OPT_ALLOW_DEBUG, OPT_EXPECT_MEASUREMENTS, OPT_HELP,
};

static const struct option verify_options[] = {
	{ "at", required_argument, NULL, OPT_AT },
	{ "expect-pcr0", required_argument, NULL, OPT_EXPECT_PCR0 },
	{ "expect-pcr", required_argument, NULL, OPT_EXPECT_PCR },
	{ "expect-nonce", required_argument, NULL, OPT_EXPECT_NONCE },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "allow-debug", no_argument, NULL, OPT_ALLOW_DEBUG },
	{ "expect-measurements", required_argument, NULL,
	    OPT_EXPECT_MEASUREMENTS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct verify_args {
	const char            *file;
	const char            *root_file;
	int                    at_document;
	int                    allow_debug;
	struct att_verify_opts opts;
	struct att_expect_pcr  pcrs[ATT_PCR_COUNT];
	uint8_t                pcr_values[ATT_PCR_COUNT][ATT_PCR_MAX_LEN];
	uint8_t                nonce[ATT_NONCE_MAX];
};

static int
add_pcr(const char *cmd, struct verify_args *a, unsigned index,
    const char *hex)
{
	size_t i, len;

	if (index >= ATT_PCR_COUNT)
		return ctl_usage_error(cmd, "PCR index %u is out of range "
		    "(0..%d)", index, ATT_PCR_COUNT - 1);
	for (i = 0; i < a->opts.nexpected_pcrs; i++)
		if (a->pcrs[i].index == index)
			return ctl_usage_error(cmd, "PCR%u given twice", index);
	i = a->opts.nexpected_pcrs;
	if (ctl_hex_arg(hex, a->pcr_values[i], ATT_PCR_MAX_LEN, &len) < 0)
		return ctl_usage_error(cmd, "PCR%u must be hex (96 characters "
		    "for SHA-384), not '%s'", index, hex);
	a->pcrs[i].index = index;
	a->pcrs[i].value = a->pcr_values[i];
	a->pcrs[i].len = len;
	a->opts.nexpected_pcrs++;
	a->opts.expected_pcrs = a->pcrs;
	return 0;
}

/* "N=HEX" */
static int
add_pcr_arg(const char *cmd, struct verify_args *a, const char *arg)
{
	const char *eq = strchr(arg, '=');
	uint64_t idx;

	if (eq == NULL || number_parse_span(arg, (size_t)(eq - arg), 0,
	    ATT_PCR_COUNT - 1, &idx) < 0)
		return ctl_usage_error(cmd, "--expect-pcr takes N=HEX with N "
		    "in 0..%d, not '%s'", ATT_PCR_COUNT - 1, arg);
	return add_pcr(cmd, a, (unsigned)idx, eq + 1);
}

/*
 * A measurements.json: its PCR0, PCR1 and PCR2 (and PCR8) all expected,
 * since only the three together pin the image's layout (docs/security.md).
 */
static int
add_measurements(const char *cmd, struct verify_args *a, const char *path)
{
	struct ctl_measurements m;
	char hex[2 * CTL_PCR_LEN + 1];
	unsigned i;
	int rc;

	if ((rc = ctl_load_measurements(cmd, path, &m)) != 0)
		return rc;
	for (i = 0; i < 4; i++) {
		if (i == 3 && !m.has_pcr8)
			break;
		hex_encode(hex, i < 3 ? m.pcr[i] : m.pcr8, CTL_PCR_LEN);
		hex[2 * CTL_PCR_LEN] = '\0';
		if (add_pcr(cmd, a, i < 3 ? i : 8, hex) != 0)
			return CTL_EXIT_USAGE;
	}
	return 0;
}

/* Returns -1 to go on, or the exit status. */
static int
parse(const char *cmd, int argc, char **argv, struct verify_args *a)
{
	size_t len;
	int opt;

	memset(a, 0, sizeof(*a));
	ctl_getopt_reset();
	while ((opt = ctl_getopt(cmd, argc, argv, verify_options)) != -1) {
		switch (opt) {
		case OPT_AT:
			if (strcmp(optarg, "document") == 0) {
				a->at_document = 1;
				break;
			}
			if (ctl_parse_time(optarg, &a->opts.at) < 0)
				return ctl_usage_error(cmd, "--at takes "
				    "YYYY-MM-DDTHH:MM:SSZ, seconds or "
				    "'document', not '%s'", optarg);
			a->opts.at_set = 1;
			break;
		case OPT_EXPECT_PCR0:
			if (add_pcr(cmd, a, 0, optarg) != 0)
				return CTL_EXIT_USAGE;
			break;
		case OPT_EXPECT_PCR:
			if (add_pcr_arg(cmd, a, optarg) != 0)
				return CTL_EXIT_USAGE;
			break;
		case OPT_EXPECT_NONCE:
			if (ctl_hex_arg(optarg, a->nonce, sizeof(a->nonce),
			    &len) < 0)
				return ctl_usage_error(cmd, "--expect-nonce "
				    "takes hex of at most %d bytes",
				    ATT_NONCE_MAX);
			a->opts.expected_nonce = a->nonce;
			a->opts.expected_nonce_len = len;
			break;
		case OPT_ROOT:
			a->root_file = optarg;
			break;
		case OPT_ALLOW_DEBUG:
			a->allow_debug = 1;
			break;
		case OPT_EXPECT_MEASUREMENTS:
			if (add_measurements(cmd, a, optarg) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'h':
		case OPT_HELP:
			fputs(verify_help, stdout);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return ctl_usage_error(cmd, "no document FILE given");
	a->file = argv[optind++];
	if (ctl_no_operands(cmd, argc, argv) != 0)
		return CTL_EXIT_USAGE;
	return -1;
}

static void
print_hex_line(const char *label, const uint8_t *p, size_t n)
{
	char hex[2 * ATT_PCR_MAX_LEN + 1];

	if (n > ATT_PCR_MAX_LEN) {
		printf("%s: %zu bytes\n", label, n);
		return;
	}
	hex_encode(hex, p, n);
	hex[2 * n] = '\0';
	printf("%s: %s\n", label, hex);
}

static void
print_opt(const char *label, const struct att_opt_bytes *b)
{
	if (!b->present)
		printf("%s: null\n", label);
	else
		printf("%s: %zu bytes\n", label, b->v.len);
}

static void
print_doc(const struct attestation_doc *d, time_t at)
{
	char when[TIMEFMT_RFC3339_LEN + 1], label[16];
	size_t i;

	timefmt_rfc3339(when, (time_t)(d->timestamp_ms / 1000));
	printf("verified: yes\n");
	ctl_print_debug_mode(d);
	printf("module_id: %s\n", d->module_id);
	printf("timestamp: %s (%llu ms)\n", when,
	    (unsigned long long)d->timestamp_ms);
	timefmt_rfc3339(when, at);
	printf("checked_at: %s\n", when);
	printf("digest: %s\n", d->digest);
	for (i = 0; i < ATT_PCR_COUNT; i++) {
		if (!d->pcrs[i].present)
			continue;
		snprintf(label, sizeof(label), "PCR%zu", i);
		print_hex_line(label, d->pcrs[i].value, d->pcrs[i].len);
	}
	printf("cabundle: %zu certificates\n", d->ncabundle);
	print_opt("public_key", &d->public_key);
	print_opt("user_data", &d->user_data);
	print_opt("nonce", &d->nonce);
}

/* --at document: the chain is checked as of the payload's timestamp. */
static int
document_time(const struct buf *doc, time_t *out, struct reason *reason)
{
	struct cose_sign1 c;
	struct attestation_doc d;

	GUARD(cose_sign1_parse(&c, doc->data, doc->len, reason));
	if (attestation_doc_parse(&d, c.payload.data, c.payload.len,
	    reason) < 0) {
		cose_sign1_free(&c);
		return -1;
	}
	*out = (time_t)(d.timestamp_ms / 1000);
	attestation_doc_free(&d);
	cose_sign1_free(&c);
	return 0;
}

ctl_command_fn cmd_verify_attestation;
int
cmd_verify_attestation(const struct ctl_global *g, int argc, char **argv)
{
	static const char cmd[] = "verify-attestation";
	struct verify_args *a;
	struct buf file = BUF_INIT, doc = BUF_INIT, root = BUF_INIT;
	struct attestation_doc d;
	struct reason reason;
	int rc;

	(void)g;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		ctl_error(cmd, "out of memory");
		return CTL_EXIT_REMOTE;
	}
	if ((rc = parse(cmd, argc, argv, a)) >= 0)
		goto out;
	rc = CTL_EXIT_USAGE;
	if (a->root_file != NULL) {
		if (ctl_read_input(cmd, a->root_file, ROOT_PEM_MAX, &root) < 0)
			goto out;
		if (buf_append(&root, "", 1, ROOT_PEM_MAX + 1) < 0) {
			ctl_error(cmd, "out of memory");
			goto out;
		}
		a->opts.root_pem = (const char *)root.data;
	}
	if (ctl_read_input(cmd, a->file, DOC_FILE_MAX, &file) < 0)
		goto out;

	rc = CTL_EXIT_REMOTE;
	if (attestation_decode_input(file.data, file.len, &doc) < 0) {
		ctl_error(cmd, "verification failed: %s is neither base64 nor "
		    "CBOR of at most %d bytes", a->file, ATT_DOC_MAX);
		goto out;
	}
	if (a->at_document) {
		if (document_time(&doc, &a->opts.at, &reason) < 0) {
			ctl_error(cmd, "verification failed: %s", reason.text);
			goto out;
		}
		a->opts.at_set = 1;
	}
	if (!a->opts.at_set) {
		a->opts.at = time(NULL);
		a->opts.at_set = 1;
	}
	if (ctl_verify_document(cmd, &doc, &a->opts, a->allow_debug, &d) < 0)
		goto out;
	print_doc(&d, a->opts.at);
	attestation_doc_free(&d);
	rc = fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_REMOTE;
out:
	buf_free(&file, 0);
	buf_free(&doc, 0);
	buf_free(&root, 0);
	free(a);
	return rc;
}
