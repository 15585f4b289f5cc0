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
#include "standins/kmstool-dev/options.h"

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
