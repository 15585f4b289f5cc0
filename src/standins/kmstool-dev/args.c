/*
 * args.c - parsing kmstool-dev's command line (see args.h).
 */
#include "standins/kmstool-dev/args.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/guard.h"
#include "common/number.h"
#include "standins/kmstool-dev/blob.h"
#include "standins/kmstool-dev/usage.h"

enum {
	OPT_REGION = 256, OPT_PROXY_PORT, OPT_ACCESS_KEY_ID, OPT_SECRET_KEY,
	OPT_SESSION_TOKEN, OPT_CIPHERTEXT, OPT_KEY_ID, OPT_ALGORITHM,
	OPT_KEY_SPEC, OPT_LENGTH, OPT_MASTER_KEY_FILE, OPT_HELP, OPT_CONTEXT,
};

static const struct option long_options[] = {
	{ "region", required_argument, NULL, OPT_REGION },
	{ "proxy-port", required_argument, NULL, OPT_PROXY_PORT },
	{ "aws-access-key-id", required_argument, NULL, OPT_ACCESS_KEY_ID },
	{ "aws-secret-access-key", required_argument, NULL, OPT_SECRET_KEY },
	{ "aws-session-token", required_argument, NULL, OPT_SESSION_TOKEN },
	{ "ciphertext", required_argument, NULL, OPT_CIPHERTEXT },
	{ "key-id", required_argument, NULL, OPT_KEY_ID },
	{ "encryption-algorithm", required_argument, NULL, OPT_ALGORITHM },
	{ "encryption-context", required_argument, NULL, OPT_CONTEXT },
	{ "key-spec", required_argument, NULL, OPT_KEY_SPEC },
	{ "length", required_argument, NULL, OPT_LENGTH },
	{ "master-key-file", required_argument, NULL, OPT_MASTER_KEY_FILE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static const char *const algorithms[] = {
	"SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256",
};

static const char *const command_names[] = {
	[KT_CMD_NONE] = "", [KT_CMD_DECRYPT] = "decrypt",
	[KT_CMD_GENKEY] = "genkey", [KT_CMD_GENRANDOM] = "genrandom",
};

/* Log lines name the command; the table keeps names and enum in step. */
const char *
kt_command_name(enum kt_command c)
{
	return command_names[c];
}

/*
 * Every argument error ends here. The message is fixed text plus at most
 * an option name: an argument's value is never echoed, since it could be
 * a credential typed in the wrong place.
 */
static int
bad(const char *what, const char *name)
{
	fprintf(stderr, "kmstool-dev: %s%s\n", what, name != NULL ? name : "");
	kt_usage_short(stderr);
	return -1;
}

/* Regions are logged: lowercase letters, digits and dashes only. */
static int
region_valid(const char *r)
{
	size_t n = strlen(r), i;

	if (n == 0 || n > KT_REGION_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((r[i] >= 'a' && r[i] <= 'z') ||
		    (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
			return 0;
	return 1;
}

/* Copy a credential into secret memory and wipe the argv original. */
static int
take_credential(struct secret *dst, char *arg)
{
	size_t n = strlen(arg);

	secret_free(dst);	/* a repeated option: the last one wins */
	if (secret_alloc(dst, n + 1) < 0)
		return -1;
	memcpy(dst->data, arg, n);
	dst->len = n;		/* the terminator stays, outside len */
	OPENSSL_cleanse(arg, n);
	return 0;
}

/* The command word comes first, as in the real tool. */
static int
parse_command(struct kt_args *a, const char *word)
{
	size_t i;

	for (i = KT_CMD_DECRYPT; i < ARRAY_LEN(command_names); i++)
		if (strcmp(word, command_names[i]) == 0) {
			a->command = (enum kt_command)i;
			return 0;
		}
	return -1;
}

/* One option; -1 after reporting what was wrong. */
static int
take_option(struct kt_args *a, int opt, char *arg)
{
	uint64_t v;
	size_t i;

	switch (opt) {
	case OPT_REGION:
		if (!region_valid(arg))
			return bad("bad --region: expected e.g. us-east-1", NULL);
		a->region = arg;
		return 0;
	case OPT_PROXY_PORT:
		if (number_parse(arg, 1, 65535, &v) < 0)
			return bad("bad --proxy-port: expected 1..65535", NULL);
		a->proxy_port = (unsigned)v;
		return 0;
	case OPT_ACCESS_KEY_ID:
		return take_credential(&a->access_key_id, arg);
	case OPT_SECRET_KEY:
		return take_credential(&a->secret_access_key, arg);
	case OPT_SESSION_TOKEN:
		return take_credential(&a->session_token, arg);
	case OPT_CIPHERTEXT:
		a->ciphertext = arg;
		return 0;
	case OPT_KEY_ID:
		if (!kt_key_id_valid(arg, strlen(arg)))
			return bad("bad --key-id: 1..255 printable characters, "
			    "no spaces", NULL);
		a->key_id = arg;
		return 0;
	case OPT_ALGORITHM:
		for (i = 0; i < ARRAY_LEN(algorithms); i++)
			if (strcmp(arg, algorithms[i]) == 0) {
				a->encryption_algorithm = algorithms[i];
				return 0;
			}
		return bad("bad --encryption-algorithm: SYMMETRIC_DEFAULT, "
		    "RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256", NULL);
	case OPT_CONTEXT:
		if (!kt_context_arg_valid(arg))
			return bad("bad --encryption-context: expected KEY=VALUE",
			    NULL);
		if (a->n_context == KT_CONTEXT_PAIRS_MAX)
			return bad("too many --encryption-context pairs", NULL);
		for (i = 0; i < a->n_context; i++)
			if (kt_context_same_key(a->context[i], arg))
				return bad("--encryption-context names a key "
				    "twice", NULL);
		a->context[a->n_context++] = arg;
		return 0;
	case OPT_KEY_SPEC:
		if (strcmp(arg, "AES-256") == 0)
			a->key_len = 32;
		else if (strcmp(arg, "AES-128") == 0)
			a->key_len = 16;
		else
			return bad("bad --key-spec: AES-256 or AES-128", NULL);
		return 0;
	case OPT_LENGTH:
		if (number_parse(arg, 1, KT_RANDOM_MAX, &v) < 0)
			return bad("bad --length: expected 1..1024", NULL);
		a->length = (size_t)v;
		return 0;
	case OPT_MASTER_KEY_FILE:
		a->master_key_file = arg;
		return 0;
	case OPT_HELP:
		a->help = 1;
		return 0;
	default:
		return -1;
	}
}

/*
 * The name of an unknown long option, cut at '=' so no value comes with it;
 * anything else might be a stray value, so it is not quoted at all.
 */
static int
bad_option(const char *arg)
{
	char name[64];
	size_t n = strcspn(arg, "=");

	if (strncmp(arg, "--", 2) != 0)
		return bad("unknown option or missing value", NULL);

	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, arg, n);
	name[n] = '\0';
	return bad("unknown option or missing value: ", name);
}

/* Which options each command takes, checked once everything is read. */
static int
check_command(const struct kt_args *a)
{
	if (a->command == KT_CMD_NONE)
		return bad("a command is required: decrypt, genkey or "
		    "genrandom", NULL);
	if (a->access_key_id.data == NULL || a->access_key_id.len == 0)
		return bad("--aws-access-key-id must be set", NULL);
	if (a->secret_access_key.data == NULL || a->secret_access_key.len == 0)
		return bad("--aws-secret-access-key must be set", NULL);
	if (a->session_token.data == NULL || a->session_token.len == 0)
		return bad("--aws-session-token must be set", NULL);
	switch (a->command) {
	case KT_CMD_DECRYPT:
		if (a->ciphertext == NULL || a->ciphertext[0] == '\0')
			return bad("--ciphertext must be set", NULL);
		if (a->key_len != 0 || a->length != 0)
			return bad("decrypt takes neither --key-spec nor --length",
			    NULL);
		return 0;
	case KT_CMD_GENKEY:
		if (a->key_id == NULL)
			return bad("--key-id must be set", NULL);
		if (a->key_len == 0)
			return bad("--key-spec must be set", NULL);
		if (a->ciphertext != NULL || a->encryption_algorithm != NULL ||
		    a->length != 0)
			return bad("genkey takes only --key-id, --key-spec and "
			    "--encryption-context", NULL);
		return 0;
	case KT_CMD_GENRANDOM:
		if (a->length == 0)
			return bad("--length must be set", NULL);
		if (a->ciphertext != NULL || a->key_id != NULL ||
		    a->encryption_algorithm != NULL || a->key_len != 0 ||
		    a->n_context != 0)
			return bad("genrandom takes only --length", NULL);
		return 0;
	case KT_CMD_NONE:
		break;
	}
	return -1;
}

/*
 * getopt_long does the work; the checks that depend on the command wait
 * until every option is read, so options may come in any order.
 */
int
kt_args_parse(struct kt_args *a, int argc, char **argv)
{
	int opt, i;

	memset(a, 0, sizeof(*a));
	a->region = KT_DEFAULT_REGION;
	a->proxy_port = KT_DEFAULT_PROXY_PORT;
	if (argc >= 2 && argv[1][0] != '-' && parse_command(a, argv[1]) < 0)
		return bad("unknown command (decrypt, genkey or genrandom)",
		    NULL);
	/* getopt sees the command word as its argv[0]. */
	i = a->command != KT_CMD_NONE ? 1 : 0;
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc - i, argv + i, "", long_options,
	    NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return bad_option(argv[i + optind - 1]);
		GUARD(take_option(a, opt, optarg));
	}
	if (a->help)
		return 0;
	if (optind < argc - i)
		return bad("unexpected argument (not an option)", NULL);
	return check_command(a);
}

/* Only the credentials were copied; everything else points into argv. */
void
kt_args_free(struct kt_args *a)
{
	secret_free(&a->access_key_id);
	secret_free(&a->secret_access_key);
	secret_free(&a->session_token);
}
