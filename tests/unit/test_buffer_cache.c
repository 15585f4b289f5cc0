/*
 * test_buffer_cache.c - enclave/buffer_cache: only big blocks are kept, a
 * take picks the smallest block that fits and keeps the bytes already
 * read, a full cache keeps the bigger blocks, and every kept byte is
 * counted on the memory budget until taken, dropped or swept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "enclave/buffer_cache.h"

#define KIB ((size_t)1024)
#define MIB (KIB * KIB)

static struct buf
block(size_t cap)
{
	struct buf b = BUF_INIT;

	assert_int_equal(buf_reserve(&b, cap, cap), 0);
	memset(b.data, 0x5a, cap);
	b.len = cap / 2;
	return b;
}

static void
test_small_blocks_are_freed_big_ones_kept_and_counted(void **state)
{
	struct memory_budget budget;
	struct buffer_cache bc;
	struct buf small = block(64 * KIB), big = block(MIB);

	(void)state;
	memory_budget_init(&budget, 100 * MIB);
	buffer_cache_init(&bc, &budget);
	buffer_cache_put(&bc, &small, 0);
	assert_null(small.data);
	assert_int_equal(bc.n, 0);
	buffer_cache_put(&bc, &big, 0);
	assert_null(big.data);
	assert_int_equal(bc.n, 1);
	assert_int_equal(memory_budget_used(&budget), MIB);
	buffer_cache_drop(&bc);
	assert_int_equal(bc.n, 0);
	assert_int_equal(memory_budget_used(&budget), 0);
}

static void
test_take_picks_the_smallest_fit_and_keeps_the_bytes(void **state)
{
	struct memory_budget budget;
	struct buffer_cache bc;
	struct buf b1 = block(4 * MIB), b2 = block(MIB), b3 = block(16 * MIB);
	struct buf in = BUF_INIT;

	(void)state;
	memory_budget_init(&budget, 100 * MIB);
	buffer_cache_init(&bc, &budget);
	buffer_cache_put(&bc, &b1, 0);
	buffer_cache_put(&bc, &b2, 0);
	buffer_cache_put(&bc, &b3, 0);
	assert_int_equal(buf_append(&in, "partial message", 15, 64 * MIB), 0);
	/* 2 MiB: the 4 MiB block, not the 16 MiB one */
	assert_int_equal(buffer_cache_take(&bc, &in, 2 * MIB, 64 * MIB, 5), 1);
	assert_int_equal(in.cap, 4 * MIB);
	assert_int_equal(in.len, 15);
	assert_memory_equal(in.data, "partial message", 15);
	assert_int_equal(bc.n, 2);
	assert_int_equal(memory_budget_used(&budget), 17 * MIB);
	/* nothing of 32 MiB; and nothing over the caller's limit */
	assert_int_equal(buffer_cache_take(&bc, &in, 32 * MIB, 64 * MIB, 5), 0);
	assert_int_equal(buffer_cache_take(&bc, &in, 5 * MIB, 8 * MIB, 5), 0);
	assert_int_equal(in.cap, 4 * MIB);
	buf_free(&in, 0);
	buffer_cache_drop(&bc);
	assert_int_equal(memory_budget_used(&budget), 0);
}

static void
test_growing_into_the_kept_sizes_takes_a_block(void **state)
{
	struct memory_budget budget;
	struct buffer_cache bc;
	struct buf big = block(MIB), in = BUF_INIT;

	(void)state;
	memory_budget_init(&budget, 100 * MIB);
	buffer_cache_init(&bc, &budget);
	buffer_cache_put(&bc, &big, 0);
	assert_int_equal(buf_reserve(&in, 64 * KIB, 64 * MIB), 0);
	/* 64 KiB doubled is not yet a kept size: left to the heap */
	assert_int_equal(buffer_cache_take(&bc, &in, 100 * KIB, 64 * MIB, 0), 0);
	assert_int_equal(buf_reserve(&in, 128 * KIB, 64 * MIB), 0);
	assert_true(in.cap >= 128 * KIB && in.cap < BUFFER_CACHE_MIN);
	/* its next doubling would come from the kernel: take the block */
	assert_int_equal(buffer_cache_take(&bc, &in, 200 * KIB, 64 * MIB, 0), 1);
	assert_int_equal(in.cap, MIB);
	buf_free(&in, 0);
}

static void
test_a_full_cache_keeps_the_bigger_blocks(void **state)
{
	struct memory_budget budget;
	struct buffer_cache bc;
	size_t i, total = 0;

	(void)state;
	memory_budget_init(&budget, 100 * MIB);
	buffer_cache_init(&bc, &budget);
	for (i = 0; i < BUFFER_CACHE_SLOTS; i++) {
		struct buf b = block((i + 1) * MIB);

		buffer_cache_put(&bc, &b, 0);
	}
	{
		struct buf smaller = block(MIB / 2), bigger = block(8 * MIB);

		buffer_cache_put(&bc, &smaller, 0);	/* freed: all are bigger */
		assert_null(smaller.data);
		buffer_cache_put(&bc, &bigger, 0);	/* replaces the 1 MiB one */
		assert_null(bigger.data);
	}
	assert_int_equal(bc.n, BUFFER_CACHE_SLOTS);
	for (i = 0; i < bc.n; i++) {
		assert_true(bc.slot[i].cap >= 2 * MIB);
		total += bc.slot[i].cap;
	}
	assert_int_equal(total, (2 + 3 + 4 + 8) * MIB);
	assert_int_equal(memory_budget_used(&budget), total);
	buffer_cache_drop(&bc);
}

static void
test_sweep_frees_blocks_unused_for_a_while(void **state)
{
	struct memory_budget budget;
	struct buffer_cache bc;
	struct buf b = block(MIB);

	(void)state;
	memory_budget_init(&budget, 100 * MIB);
	buffer_cache_init(&bc, &budget);
	buffer_cache_put(&bc, &b, 1000);
	buffer_cache_sweep(&bc, 1000 + BUFFER_CACHE_IDLE_MS, BUFFER_CACHE_IDLE_MS);
	assert_int_equal(bc.n, 1);
	buffer_cache_sweep(&bc, 1001 + BUFFER_CACHE_IDLE_MS, BUFFER_CACHE_IDLE_MS);
	assert_int_equal(bc.n, 0);
	assert_int_equal(memory_budget_used(&budget), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_blocks_are_freed_big_ones_kept_and_counted),
		cmocka_unit_test(test_take_picks_the_smallest_fit_and_keeps_the_bytes),
		cmocka_unit_test(test_growing_into_the_kept_sizes_takes_a_block),
		cmocka_unit_test(test_a_full_cache_keeps_the_bigger_blocks),
		cmocka_unit_test(test_sweep_frees_blocks_unused_for_a_while),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
