/*
 * args.c - parsing kmstool-dev's command line (see args.h).
 */
#include "standins/kmstool-dev/args.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/guard.h"
#include "common/number.h"
#include "standins/kmstool-dev/blob.h"
#include "standins/kmstool-dev/usage.h"

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
 * Every argument error ends here: the reason, then the usage on stderr,
 * exit 1, as the real tool does. The message is fixed text plus at most
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

/* One option's value; -1 after reporting what was wrong. */
static int
take_option(struct kt_args *a, enum kt_option_id id, char *arg)
{
	uint64_t v;
	size_t i;

	switch (id) {
	case KT_OPT_REGION:
		if (!region_valid(arg))
			return bad("bad --region: expected e.g. us-east-1", NULL);
		a->region = arg;
		return 0;
	case KT_OPT_PROXY_PORT:
		if (number_parse(arg, 1, 65535, &v) < 0)
			return bad("bad --proxy-port: expected 1..65535", NULL);
		a->proxy_port = (unsigned)v;
		return 0;
	case KT_OPT_ACCESS_KEY_ID:
		return take_credential(&a->access_key_id, arg);
	case KT_OPT_SECRET_KEY:
		return take_credential(&a->secret_access_key, arg);
	case KT_OPT_SESSION_TOKEN:
		return take_credential(&a->session_token, arg);
	case KT_OPT_CIPHERTEXT:
		a->ciphertext = arg;
		return 0;
	case KT_OPT_KEY_ID:
		if (!kt_key_id_valid(arg, strlen(arg)))
			return bad("bad --key-id: 1..255 printable characters, "
			    "no spaces", NULL);
		a->key_id = arg;
		return 0;
	case KT_OPT_ALGORITHM:
		for (i = 0; i < ARRAY_LEN(algorithms); i++)
			if (strcmp(arg, algorithms[i]) == 0) {
				a->encryption_algorithm = algorithms[i];
				return 0;
			}
		return bad("bad --encryption-algorithm: SYMMETRIC_DEFAULT, "
		    "RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256", NULL);
	case KT_OPT_KEY_SPEC:
		if (strcmp(arg, "AES-256") == 0)
			a->key_len = 32;
		else if (strcmp(arg, "AES-128") == 0)
			a->key_len = 16;
		else
			return bad("bad --key-spec: AES-256 or AES-128", NULL);
		return 0;
	case KT_OPT_LENGTH:
		if (number_parse(arg, 1, KT_RANDOM_MAX, &v) < 0)
			return bad("bad --length: expected 1..1024", NULL);
		a->length = (size_t)v;
		return 0;
	case KT_OPT_HELP:
		a->help = 1;
		return 0;
	}
	return -1;
}

/*
 * The table's row for `arg`, matched as the real tool matches: the whole
 * name after "--", nothing more, nothing less.
 */
static const struct kt_option *
find_option(const char *arg)
{
	size_t i;

	if (strncmp(arg, "--", 2) != 0)
		return NULL;
	for (i = 0; i < kt_n_options; i++)
		if (strcmp(arg + 2, kt_options[i].name) == 0)
			return &kt_options[i];
	return NULL;
}

/*
 * The name of an unknown long option, cut at '=' so no value comes with
 * it; anything else might be a stray value, so it is not quoted at all.
 */
static int
bad_option(const char *arg)
{
	char name[64];
	size_t n = strcspn(arg, "=");

	if (strncmp(arg, "--", 2) != 0)
		return bad("unknown option or unexpected argument", NULL);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, arg, n);
	name[n] = '\0';
	return bad("unknown option: ", name);
}

/* What each command needs, checked once everything is read. */
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
		/* The real tool's own rule. */
		if (a->key_id != NULL && a->encryption_algorithm == NULL)
			return bad("--encryption-algorithm must be set if "
			    "key-id exists", NULL);
		return 0;
	case KT_CMD_GENKEY:
		if (a->key_id == NULL)
			return bad("--key-id must be set", NULL);
		if (a->key_len == 0)
			return bad("--key-spec must be set", NULL);
		return 0;
	case KT_CMD_GENRANDOM:
		if (a->length == 0)
			return bad("--length must be set", NULL);
		return 0;
	case KT_CMD_NONE:
		break;
	}
	return -1;
}

/*
 * One pass over argv against the table; the checks that depend on the
 * command wait until every option is read, so options may come in any
 * order.
 */
int
kt_args_parse(struct kt_args *a, int argc, char **argv)
{
	const struct kt_option *o;
	int i = 1;

	memset(a, 0, sizeof(*a));
	a->region = KT_DEFAULT_REGION;
	a->proxy_port = KT_DEFAULT_PROXY_PORT;
	if (argc >= 2 && argv[1][0] != '-') {
		if (parse_command(a, argv[1]) < 0)
			return bad("unknown command (decrypt, genkey or "
			    "genrandom)", NULL);
		i = 2;
	}
	for (; i < argc; i++) {
		if ((o = find_option(argv[i])) == NULL)
			return bad_option(argv[i]);
		if (o->id != KT_OPT_HELP && a->command != KT_CMD_NONE &&
		    (o->commands & (1u << a->command)) == 0)
			return bad("not an option of this command: ",
			    argv[i]);
		if (o->arg != NULL && i + 1 >= argc)
			return bad("missing value of ", argv[i]);
		GUARD(take_option(a, o->id, o->arg != NULL ? argv[++i] : NULL));
	}
	if (a->help)
		return 0;
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
