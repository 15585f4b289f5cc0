/*
 * options.h - the one table of kmstool-dev's options: exactly those of
 * the real kmstool_enclave_cli (aws-nitro-enclaves-sdk-c v0.4.4,
 * bin/kmstool-enclave-cli/main.c). The parser (args.c) accepts what is
 * here and the usage text (usage.c) lists what is here, so the two
 * cannot drift from each other.
 */
#ifndef KMSTOOL_DEV_OPTIONS_H
#define KMSTOOL_DEV_OPTIONS_H

#include <stddef.h>

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

#endif
