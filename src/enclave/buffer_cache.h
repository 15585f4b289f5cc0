/*
 * buffer_cache.h - big buffers a closed connection leaves for the next.
 *
 * A connection keeps its buffers between its own requests, but one that
 * closed gave them back to the kernel, and the next connection faulted
 * them in again, doubling its way up: for a host that opens a connection
 * per request (as the original one does) a 1 MiB request took 8.9 ms
 * instead of 1.7 ms here (docs/bench.md). Each worker keeps a few blocks
 * for a second. They hold ciphertext and hex only (plaintext and secrets
 * are wiped before a buffer is let go), and are counted on the memory
 * budget while kept; a claim the budget refuses drops them first.
 */
#ifndef ENCLAVE_BUFFER_CACHE_H
#define ENCLAVE_BUFFER_CACHE_H

#include <stddef.h>

#include "common/buf.h"
#include "common/memory_budget.h"

#define BUFFER_CACHE_SLOTS 4
/* Smaller blocks come from the heap, cheaply: not worth keeping. */
#define BUFFER_CACHE_MIN   ((size_t)256 * 1024)
/* Unused this long, they go back to the kernel. */
#define BUFFER_CACHE_IDLE_MS 1000

struct buffer_cache {
	struct buf            slot[BUFFER_CACHE_SLOTS];
	size_t                n;
	long long             last_used_ms;
	struct memory_budget *budget;
};

void buffer_cache_init(struct buffer_cache *bc, struct memory_budget *budget);
/*
 * Keep b's block (b is emptied either way): if it is big enough and a
 * slot is free or holds a smaller block, which is freed instead.
 */
void buffer_cache_put(struct buffer_cache *bc, struct buf *b, long long now_ms);
/*
 * Move b (its bytes kept) into the smallest kept block of need..limit
 * bytes; 1 when it did, 0 when none fits (b unchanged). A need below the
 * kept sizes counts as the smallest of them once doubling b would reach
 * it (that block would come fresh from the kernel).
 */
int  buffer_cache_take(struct buffer_cache *bc, struct buf *b, size_t need,
    size_t limit, long long now_ms);
/* Free every kept block (the budget is short, or they went unused). */
void buffer_cache_drop(struct buffer_cache *bc);
void buffer_cache_sweep(struct buffer_cache *bc, long long now_ms,
    long long idle_ms);

#endif
