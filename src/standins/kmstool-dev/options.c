/*
 * options.c - the option table (see options.h).
 */
#include "standins/kmstool-dev/options.h"

#include "common/guard.h"

/*
 * Every option the real tool has, and no other: the parser accepts what
 * is here and the usage text lists what is here, so the two cannot drift.
 */
const struct kt_option kt_options[] = {
	{ "region", KT_OPT_REGION, "REGION", KT_FOR_ALL,
	  "AWS region to use for KMS (default us-east-1; only logged)" },
	{ "proxy-port", KT_OPT_PROXY_PORT, "PORT", KT_FOR_ALL,
	  "connect to the KMS proxy on PORT (default 8000; only logged)" },
	{ "aws-access-key-id", KT_OPT_ACCESS_KEY_ID, "ID", KT_FOR_ALL,
	  "required; never printed" },
	{ "aws-secret-access-key", KT_OPT_SECRET_KEY, "KEY", KT_FOR_ALL,
	  "required; never printed" },
	{ "aws-session-token", KT_OPT_SESSION_TOKEN, "TOKEN", KT_FOR_ALL,
	  "required; never printed" },
	{ "ciphertext", KT_OPT_CIPHERTEXT, "B64", KT_FOR_DECRYPT,
	  "decrypt: a blob from `kmstool-dev genkey` (required)" },
	{ "key-id", KT_OPT_KEY_ID, "ID", KT_FOR_DECRYPT | KT_FOR_GENKEY,
	  "genkey: the key to seal under (required); decrypt: the key the "
	  "blob must be from (with --encryption-algorithm)" },
	{ "encryption-algorithm", KT_OPT_ALGORITHM, "ALG", KT_FOR_DECRYPT,
	  "decrypt: SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1 or "
	  "RSAES_OAEP_SHA_256 (required with --key-id)" },
	{ "key-spec", KT_OPT_KEY_SPEC, "SPEC", KT_FOR_GENKEY,
	  "genkey: AES-256 or AES-128 (required)" },
	{ "length", KT_OPT_LENGTH, "N", KT_FOR_GENRANDOM,
	  "genrandom: 1..1024 bytes (required)" },
	{ "help", KT_OPT_HELP, NULL, KT_FOR_ALL,
	  "print this help and exit 0" },
};
const size_t kt_n_options = ARRAY_LEN(kt_options);
