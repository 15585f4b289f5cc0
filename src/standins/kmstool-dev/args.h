/*
 * args.h - kmstool-dev's command line: exactly the real
 * kmstool_enclave_cli's (aws-nitro-enclaves-sdk-c v0.4.4,
 * bin/kmstool-enclave-cli/main.c), from one table (kt_options):
 *
 *   kmstool-dev {decrypt|genkey|genrandom} [--region R] [--proxy-port P]
 *       --aws-access-key-id A --aws-secret-access-key S --aws-session-token T
 *     decrypt    --ciphertext B64 [--key-id ID --encryption-algorithm ALG]
 *     genkey     --key-id ID --key-spec AES-256|AES-128
 *     genrandom  --length 1..1024
 *
 * As the real tool's parser (aws-c-common's aws_cli_getopt_long), a long
 * option matches its name exactly (no abbreviation, no --name=value); any
 * other argument prints usage on stderr and exits 1. The real tool has
 * no --encryption-context. The master key file, which the real tool has
 * no use for, comes from the environment (KMSTOOL_DEV_MASTER_KEY_FILE).
 *
 * The credentials are copied into secret memory and wiped from argv at
 * once, so they stop showing in /proc/PID/cmdline; no message ever
 * quotes an argument that could be one.
 */
#ifndef KMSTOOL_DEV_ARGS_H
#define KMSTOOL_DEV_ARGS_H

#include <stddef.h>

#include "common/secret.h"

enum kt_command {
	KT_CMD_NONE, KT_CMD_DECRYPT, KT_CMD_GENKEY, KT_CMD_GENRANDOM,
};

/* Which commands an option belongs to. */
#define KT_FOR_DECRYPT   (1u << KT_CMD_DECRYPT)
#define KT_FOR_GENKEY    (1u << KT_CMD_GENKEY)
#define KT_FOR_GENRANDOM (1u << KT_CMD_GENRANDOM)
#define KT_FOR_ALL       (KT_FOR_DECRYPT | KT_FOR_GENKEY | KT_FOR_GENRANDOM)

enum kt_option_id {
	KT_OPT_REGION, KT_OPT_PROXY_PORT, KT_OPT_ACCESS_KEY_ID,
	KT_OPT_SECRET_KEY, KT_OPT_SESSION_TOKEN, KT_OPT_CIPHERTEXT,
	KT_OPT_KEY_ID, KT_OPT_ALGORITHM, KT_OPT_KEY_SPEC, KT_OPT_LENGTH,
	KT_OPT_HELP,
};

/* One option of the real tool: the parser and the usage text read it. */
struct kt_option {
	const char       *name;		/* without the leading "--" */
	enum kt_option_id id;
	const char       *arg;		/* the value's name; NULL: no value */
	unsigned          commands;	/* KT_FOR_* */
	const char       *help;
};

extern const struct kt_option kt_options[];
extern const size_t kt_n_options;

#define KT_DEFAULT_REGION     "us-east-1"
#define KT_DEFAULT_PROXY_PORT 8000
#define KT_REGION_MAX         64
#define KT_RANDOM_MAX         1024
/* Longest --ciphertext: base64 of KMS's largest CiphertextBlob (6144). */
#define KT_CIPHERTEXT_B64_MAX 8192

struct kt_args {
	enum kt_command command;
	int             help;		/* --help: print usage, exit 0 */
	const char     *region;
	unsigned        proxy_port;
	/* NUL-terminated copies; the argv originals are wiped. */
	struct secret   access_key_id;
	struct secret   secret_access_key;
	struct secret   session_token;
	const char     *ciphertext;	/* decrypt */
	const char     *key_id;		/* genkey; decrypt (optional) */
	const char     *encryption_algorithm;	/* decrypt, with --key-id */
	size_t          key_len;	/* genkey: 32 or 16 bytes */
	size_t          length;		/* genrandom */
};

/*
 * Parse argv. On a bad argument prints the reason and the usage on stderr
 * and returns -1 (exit 1). argv is modified: credentials are wiped.
 */
int  kt_args_parse(struct kt_args *a, int argc, char **argv);
void kt_args_free(struct kt_args *a);

const char *kt_command_name(enum kt_command c);

#endif
