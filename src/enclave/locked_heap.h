/*
 * locked_heap.h - how large enclaved's locked heap must be.
 *
 * Secrets live on OpenSSL's secure heap (common/secret.h), set up once at
 * startup with a fixed size; running out means a configure cannot hold
 * its credentials. What lives there, and so what the size is made of:
 *   - each configure that runs (at most SERVER_MAX_RUNNING_JOBS at once,
 *     and no more than --max-connections): its AWS credentials at their
 *     longest (kms.h) and the key KMS returns;
 *   - the keystore's keys and identities for --max-keys, and replaced
 *     keys that process requests in flight still hold (one per connection
 *     at most);
 *   - OpenSSL's random generators, for each thread that draws from them.
 * The allocator hands out power-of-two blocks, and the heap itself is a
 * power of two, so each part is rounded as the allocator rounds it.
 */
#ifndef ENCLAVE_LOCKED_HEAP_H
#define ENCLAVE_LOCKED_HEAP_H

#include <stddef.h>

#include "enclave/options.h"

/* Never smaller than this: what a small daemon was always given. */
#define LOCKED_HEAP_MIN ((size_t)256 << 10)

/* The secure heap's size, in bytes, for the daemon these options make. */
size_t locked_heap_size(const struct options *opt);
/* The locked memory one configure takes while it runs. */
size_t locked_heap_per_configure(void);

#endif
