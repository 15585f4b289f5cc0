/*
 * args.h - kmstool-dev's command line, the real kmstool_enclave_cli's:
 *
 *   kmstool-dev {decrypt|genkey|genrandom} --region R --proxy-port P
 *       --aws-access-key-id A --aws-secret-access-key S --aws-session-token T
 *     decrypt    --ciphertext B64 [--key-id ID [--encryption-algorithm ALG]]
 *                [--encryption-context KEY=VALUE]...
 *     genkey     --key-id ID --key-spec AES-256|AES-128
 *                [--encryption-context KEY=VALUE]...
 *     genrandom  --length 1..1024
 *   plus --master-key-file F, which the real tool does not have.
 *
 * The credentials are copied into secret memory and wiped from argv at
 * once, so they stop showing in /proc/PID/cmdline; no message ever
 * quotes an argument that could be one.
 */
#ifndef KMSTOOL_DEV_ARGS_H
#define KMSTOOL_DEV_ARGS_H

#include <stddef.h>

#include "common/secret.h"
#include "standins/kmstool-dev/context.h"

enum kt_command {
	KT_CMD_NONE, KT_CMD_DECRYPT, KT_CMD_GENKEY, KT_CMD_GENRANDOM,
};

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
	const char     *encryption_algorithm;	/* decrypt (optional) */
	/* KEY=VALUE, decrypt and genkey (optional; context.h) */
	const char     *context[KT_CONTEXT_PAIRS_MAX];
	size_t          n_context;
	size_t          key_len;	/* genkey: 32 or 16 bytes */
	size_t          length;		/* genrandom */
	const char     *master_key_file;
};

/*
 * Parse argv. On a bad argument prints the reason and a hint on stderr and
 * returns -1 (exit 1). argv is modified: credentials are wiped.
 */
int  kt_args_parse(struct kt_args *a, int argc, char **argv);
void kt_args_free(struct kt_args *a);

const char *kt_command_name(enum kt_command c);

#endif
