/*
 * cmd_configure.c - hand the enclave its KMS-encrypted TSK.
 *
 * Credentials come from the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or, with --credentials imds,
 * from the instance metadata service (host/credentials, shared with the
 * gateway); never from the command line, which every user sees in ps and
 * which lands in shell history.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/base64.h"
#include "common/json_parse.h"
#include "common/kms_key_ref.h"
#include "host/credentials/credentials.h"
#include "host/enclavectl/ctl.h"

static const char configure_help[] =
"usage: enclavectl [global options] configure --tsk FILE [--region REGION]\n"
"                  [--credentials env|imds] [--key-id ID]\n"
"                  [--kms-key-id KEY] [--encryption-context KEY=VALUE]...\n"
"\n"
"Send the enclave its encrypted TSK: it asks KMS, with its attestation, to\n"
"decrypt it, and keeps the 32-byte key in locked memory. Prints the answer.\n"
"\n"
"  --tsk FILE       the base64 CiphertextBlob (e.g. from aws kms\n"
"                   generate-data-key); - reads standard input; whitespace\n"
"                   around it is ignored\n"
"  --region REGION  the KMS region (default: the daemon's own)\n"
"  --key-id ID      the name the enclave keeps the key under (1 to 64 of\n"
"                   A-Z a-z 0-9 . _ -; default \"default\"); configuring an\n"
"                   id it holds replaces that key\n"
"  --kms-key-id KEY the KMS key the TSK is from (key ARN or key id):\n"
"                   KMS's Decrypt names it and refuses a TSK of another\n"
"                   key; an enclave pinned with --kms-key-id takes only\n"
"                   its pins (default: its only pin, or none)\n"
"  --encryption-context KEY=VALUE\n"
"                   the KMS encryption context the TSK was made with;\n"
"                   repeat for each pair (KMS refuses any other); needs\n"
"                   an enclave run with --kms native\n"
"  --credentials env|imds\n"
"                   env (default): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\n"
"                   and AWS_SESSION_TOKEN must all be set; imds: the\n"
"                   instance role's credentials from IMDSv2 at\n"
"                   $AWS_EC2_METADATA_SERVICE_ENDPOINT (default\n"
"                   http://169.254.169.254)\n"
"  --help           print this help\n"
"\n"
"Credentials never come from the command line.\n";

enum { OPT_TSK = 256, OPT_REGION, OPT_CREDENTIALS, OPT_HELP, OPT_KEY_ID,
	OPT_CONTEXT, OPT_KMS_KEY_ID };

/* As many pairs as the enclave takes (enclave/kms/kms.h). */
#define CONTEXT_PAIRS_MAX 16

static const struct option configure_options[] = {
	{ "tsk", required_argument, NULL, OPT_TSK },
	{ "region", required_argument, NULL, OPT_REGION },
	{ "credentials", required_argument, NULL, OPT_CREDENTIALS },
	{ "key-id", required_argument, NULL, OPT_KEY_ID },
	{ "kms-key-id", required_argument, NULL, OPT_KMS_KEY_ID },
	{ "encryption-context", required_argument, NULL, OPT_CONTEXT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct configure_args {
	const char *tsk_path;
	const char *region;
	const char *key_id;
	const char *kms_key_id;
	enum host_credentials_source source;
	/* --encryption-context KEY=VALUE, split in place at the first '=' */
	const char *context_keys[CONTEXT_PAIRS_MAX];
	const char *context_values[CONTEXT_PAIRS_MAX];
	size_t      context_len;
};

static int
take_context(struct configure_args *a, char *arg)
{
	char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg)
		return ctl_usage_error("configure", "--encryption-context is "
		    "KEY=VALUE");
	if (a->context_len == CONTEXT_PAIRS_MAX)
		return ctl_usage_error("configure", "at most %d "
		    "--encryption-context pairs", CONTEXT_PAIRS_MAX);
	*eq = '\0';
	a->context_keys[a->context_len] = arg;
	a->context_values[a->context_len++] = eq + 1;
	return 0;
}

static int
parse(int argc, char **argv, struct configure_args *a)
{
	int opt;

	memset(a, 0, sizeof(*a));
	ctl_getopt_reset();
	while ((opt = ctl_getopt("configure", argc, argv,
	    configure_options)) != -1) {
		switch (opt) {
		case OPT_TSK:
			a->tsk_path = optarg;
			break;
		case OPT_REGION:
			if (optarg[0] == '\0')
				return ctl_usage_error("configure",
				    "--region must not be empty");
			a->region = optarg;
			break;
		case OPT_KEY_ID:
			if (optarg[0] == '\0')
				return ctl_usage_error("configure",
				    "--key-id must not be empty");
			a->key_id = optarg;
			break;
		case OPT_KMS_KEY_ID: {
			struct reason why;

			/* The enclave checks it too; say so before asking. */
			if (kms_key_ref_check(optarg, &why) < 0)
				return ctl_usage_error("configure",
				    "--kms-key-id: %s", why.text);
			a->kms_key_id = optarg;
			break;
		}
		case OPT_CONTEXT:
			if (take_context(a, optarg) != 0)
				return CTL_EXIT_USAGE;
			break;
		case OPT_CREDENTIALS:
			if (host_credentials_source_parse(optarg,
			    &a->source) < 0)
				return ctl_usage_error("configure",
				    "--credentials is env or imds, not '%s'",
				    optarg);
			break;
		case 'h':
		case OPT_HELP:
			fputs(configure_help, stdout);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (ctl_no_operands("configure", argc, argv) != 0)
		return CTL_EXIT_USAGE;
	if (a->tsk_path == NULL)
		return ctl_usage_error("configure", "--tsk FILE is required");
	return -1;
}

/*
 * From the environment (its copies wiped once read) or IMDS, into locked
 * memory that is wiped when the command ends.
 */
static int
get_credentials(const struct configure_args *a, int timeout_ms,
    struct host_credentials *hc)
{
	struct reason why;

	if (a->source == HOST_CREDS_IMDS) {
		json_use_wiping_allocator();
		if (imds_global_init() < 0) {
			ctl_error("configure", "cannot start libcurl");
			return CTL_EXIT_CONN;
		}
	}
	if (host_credentials_fetch(hc, a->source, 1, timeout_ms > 0 ?
	    timeout_ms : 2000, &why) < 0) {
		if (a->source == HOST_CREDS_ENV)
			return ctl_usage_error("configure", "%s", why.text);
		ctl_error("configure", "%s", why.text);
		return CTL_EXIT_CONN;
	}
	return 0;
}

/* The file's text, trimmed and checked to be base64, NUL-terminated. */
static int
read_tsk(const char *path, struct buf *b, char **tsk)
{
	size_t start = 0, end, dec_len;
	uint8_t *dec;
	int ok;

	if (ctl_read_input("configure", path, CTL_MAX_TSK_FILE, b) < 0)
		return CTL_EXIT_USAGE;
	end = b->len;
	ctl_trim(b->data, &start, &end);
	if (start == end)
		return ctl_usage_error("configure", "the TSK file %s is empty",
		    path);
	if ((dec = malloc(base64_decoded_max(end - start))) == NULL) {
		ctl_error("configure", "out of memory");
		return CTL_EXIT_USAGE;
	}
	ok = base64_decode(dec, &dec_len, (const char *)b->data + start,
	    end - start) == 0;
	free(dec);
	if (!ok)
		return ctl_usage_error("configure", "the TSK file %s does not "
		    "hold base64 (the KMS CiphertextBlob)", path);
	b->data[end] = '\0';	/* the buffer always has a byte to spare */
	*tsk = (char *)b->data + start;
	return 0;
}

/* What a configure sends, for ctl_call. */
struct configure_call {
	const char                        *tsk;
	const struct enclave_credentials  *creds;
	struct enclave_configure_options   options;
};

static int
send_configure(struct enclave_client *c, void *arg)
{
	struct configure_call *req = arg;

	return enclave_configure_ex(c, req->tsk, req->creds, &req->options);
}

ctl_command_fn cmd_configure;
int
cmd_configure(const struct ctl_global *g, int argc, char **argv)
{
	struct configure_args a;
	struct host_credentials hc = HOST_CREDENTIALS_INIT;
	struct enclave_credentials cr;
	struct configure_call req;
	struct buf tsk_buf = BUF_INIT;
	char *tsk = NULL;
	int rc;

	if ((rc = parse(argc, argv, &a)) >= 0)
		return rc;
	if ((rc = get_credentials(&a, g->timeout_ms, &hc)) != 0)
		return rc;
	host_credentials_view(&hc, &cr);
	if ((rc = read_tsk(a.tsk_path, &tsk_buf, &tsk)) != 0)
		goto done;
	req.tsk = tsk;
	req.creds = &cr;
	req.options = (struct enclave_configure_options){ .region = a.region,
	    .key_id = a.key_id, .context_keys = a.context_keys,
	    .context_values = a.context_values, .context_len = a.context_len,
	    .kms_key_id = a.kms_key_id };
	rc = ctl_call(g, "configure", send_configure, &req, 1);
done:
	host_credentials_clear(&hc);
	buf_free(&tsk_buf, 0);
	return rc;
}
