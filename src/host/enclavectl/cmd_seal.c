/*
 * cmd_seal.c - the data owner's tools: seal and open, no daemon involved.
 *
 * They produce and read exactly what the enclave takes and gives back:
 * hex of nonce(12) || ct || tag(16), AES-256-GCM (common/aead.h), the
 * layout of `nonce + AESGCM(key).encrypt(nonce, data, aad)` in Python.
 * With --direction, the aad carries the direction label a daemon run with
 * --bind-direction expects (common/direction.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/aead.h"
#include "common/direction.h"
#include "common/hex.h"
#include "host/enclavectl/ctl.h"

static const char seal_help[] =
"usage: enclavectl seal --key-file K [--aad S] [--direction D] [--in FILE]\n"
"                       [--out FILE]\n"
"\n"
"Encrypt plaintext under the data owner's key (AES-256-GCM, a fresh random\n"
"nonce) and print hex of nonce || ciphertext || tag and a newline: the\n"
"input `process` takes. No daemon is involved.\n"
"\n"
"  --key-file K  the 32-byte key as base64 or 64 hex characters (whitespace\n"
"                around ignored), or a file of exactly 32 raw bytes; a\n"
"                32-byte file that is all text is refused as ambiguous\n"
"  --aad S       associated data (the same must be given to open/process)\n"
"  --direction D request or result: for a daemon run with --bind-direction,\n"
"                seal under \"D\\0\" + aad (an input for it: request)\n"
"  --in FILE     plaintext (default: standard input)\n"
"  --out FILE    where the hex goes (default: standard output)\n"
"  --help        print this help\n";

static const char open_help[] =
"usage: enclavectl open --key-file K [--aad S] [--direction D] [--in FILE]\n"
"                       [--out FILE]\n"
"\n"
"Decrypt hex of nonce || ciphertext || tag (from seal or from the enclave)\n"
"and write the plaintext, as it is, with no newline added. Exit status 1\n"
"when the data is not authentic (wrong key, wrong aad, or tampered).\n"
"No daemon is involved.\n"
"\n"
"  --key-file K  the 32-byte key as base64 or 64 hex characters (whitespace\n"
"                around ignored), or a file of exactly 32 raw bytes; a\n"
"                32-byte file that is all text is refused as ambiguous\n"
"  --aad S       the associated data it was sealed with\n"
"  --direction D request or result: for a daemon run with --bind-direction,\n"
"                open under \"D\\0\" + aad (its answer: result)\n"
"  --in FILE     the hex (default: standard input); whitespace around it\n"
"                is ignored\n"
"  --out FILE    where the plaintext goes (default: standard output; a new\n"
"                file is created with mode 0600)\n"
"  --help        print this help\n";

enum { OPT_KEY_FILE = 256, OPT_AAD, OPT_DIRECTION, OPT_IN, OPT_OUT, OPT_HELP };

static const struct option seal_options[] = {
	{ "key-file", required_argument, NULL, OPT_KEY_FILE },
	{ "aad", required_argument, NULL, OPT_AAD },
	{ "direction", required_argument, NULL, OPT_DIRECTION },
	{ "in", required_argument, NULL, OPT_IN },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct seal_args {
	const char *key_file;
	const char *aad;
	size_t      aad_len;
	int         directed;	/* --direction given */
	enum direction direction;
	const char *in;
	const char *out;
};

/* seal and open take the same options. */
static int
parse(const char *cmd, const char *help, int argc, char **argv,
    struct seal_args *a)
{
	int opt;

	memset(a, 0, sizeof(*a));
	ctl_getopt_reset();
	while ((opt = ctl_getopt(cmd, argc, argv, seal_options)) != -1) {
		switch (opt) {
		case OPT_KEY_FILE:
			a->key_file = optarg;
			break;
		case OPT_AAD:
			a->aad = optarg;
			a->aad_len = strlen(optarg);
			break;
		case OPT_DIRECTION:
			if (direction_parse(optarg, &a->direction) < 0)
				return ctl_usage_error(cmd, "--direction takes "
				    "request or result, not '%s'", optarg);
			a->directed = 1;
			break;
		case OPT_IN:
			a->in = optarg;
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

/*
 * The associated data: --aad as given, or with --direction its label in
 * front, built in `bound`. -1 when out of memory (reported).
 */
static int
effective_aad(const char *cmd, const struct seal_args *a, struct buf *bound,
    struct slice *aad)
{
	*aad = (struct slice){ (const uint8_t *)a->aad, a->aad_len };
	if (!a->directed)
		return 0;
	if (direction_bind_aad(bound, a->direction, aad->data, aad->len) < 0) {
		ctl_error(cmd, "out of memory");
		return -1;
	}
	*aad = (struct slice){ bound->data, bound->len };
	return 0;
}

static int
write_output(const char *cmd, const char *path, int mode, const void *data,
    size_t len)
{
	int fd, rc = CTL_EXIT_OK;

	if ((fd = ctl_output_open(cmd, path, mode)) < 0)
		return CTL_EXIT_USAGE;
	if (ctl_write_all(cmd, fd, data, len) < 0)
		rc = CTL_EXIT_USAGE;
	if (ctl_output_close(cmd, fd) < 0)
		rc = CTL_EXIT_USAGE;
	return rc;
}

/* Sealed bytes and their hex (with the newline) for n bytes of plaintext. */
static int
seal_sizes(size_t n, size_t *ct_len, size_t *hex_len)
{
	if (size_add(n, AEAD_OVERHEAD, ct_len) < 0 ||
	    size_mul(*ct_len, 2, hex_len) < 0 ||
	    size_add(*hex_len, 1, hex_len) < 0)
		return -1;
	return 0;
}

ctl_command_fn cmd_seal;
int
cmd_seal(const struct ctl_global *g, int argc, char **argv)
{
	struct seal_args a;
	struct secret key = SECRET_INIT;
	struct buf pt = BUF_INIT, bound = BUF_INIT;
	struct slice aad;
	uint8_t *ct = NULL;
	char *hex = NULL;
	size_t ct_len, hex_len;
	int rc;

	(void)g;
	if ((rc = parse("seal", seal_help, argc, argv, &a)) >= 0)
		return rc;
	rc = CTL_EXIT_USAGE;
	if (ctl_load_key("seal", a.key_file, &key) < 0 ||
	    ctl_read_input("seal", a.in, CTL_MAX_SEAL_INPUT, &pt) < 0 ||
	    effective_aad("seal", &a, &bound, &aad) < 0)
		goto done;
	if (seal_sizes(pt.len, &ct_len, &hex_len) < 0 ||
	    (ct = malloc(ct_len)) == NULL || (hex = malloc(hex_len)) == NULL) {
		ctl_error("seal", "out of memory");
		goto done;
	}
	if (aead_seal(key.data, aad.data, aad.len, pt.data, pt.len, ct) < 0) {
		ctl_error("seal", "encryption failed");
		goto done;
	}
	hex_encode(hex, ct, ct_len);
	hex[hex_len - 1] = '\n';
	rc = write_output("seal", a.out, 0644, hex, hex_len);
done:
	secret_free(&key);
	buf_free(&pt, 1);
	buf_free(&bound, 0);
	free(ct);
	free(hex);
	return rc;
}

ctl_command_fn cmd_open;
int
cmd_open(const struct ctl_global *g, int argc, char **argv)
{
	struct seal_args a;
	struct secret key = SECRET_INIT;
	struct buf in = BUF_INIT, bound = BUF_INIT;
	struct slice aad;
	size_t start = 0, end, n;
	int rc;

	(void)g;
	if ((rc = parse("open", open_help, argc, argv, &a)) >= 0)
		return rc;
	rc = CTL_EXIT_USAGE;
	if (ctl_load_key("open", a.key_file, &key) < 0 ||
	    ctl_read_input("open", a.in, 2 * CTL_MAX_SEAL_INPUT, &in) < 0 ||
	    effective_aad("open", &a, &bound, &aad) < 0)
		goto done;
	end = in.len;
	ctl_trim(in.data, &start, &end);
	/* Decode in place: byte i lands before hex character 2i is needed. */
	if (!ctl_is_hex(in.data + start, end - start) ||
	    hex_decode(in.data, (const char *)in.data + start, end - start) < 0) {
		ctl_error("open", "the input is not hex (an even number of "
		    "0-9a-f characters)");
		goto done;
	}
	n = (end - start) / 2;
	if (n < AEAD_OVERHEAD) {
		ctl_error("open", "the input is %zu bytes, shorter than a nonce "
		    "and a tag (%d)", n, AEAD_OVERHEAD);
		goto done;
	}
	/* The plaintext is written over the ciphertext, at in.data + 12. */
	if (aead_open(key.data, aad.data, aad.len, in.data, n,
	    in.data + AEAD_NONCE_LEN) < 0) {
		ctl_error("open", "authentication failed: wrong key, wrong aad, "
		    "or tampered data");
		rc = CTL_EXIT_REMOTE;
		goto done;
	}
	rc = write_output("open", a.out, 0600, in.data + AEAD_NONCE_LEN,
	    n - AEAD_OVERHEAD);
done:
	secret_free(&key);
	buf_free(&in, 1);
	buf_free(&bound, 0);
	return rc;
}
