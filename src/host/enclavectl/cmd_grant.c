/*
 * cmd_grant.c - permission to re-encrypt, made by the two key holders:
 * `grant` releases data under the input key to a result key (and, given
 * that key's file too, accepts it at once), `grant --accept` is the
 * result key holder's half, and `commitment` prints a key's public name
 * so its holder can be named in a grant without handing the key over.
 *
 * The enclave seals a result under a key other than the one that opened
 * the input only with a grant both halves are in (common/grant.h,
 * docs/protocol.md). No daemon is involved.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/grant.h"
#include "common/hex.h"
#include "common/number.h"
#include "host/enclavectl/ctl.h"

/* How long a grant lives by default, and at most: an hour, a year. */
#define GRANT_DEFAULT_SECONDS 3600
#define GRANT_MAX_SECONDS     (366ULL * 24 * 3600)

static const char grant_help[] =
"usage: enclavectl grant --key-file K (--result-key-file K2 | --result-commitment HEX)\n"
"                        [--valid-for SECONDS | --expires-at TIME] [--out FILE]\n"
"       enclavectl grant --accept GRANT --key-file K2 [--out FILE]\n"
"\n"
"Allow the enclave to seal the results of data under key K with key K2\n"
"(process --key-id A --result-key-id B --grant HEX): rotation to a new key,\n"
"or a release to a downstream party. A grant needs both holders: the holder\n"
"of K releases the data, the holder of K2 accepts it; without a complete\n"
"grant the enclave refuses to seal under any other key. With both key files\n"
"(rotation) one command makes it. Otherwise the holder of K2 sends its\n"
"commitment, the holder of K makes the grant with --result-commitment, and\n"
"the holder of K2 completes it with --accept. Prints the grant (274 hex\n"
"characters) and a newline; it is not secret. No daemon is involved.\n"
"\n"
"  --key-file K            your key: the input's, or with --accept the\n"
"                          result's (base64, 64 hex characters, or 32 raw\n"
"                          bytes not all text)\n"
"  --result-key-file K2    the key results may be sealed under: accepted too\n"
"  --result-commitment HEX that key's commitment, from its holder's\n"
"                          `enclavectl commitment --key-file K2`: released\n"
"                          only, to be completed with --accept\n"
"  --accept GRANT          accept a released grant with the result key\n"
"                          (--key-file); prints the complete grant\n"
"  --valid-for SECONDS     how long the grant holds (default 3600, at most\n"
"                          366 days)\n"
"  --expires-at TIME       when it stops holding: 2026-12-31T00:00:00Z or Unix\n"
"                          seconds (the enclave's clock decides)\n"
"  --out FILE              where the grant goes (default: standard output)\n"
"  --help                  print this help\n";

static const char commitment_help[] =
"usage: enclavectl commitment --key-file K [--out FILE]\n"
"\n"
"Print the commitment of key K: 64 hex characters that name the key\n"
"without revealing it (HMAC-SHA256 of a fixed label under the key). Give it\n"
"to the holder of an input key, who releases data to your key with\n"
"`enclavectl grant --result-commitment`; you complete that grant with\n"
"`enclavectl grant --accept`. No daemon is involved.\n"
"\n"
"  --key-file K  the key (base64, 64 hex characters, or 32 raw bytes not\n"
"                all text)\n"
"  --out FILE    where the commitment goes (default: standard output)\n"
"  --help        print this help\n";

enum { OPT_KEY_FILE = 256, OPT_RESULT_KEY_FILE, OPT_RESULT_COMMITMENT,
	OPT_VALID_FOR, OPT_EXPIRES_AT, OPT_OUT, OPT_HELP, OPT_ACCEPT };

static const struct option grant_options[] = {
	{ "key-file", required_argument, NULL, OPT_KEY_FILE },
	{ "result-key-file", required_argument, NULL, OPT_RESULT_KEY_FILE },
	{ "result-commitment", required_argument, NULL, OPT_RESULT_COMMITMENT },
	{ "valid-for", required_argument, NULL, OPT_VALID_FOR },
	{ "expires-at", required_argument, NULL, OPT_EXPIRES_AT },
	{ "accept", required_argument, NULL, OPT_ACCEPT },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static const struct option commitment_options[] = {
	{ "key-file", required_argument, NULL, OPT_KEY_FILE },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct grant_args {
	const char *key_file;
	const char *result_key_file;
	const char *result_commitment;
	const char *valid_for;
	const char *expires_at;
	const char *accept;
	const char *out;
};

static int
parse(const char *cmd, const char *help, const struct option *options,
    int argc, char **argv, struct grant_args *a)
{
	int opt;

	memset(a, 0, sizeof(*a));
	ctl_getopt_reset();
	while ((opt = ctl_getopt(cmd, argc, argv, options)) != -1) {
		switch (opt) {
		case OPT_KEY_FILE:
			a->key_file = optarg;
			break;
		case OPT_RESULT_KEY_FILE:
			a->result_key_file = optarg;
			break;
		case OPT_RESULT_COMMITMENT:
			a->result_commitment = optarg;
			break;
		case OPT_VALID_FOR:
			a->valid_for = optarg;
			break;
		case OPT_EXPIRES_AT:
			a->expires_at = optarg;
			break;
		case OPT_ACCEPT:
			a->accept = optarg;
			break;
		case OPT_OUT:
			a->out = optarg;
			break;
		case 'h':
		case OPT_HELP:
			fputs(help, stdout);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (ctl_no_operands(cmd, argc, argv) != 0)
		return CTL_EXIT_USAGE;
	if (a->key_file == NULL)
		return ctl_usage_error(cmd, "--key-file K is required");
	return -1;
}

/* The commitment of the key in `path`. */
static int
commitment_of_file(const char *cmd, const char *path,
    uint8_t out[GRANT_COMMITMENT_LEN])
{
	struct secret key = SECRET_INIT;
	int rc = -1;

	if (ctl_load_key(cmd, path, &key) < 0)
		return -1;
	if (grant_commitment(key.data, out) < 0)
		ctl_error(cmd, "cannot compute the key's commitment");
	else
		rc = 0;
	secret_free(&key);
	return rc;
}

/* The result key's commitment: from its file, or as its holder gave it. */
static int
result_commitment(const struct grant_args *a,
    uint8_t out[GRANT_COMMITMENT_LEN])
{
	const char *hex = a->result_commitment;

	if ((a->result_key_file == NULL) == (hex == NULL))
		return ctl_usage_error("grant", "give one of --result-key-file "
		    "and --result-commitment");
	if (a->result_key_file != NULL)
		return commitment_of_file("grant", a->result_key_file, out) < 0 ?
		    CTL_EXIT_USAGE : 0;
	if (strlen(hex) != 2 * GRANT_COMMITMENT_LEN ||
	    ctl_hex_arg(hex, out, GRANT_COMMITMENT_LEN, NULL) < 0)
		return ctl_usage_error("grant", "--result-commitment takes %d hex "
		    "characters (enclavectl commitment prints them)",
		    2 * GRANT_COMMITMENT_LEN);
	return 0;
}

/* The grant's expiry in Unix seconds, from --valid-for or --expires-at. */
static int
expiry(const struct grant_args *a, uint64_t *out)
{
	struct reason why = { .text = "" };
	time_t now = time(NULL), at;
	uint64_t seconds = GRANT_DEFAULT_SECONDS;

	if (a->valid_for != NULL && a->expires_at != NULL)
		return ctl_usage_error("grant", "give --valid-for or "
		    "--expires-at, not both");
	if (a->expires_at != NULL) {
		if (ctl_parse_time(a->expires_at, &at) < 0 || at <= 0)
			return ctl_usage_error("grant", "--expires-at: '%s' is not "
			    "a time (2026-12-31T00:00:00Z or Unix seconds)",
			    a->expires_at);
		if (at <= now || (uint64_t)(at - now) > GRANT_MAX_SECONDS)
			return ctl_usage_error("grant", "--expires-at must lie "
			    "in the future, at most 366 days from now");
		*out = (uint64_t)at;
		return 0;
	}
	if (a->valid_for != NULL && number_option("--valid-for", a->valid_for,
	    1, GRANT_MAX_SECONDS, &seconds, &why) < 0)
		return ctl_usage_error("grant", "%s", why.text);
	*out = (uint64_t)now + seconds;
	return 0;
}

/* Write n bytes as hex and a newline to the output. */
static int
write_hex(const char *cmd, const char *path, const uint8_t *bytes, size_t n)
{
	char hex[2 * GRANT_LEN + 1];
	int fd, rc = CTL_EXIT_OK;

	hex_encode(hex, bytes, n);
	hex[2 * n] = '\n';
	if ((fd = ctl_output_open(cmd, path, 0644)) < 0)
		return CTL_EXIT_USAGE;
	if (ctl_write_all(cmd, fd, hex, 2 * n + 1) < 0)
		rc = CTL_EXIT_USAGE;
	if (ctl_output_close(cmd, fd) < 0)
		rc = CTL_EXIT_USAGE;
	return rc;
}

/* --accept: the result key holder completes a released grant. */
static int
accept_grant(const struct grant_args *a)
{
	struct reason why = { .text = "" };
	struct secret key = SECRET_INIT;
	uint8_t grant[GRANT_LEN];
	size_t n = strlen(a->accept);
	int rc;

	if (a->result_key_file != NULL || a->result_commitment != NULL ||
	    a->valid_for != NULL || a->expires_at != NULL)
		return ctl_usage_error("grant", "--accept takes only --key-file "
		    "(the result key) and --out: the rest is in the grant");
	if (n != GRANT_HEX_LEN || ctl_hex_arg(a->accept, grant, GRANT_LEN,
	    NULL) < 0)
		return ctl_usage_error("grant", "--accept takes a grant of %d hex "
		    "characters", GRANT_HEX_LEN);
	if (ctl_load_key("grant", a->key_file, &key) < 0)
		return CTL_EXIT_USAGE;
	rc = grant_accept(key.data, grant, &why);
	secret_free(&key);
	if (rc < 0)
		return ctl_usage_error("grant", "cannot accept: %s", why.text);
	return write_hex("grant", a->out, grant, sizeof(grant));
}

/* Release with the input key; accept too when the result key is at hand. */
static int
make_grant(const struct grant_args *a, const uint8_t *commitment,
    uint64_t expires_at, uint8_t grant[GRANT_LEN])
{
	struct reason why = { .text = "" };
	struct secret key = SECRET_INIT;
	int rc;

	if (ctl_load_key("grant", a->key_file, &key) < 0)
		return CTL_EXIT_USAGE;
	rc = grant_release(key.data, commitment, expires_at, grant);
	secret_free(&key);
	if (rc == 0 && a->result_key_file != NULL) {
		if (ctl_load_key("grant", a->result_key_file, &key) < 0)
			return CTL_EXIT_USAGE;
		rc = grant_accept(key.data, grant, &why);
		secret_free(&key);
	}
	if (rc < 0) {
		ctl_error("grant", "cannot make the grant%s%s",
		    why.text[0] ? ": " : "", why.text);
		return CTL_EXIT_USAGE;
	}
	if (a->result_key_file == NULL)
		fprintf(stderr, "enclavectl grant: released; the result key's "
		    "holder completes it with: enclavectl grant --accept GRANT "
		    "--key-file THEIR_KEY\n");
	return 0;
}

ctl_command_fn cmd_grant;
int
cmd_grant(const struct ctl_global *g, int argc, char **argv)
{
	struct grant_args a;
	uint8_t commitment[GRANT_COMMITMENT_LEN], grant[GRANT_LEN];
	uint64_t expires_at = 0;
	int rc;

	(void)g;
	if ((rc = parse("grant", grant_help, grant_options, argc, argv,
	    &a)) >= 0)
		return rc;
	if (a.accept != NULL)
		return accept_grant(&a);
	if ((rc = result_commitment(&a, commitment)) != 0 ||
	    (rc = expiry(&a, &expires_at)) != 0 ||
	    (rc = make_grant(&a, commitment, expires_at, grant)) != 0)
		return rc;
	return write_hex("grant", a.out, grant, sizeof(grant));
}

ctl_command_fn cmd_commitment;
int
cmd_commitment(const struct ctl_global *g, int argc, char **argv)
{
	struct grant_args a;
	uint8_t commitment[GRANT_COMMITMENT_LEN];
	int rc;

	(void)g;
	if ((rc = parse("commitment", commitment_help, commitment_options, argc,
	    argv, &a)) >= 0)
		return rc;
	if (commitment_of_file("commitment", a.key_file, commitment) < 0)
		return CTL_EXIT_USAGE;
	return write_hex("commitment", a.out, commitment, sizeof(commitment));
}
