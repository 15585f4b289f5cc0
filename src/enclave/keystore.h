/*
 * keystore.h - the Trusted Session Keys the daemon holds, by key id.
 *
 * A small bounded table (--max-keys) of named keys. A request takes a
 * reference to the key it starts with and gives it back when done;
 * configure installs or replaces a key under a lock, forget removes one.
 * A request in flight so finishes with the key it started with, no
 * request ever sees half a key, and a replaced or forgotten key is wiped
 * as soon as its last user lets go. Key bytes live in locked secret
 * memory (common/secret.h).
 *
 * The nonce budget (--max-encryptions) is counted per key identity, not
 * per installation: the daemon remembers a keyed hash of every key it
 * has held, with its count, for its whole life, so configuring the same
 * key again (under any id, after a forget) does not start it at zero
 * (docs/security.md, F11).
 */
#ifndef ENCLAVE_KEYSTORE_H
#define ENCLAVE_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/key_id.h"
#include "common/secret.h"

/* Key ids: 1..64 characters of [A-Za-z0-9._-] (common/key_id.h). */
#define KEYSTORE_MAX_KEYS 256
/* Distinct keys remembered per table slot: the budget's memory. */
#define KEYSTORE_IDENTITIES_PER_KEY 8

enum keystore_status {
	KEYSTORE_OK,
	KEYSTORE_NOT_CONFIGURED,	/* no key at all */
	KEYSTORE_UNKNOWN_KEY,		/* not this id */
	KEYSTORE_TOO_MANY_KEYS,		/* --max-keys ids held already */
	KEYSTORE_HISTORY_FULL,		/* too many distinct keys seen */
	KEYSTORE_NO_MEMORY,
	KEYSTORE_INVALID,		/* not a key id, or not a 32-byte key */
};

struct tsk;
struct keystore;

/*
 * The daemon's keys (held in its context, context.h), for at most
 * `max_keys` ids, made once at startup after secret_heap_init; NULL when
 * out of memory or max_keys is not 1..KEYSTORE_MAX_KEYS. The locked bytes
 * it needs: keystore_secret_bytes().
 */
struct keystore *keystore_new(unsigned max_keys);
size_t         keystore_secret_bytes(unsigned max_keys);
/* Wipe every key and forget every identity (at exit, and in tests). */
void           keystore_free(struct keystore *ks);

/*
 * The key named `key_id` (NULL: the most recently configured one) with a
 * reference held; NULL with *why set when there is none.
 */
struct tsk    *keystore_acquire(struct keystore *ks, const char *key_id,
    enum keystore_status *why);
void           keystore_release(struct tsk *key);
const uint8_t *tsk_bytes(const struct tsk *key);
const char    *tsk_id(const struct tsk *key);
/* The key's commitment (common/grant.h): GRANT_COMMITMENT_LEN bytes. */
const uint8_t *tsk_commitment(const struct tsk *key);
/*
 * Count one more encryption under this key unless it has made `limit`
 * already: 0 when counted, -1 when the key is exhausted.
 */
int            tsk_reserve_encryption(struct tsk *key, uint64_t limit);

/* Install `bytes` as `key_id` (taken over: the caller's secret is emptied). */
enum keystore_status keystore_install(struct keystore *ks,
    const char *key_id, struct secret *bytes);
/*
 * Whether an install of `key_id` would find a place now (KEYSTORE_OK or
 * KEYSTORE_TOO_MANY_KEYS), so configure can refuse before asking KMS;
 * keystore_install() decides for good.
 */
enum keystore_status keystore_check_room(struct keystore *ks,
    const char *key_id);
/* Remove `key_id` for new requests; its bytes go with its last user. */
enum keystore_status keystore_forget(struct keystore *ks, const char *key_id);

int            keystore_configured(struct keystore *ks);
/* When the latest key was installed (0 if none) and how many configures. */
time_t         keystore_configured_at(struct keystore *ks);
uint64_t       keystore_generation(struct keystore *ks);
/* Encryptions counted for the latest key (0 if none). */
uint64_t       keystore_encryptions(struct keystore *ks);

/* One held key, as health lists it: never any material. */
struct keystore_entry {
	char     key_id[KEY_ID_MAX + 1];
	uint64_t encryptions;
};
/* Up to `max` held keys, oldest first; returns how many. */
size_t         keystore_list(struct keystore *ks, struct keystore_entry *out,
    size_t max);

#endif
