/*
 * keyring.h - the gateway's TSKs: the --tsk files, read at start and
 * again on SIGHUP.
 *
 * A keyring is immutable once loaded and shared by reference: the pool
 * keeps the current one and, per enclave, the one it last configured that
 * enclave with, so a reload is a comparison of two keyrings (keys added or
 * changed: configure; removed: forget) and never a half-read state.
 * The TSKs are KMS ciphertext: only an attested enclave can open them.
 */
#ifndef GATEWAY_KEYRING_H
#define GATEWAY_KEYRING_H

#include <stdatomic.h>
#include <stddef.h>

#include "host/gateway/gateway.h"

struct gateway_key {
	char  key_id[GATEWAY_KEY_ID_MAX + 1];
	char *tsk;	/* base64, whitespace around it dropped */
};

struct keyring {
	atomic_uint        refs;
	size_t             n;
	/* The key a request without key_id uses (keyring_load says which). */
	const char        *default_id;
	struct gateway_key key[GATEWAY_MAX_KEYS];
};

/* What decides the default key at a load (keyring_load). */
struct keyring_default {
	const char *explicit_id;	/* --default-key, or NULL */
	const char *previous_id;	/* the default before a reload, or NULL */
};

/*
 * Read every --tsk file, then every ID.b64 in `dir` (NULL: none; names
 * sorted; other names, and anything not a regular file, are skipped with
 * a log line). The default key is --default-key, else the id in
 * `dir`/DEFAULT, else the key "default", else the previous default (a
 * reload never moves it), else at the first load the last key listed.
 * NULL, logged, when a file cannot be read or is not base64, an id comes
 * twice, or the default so named is not among the keys (a reload that
 * would drop the default is refused whole); a keyring with no key is
 * NULL too (with *empty set) when `dir` holds none.
 */
struct keyring *keyring_load(const struct gateway_tsk *tsks, size_t n,
    const char *dir, const struct keyring_default *rule, int *empty);
/* An empty keyring to fill with keyring_add (NULL: out of memory). */
struct keyring *keyring_new(void);
/* A copy of `key` added to k (not yet shared); -1 when full or no memory. */
int             keyring_add(struct keyring *k, const struct gateway_key *key);
struct keyring *keyring_ref(struct keyring *k);	/* NULL is allowed */
void            keyring_unref(struct keyring *k);	/* NULL is allowed */
/* The key named `key_id` in k (NULL when k is NULL or lacks it). */
const struct gateway_key *keyring_find(const struct keyring *k,
    const char *key_id);

#endif
