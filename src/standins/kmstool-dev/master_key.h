/*
 * master_key.h - the key kmstool-dev seals data keys under (KMS's role).
 *
 * The daemon runs the KMS tool without a shell and with an empty
 * environment, and with only the real tool's options, so through the
 * daemon the key is always the default: a BUILT-IN, PUBLICLY KNOWN,
 * INSECURE development key, SHA-256 of KT_DEV_MASTER_LABEL. Anyone can
 * open a blob made with it. It exists so demos and tests work with no
 * setup; never protect real data with it. Run by hand, the file named by
 * KMSTOOL_DEV_MASTER_KEY_FILE supplies another key (the real tool has no
 * option for it, so neither has kmstool-dev).
 */
#ifndef KMSTOOL_DEV_MASTER_KEY_H
#define KMSTOOL_DEV_MASTER_KEY_H

/* The environment variable naming a master key file (main.c). */
#define KT_MASTER_KEY_ENV "KMSTOOL_DEV_MASTER_KEY_FILE"

#include "common/reason.h"
#include "common/secret.h"

#define KT_MASTER_KEY_LEN 32
#define KT_DEV_MASTER_LABEL \
	"kmstool-dev INSECURE development master key v1 - demos and tests only"

/* The built-in insecure development key. */
int kt_master_key_builtin(struct secret *key);
/*
 * Load a 32-byte key from a file holding it raw, as 64 hex characters or
 * as 44 base64 characters (a trailing newline allowed). On failure `why`
 * says what is wrong (fixed texts: nothing read from the file is ever
 * quoted).
 */
int kt_master_key_load(struct secret *key, const char *path,
    struct reason *why);

#endif
