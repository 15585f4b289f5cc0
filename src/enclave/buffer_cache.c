/*
 * buffer_cache.c - big buffers kept for the next connection (see header).
 */
#include "enclave/buffer_cache.h"

#include <string.h>

void
buffer_cache_init(struct buffer_cache *bc, struct memory_budget *budget)
{
	memset(bc, 0, sizeof(*bc));
	bc->budget = budget;
}

/* Take slot i's block out of the cache (and off the budget). */
static struct buf
remove_slot(struct buffer_cache *bc, size_t i)
{
	struct buf b = BUF_INIT;

	buf_move(&b, &bc->slot[i]);
	memory_budget_release(bc->budget, b.cap);
	buf_move(&bc->slot[i], &bc->slot[--bc->n]);
	return b;
}

static void
release_slot(struct buffer_cache *bc, size_t i)
{
	struct buf b = remove_slot(bc, i);

	buf_free(&b, 0);
}

void
buffer_cache_put(struct buffer_cache *bc, struct buf *b, long long now_ms)
{
	size_t i, smallest = 0;

	if (b->cap < BUFFER_CACHE_MIN) {
		buf_free(b, 0);
		return;
	}
	if (bc->n == BUFFER_CACHE_SLOTS) {
		for (i = 1; i < bc->n; i++)
			if (bc->slot[i].cap < bc->slot[smallest].cap)
				smallest = i;
		if (bc->slot[smallest].cap >= b->cap) {
			buf_free(b, 0);
			return;
		}
		release_slot(bc, smallest);
	}
	memory_budget_force(bc->budget, b->cap);
	buf_truncate(b, 0);
	buf_move(&bc->slot[bc->n++], b);
	bc->last_used_ms = now_ms;
}

int
buffer_cache_take(struct buffer_cache *bc, struct buf *b, size_t need,
    size_t limit, long long now_ms)
{
	size_t i, best = bc->n;
	struct buf kept;

	/* Below the kept sizes, unless b's next doubling would reach them. */
	if (need < BUFFER_CACHE_MIN && b->cap * 2 < BUFFER_CACHE_MIN)
		return 0;
	if (need < BUFFER_CACHE_MIN)
		need = BUFFER_CACHE_MIN;
	if (b->len > need)
		return 0;
	for (i = 0; i < bc->n; i++)
		if (bc->slot[i].cap >= need && bc->slot[i].cap <= limit &&
		    (best == bc->n || bc->slot[i].cap < bc->slot[best].cap))
			best = i;
	if (best == bc->n)
		return 0;
	kept = remove_slot(bc, best);
	/* Unparsed input, perhaps credentials: no copy stays behind. */
	(void)buf_rehome(b, &kept);	/* fits: kept.cap >= need >= b->len */
	bc->last_used_ms = now_ms;
	return 1;
}

void
buffer_cache_drop(struct buffer_cache *bc)
{
	while (bc->n > 0)
		release_slot(bc, bc->n - 1);
}

void
buffer_cache_sweep(struct buffer_cache *bc, long long now_ms,
    long long idle_ms)
{
	if (bc->n > 0 && now_ms - bc->last_used_ms > idle_ms)
		buffer_cache_drop(bc);
}
