/*
 * cmd_configure.c - hand the enclave its KMS-encrypted TSK.
 *
 * Credentials come only from the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN): a command line is visible to
 * every user in ps and lands in shell history.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/base64.h"
#include "host/enclavectl/ctl.h"

static const char configure_help[] =
"usage: enclavectl [global options] configure --tsk FILE [--region REGION]\n"
"\n"
"Send the enclave its encrypted TSK: it asks KMS, with its attestation, to\n"
"decrypt it, and keeps the 32-byte key in locked memory. Prints the answer.\n"
"\n"
"  --tsk FILE       the base64 CiphertextBlob (e.g. from aws kms\n"
"                   generate-data-key); - reads standard input; whitespace\n"
"                   around it is ignored\n"
"  --region REGION  the KMS region (default: the daemon's own)\n"
"  --help           print this help\n"
"\n"
"The AWS credentials are taken from the environment only: AWS_ACCESS_KEY_ID,\n"
"AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN must all be set.\n";

enum { OPT_TSK = 256, OPT_REGION, OPT_HELP };

static const struct option configure_options[] = {
	{ "tsk", required_argument, NULL, OPT_TSK },
	{ "region", required_argument, NULL, OPT_REGION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct configure_args {
	const char *tsk_path;
	const char *region;
};

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

/* Name every missing variable at once, not one per attempt. */
static int
credentials_from_env(struct enclave_credentials *cr)
{
	static const char *const names[] = { "AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN" };
	const char *v[3];
	char missing[128] = "";
	size_t i;

	for (i = 0; i < 3; i++) {
		v[i] = getenv(names[i]);
		if (v[i] == NULL || v[i][0] == '\0') {
			if (missing[0] != '\0')
				strcat(missing, ", ");
			strcat(missing, names[i]);
		}
	}
	if (missing[0] != '\0')
		return ctl_usage_error("configure", "credentials come from the "
		    "environment; not set: %s", missing);
	cr->access_key_id = v[0];
	cr->secret_access_key = v[1];
	cr->session_token = v[2];
	return 0;
}

/* Our copies are gone once sent; the environment's are wiped here. */
static void
wipe_env_credentials(const struct enclave_credentials *cr)
{
	OPENSSL_cleanse((char *)(uintptr_t)cr->access_key_id,
	    strlen(cr->access_key_id));
	OPENSSL_cleanse((char *)(uintptr_t)cr->secret_access_key,
	    strlen(cr->secret_access_key));
	OPENSSL_cleanse((char *)(uintptr_t)cr->session_token,
	    strlen(cr->session_token));
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

ctl_command_fn cmd_configure;
int
cmd_configure(const struct ctl_global *g, int argc, char **argv)
{
	struct configure_args a;
	struct enclave_credentials cr;
	struct enclave_client *c;
	struct buf tsk_buf = BUF_INIT;
	char *tsk = NULL;
	int rc;

	if ((rc = parse(argc, argv, &a)) >= 0)
		return rc;
	if ((rc = credentials_from_env(&cr)) != 0)
		return rc;
	if ((rc = read_tsk(a.tsk_path, &tsk_buf, &tsk)) != 0)
		goto done;
	if ((c = ctl_connect(g, "configure", &rc)) == NULL)
		goto done;
	rc = enclave_configure(c, tsk, &cr, a.region);
	if (rc < 0)
		rc = ctl_client_failure("configure", c, rc);
	else
		rc = ctl_print_response("configure", c);
	enclave_client_free(c);
done:
	wipe_env_credentials(&cr);
	buf_free(&tsk_buf, 0);
	return rc;
}
