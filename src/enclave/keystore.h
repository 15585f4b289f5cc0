/*
 * keystore.h - the Trusted Session Key the daemon currently holds.
 *
 * A request takes a reference to the key it starts with and gives it back
 * when done; configure swaps in a new key under a lock. A request in flight
 * so finishes with the key it started with, no request ever sees half a
 * key, and a replaced key is wiped as soon as its last user lets go.
 * Key bytes live in locked secret memory (common/secret.h).
 */
#ifndef ENCLAVE_KEYSTORE_H
#define ENCLAVE_KEYSTORE_H

#include <stdint.h>
#include <time.h>

#include "common/secret.h"

struct tsk;

/* The current key with a reference held, or NULL when not configured. */
struct tsk    *keystore_acquire(void);
void           keystore_release(struct tsk *key);
const uint8_t *tsk_bytes(const struct tsk *key);
/*
 * Count one more encryption under this key unless it has made `limit`
 * already: 0 when counted, -1 when the key is exhausted.
 */
int            tsk_reserve_encryption(struct tsk *key, uint64_t limit);

/* Install `key` (taken over: the caller's secret is emptied). */
int            keystore_replace(struct secret *key);
int            keystore_configured(void);
/* When the current key was installed (0 if never) and how many keys so far. */
time_t         keystore_configured_at(void);
uint64_t       keystore_generation(void);
uint64_t       keystore_encryptions(void);
/* Wipe the key at exit. */
void           keystore_wipe(void);

#endif
