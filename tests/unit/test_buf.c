/*
 * test_buf.c - common/buf: limits are enforced before allocating, appends
 * and consumes keep the bytes right, the buf_tail/buf_commit cursor hands
 * out no more than it reserved, shrink/free, moves, the big-endian helpers,
 * and size_add/size_mul at the edge of overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"

static void
test_size_add(void **state)
{
	size_t out = 7;

	(void)state;
	assert_int_equal(size_add(1, 2, &out), 0);
	assert_int_equal(out, 3);
	assert_int_equal(size_add(SIZE_MAX - 1, 1, &out), 0);
	assert_true(out == SIZE_MAX);
	assert_int_equal(size_add(0, SIZE_MAX, &out), 0);
	assert_true(out == SIZE_MAX);
	out = 7;
	assert_int_equal(size_add(SIZE_MAX, 1, &out), -1);
	assert_int_equal(size_add(1, SIZE_MAX, &out), -1);
	assert_int_equal(size_add(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1, &out), -1);
	assert_int_equal(out, 7);	/* untouched on failure */
}

static void
test_size_mul(void **state)
{
	size_t out = 7;

	(void)state;
	assert_int_equal(size_mul(0, SIZE_MAX, &out), 0);
	assert_int_equal(out, 0);
	assert_int_equal(size_mul(SIZE_MAX, 0, &out), 0);
	assert_int_equal(out, 0);
	assert_int_equal(size_mul(SIZE_MAX, 1, &out), 0);
	assert_true(out == SIZE_MAX);
	assert_int_equal(size_mul(1, SIZE_MAX, &out), 0);
	assert_true(out == SIZE_MAX);
	assert_int_equal(size_mul(3, 5, &out), 0);
	assert_int_equal(out, 15);
	out = 7;
	assert_int_equal(size_mul(2, SIZE_MAX / 2 + 1, &out), -1);
	assert_int_equal(size_mul(SIZE_MAX / 2 + 1, 2, &out), -1);
	assert_int_equal(size_mul((size_t)1 << (sizeof(size_t) * 4),
	    (size_t)1 << (sizeof(size_t) * 4), &out), -1);
	assert_int_equal(out, 7);
	assert_int_equal(size_mul(SIZE_MAX / 3, 3, &out), 0);
	assert_true(out == SIZE_MAX / 3 * 3);
}

static void
test_append_within_limit(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_append(&b, "hello", 5, 10), 0);
	assert_int_equal(buf_append_str(&b, "world", 10), 0);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "helloworld", 10);
	assert_true(b.cap <= 10);	/* capacity never passes the limit */
	/* one byte over the limit fails and leaves the buffer as it was */
	assert_int_equal(buf_append(&b, "!", 1, 10), -1);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "helloworld", 10);
	/* an empty append at the limit is fine */
	assert_int_equal(buf_append(&b, "", 0, 10), 0);
	buf_free(&b, 1);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

/* A huge `extra` (a length from the wire) fails without allocating. */
static void
test_reserve_overflow(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_append(&b, "abc", 3, 100), 0);
	assert_int_equal(buf_reserve(&b, SIZE_MAX, SIZE_MAX), -1);
	assert_int_equal(buf_reserve(&b, SIZE_MAX - 2, SIZE_MAX), -1);
	assert_int_equal(buf_reserve(&b, 98, 100), -1);
	assert_int_equal(buf_reserve(&b, 97, 100), 0);
	assert_true(b.cap >= 100 && b.cap <= 100);
	assert_int_equal(b.len, 3);
	buf_free(&b, 0);
	/* a limit of zero admits nothing but nothing */
	assert_int_equal(buf_reserve(&b, 0, 0), 0);
	assert_int_equal(buf_append(&b, "x", 1, 0), -1);
	assert_null(b.data);
}

/* Appending byte by byte grows geometrically up to and not past the limit. */
static void
test_byte_by_byte(void **state)
{
	struct buf b = BUF_INIT;
	size_t i, limit = 100000, reallocs = 0, cap = 0;

	(void)state;
	for (i = 0; i < limit; i++) {
		uint8_t c = (uint8_t)i;

		assert_int_equal(buf_append(&b, &c, 1, limit), 0);
		if (b.cap != cap) {
			reallocs++;
			cap = b.cap;
		}
	}
	assert_true(reallocs < 20);
	assert_int_equal(b.cap, limit);
	assert_int_equal(buf_append(&b, "x", 1, limit), -1);
	for (i = 0; i < limit; i++)
		assert_int_equal(b.data[i], (uint8_t)i);
	buf_free(&b, 0);
}

static void
test_consume(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_append_str(&b, "0123456789", 64), 0);
	buf_consume(&b, 0);
	assert_int_equal(b.len, 10);
	buf_consume(&b, 3);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data, "3456789", 7);
	buf_consume(&b, 7);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append_str(&b, "ab", 64), 0);
	buf_consume(&b, 1000);
	assert_int_equal(b.len, 0);
	buf_free(&b, 0);
}

/* F10: the move leaves no copy of the kept bytes behind the new end. */
static void
test_consume_wipes_what_the_move_leaves(void **state)
{
	static const uint8_t zero[16];
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_append_str(&b, "PINGPINGSECRET-TOKEN", 64), 0);
	buf_consume(&b, 8);
	assert_int_equal(b.len, 12);
	assert_memory_equal(b.data, "SECRET-TOKEN", 12);
	assert_memory_equal(b.data + 12, zero, 8);
	/* more consumed than kept: the stale span is the consumed length */
	assert_int_equal(buf_append_str(&b, "xy", 64), 0);
	buf_consume(&b, 12);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, "xy", 2);
	assert_memory_equal(b.data + 2, zero, 12);
	buf_free(&b, 0);
}

static void
test_shrink(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_reserve(&b, 4096, 1 << 20), 0);
	assert_int_equal(buf_append_str(&b, "keep", 1 << 20), 0);
	/* not below what is in use */
	buf_shrink(&b, 2);
	assert_true(b.cap >= 4096);
	buf_shrink(&b, 256);
	assert_int_equal(b.cap, 256);
	assert_memory_equal(b.data, "keep", 4);
	/* never grows */
	buf_shrink(&b, 1000);
	assert_int_equal(b.cap, 256);
	b.len = 0;
	buf_shrink(&b, 0);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
	buf_free(&b, 1);
}

/* buf_tail hands out room within the limit, as buf_reserve does. */
static void
test_tail_bounds(void **state)
{
	struct buf b = BUF_INIT;
	uint8_t *p;

	(void)state;
	assert_int_equal(buf_append(&b, "abc", 3, 100), 0);
	/* one byte past the limit, a wire-sized length, nothing at all */
	assert_null(buf_tail(&b, 98, 100));
	assert_null(buf_tail(&b, SIZE_MAX, 100));
	assert_null(buf_tail(&b, SIZE_MAX - 2, 100));
	assert_null(buf_tail(&b, 0, 100));
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "abc", 3);
	/* exactly up to the limit */
	assert_non_null(p = buf_tail(&b, 97, 100));
	assert_ptr_equal(p, b.data + 3);
	assert_true(b.cap <= 100);
	memset(p, 'x', 97);
	assert_int_equal(buf_commit(&b, 97), 0);
	assert_int_equal(b.len, 100);
	assert_null(buf_tail(&b, 1, 100));
	assert_int_equal(b.len, 100);
	buf_free(&b, 0);
	assert_int_equal(b.tail, 0);
}

/*
 * A commit adds only what the tail handed out: not the rest of a block
 * grown bigger than asked, not after another change took the tail back.
 */
static void
test_commit_beyond_tail_refused(void **state)
{
	struct buf b = BUF_INIT;
	uint8_t *p;

	(void)state;
	/* nothing handed out yet */
	assert_int_equal(buf_commit(&b, 1), -1);
	assert_int_equal(buf_commit(&b, 0), 0);
	assert_non_null(p = buf_tail(&b, 8, 1024));
	assert_true(b.cap > 8);		/* room the tail did not hand out */
	memcpy(p, "01234567", 8);
	assert_int_equal(buf_commit(&b, 9), -1);
	assert_int_equal(buf_commit(&b, SIZE_MAX), -1);
	assert_int_equal(b.len, 0);
	/* commit in steps: the rest stays handed out, from the new end */
	assert_int_equal(buf_commit(&b, 3), 0);
	assert_int_equal(b.len, 3);
	assert_int_equal(buf_commit(&b, 6), -1);
	assert_int_equal(buf_commit(&b, 5), 0);
	assert_int_equal(buf_commit(&b, 1), -1);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "01234567", 8);
	/* an append, a consume, a shrink take an open tail back */
	assert_non_null(buf_tail(&b, 4, 1024));
	assert_int_equal(buf_append(&b, "8", 1, 1024), 0);
	assert_int_equal(buf_commit(&b, 1), -1);
	assert_non_null(buf_tail(&b, 4, 1024));
	buf_consume(&b, 1);
	assert_int_equal(buf_commit(&b, 1), -1);
	assert_non_null(buf_tail(&b, 4, 1024));
	buf_shrink(&b, 64);
	assert_int_equal(buf_commit(&b, 1), -1);
	/* a failed tail hands out nothing */
	assert_non_null(buf_tail(&b, 4, 1024));
	assert_null(buf_tail(&b, 2000, 1024));
	assert_int_equal(buf_commit(&b, 1), -1);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "12345678", 8);
	buf_free(&b, 0);
}

/* A tail that grows the block keeps what was there, and commits after it. */
static void
test_tail_growth_keeps_data(void **state)
{
	struct buf b = BUF_INIT;
	size_t i, limit = (size_t)8 << 20;	/* past the huge-page size */
	uint8_t *p;

	(void)state;
	for (i = 0; i < 300; i++) {
		uint8_t c = (uint8_t)i;

		assert_int_equal(buf_append(&b, &c, 1, limit), 0);
	}
	assert_true(b.cap < 4096);
	assert_non_null(p = buf_tail(&b, limit - 300, limit));
	assert_int_equal(b.cap, limit);
	assert_ptr_equal(p, b.data + 300);
	for (i = 0; i < 300; i++)
		assert_int_equal(b.data[i], (uint8_t)i);
	memset(p, 0xa5, 1000);
	assert_int_equal(buf_commit(&b, 1000), 0);
	assert_int_equal(b.len, 1300);
	assert_int_equal(b.data[299], (uint8_t)299);
	assert_int_equal(b.data[300], 0xa5);
	assert_int_equal(b.data[1299], 0xa5);
	buf_free(&b, 0);
}

/* buf_printf writes through the tail; its terminator stays outside len. */
static void
test_printf_limit(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_printf(&b, 8, "%s-%d", "ab", 42), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "ab-42", 6);
	assert_int_equal(buf_printf(&b, 8, "%d", 123), 0);
	assert_int_equal(b.len, 8);
	assert_int_equal(buf_printf(&b, 8, "x"), -1);
	assert_int_equal(buf_printf(&b, 8, "%s", ""), 0);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "ab-42123", 8);
	buf_free(&b, 0);
}

/* One owner at a time: the block changes hands, no byte is copied. */
static void
test_move(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	uint8_t *block;
	size_t cap;

	(void)state;
	assert_int_equal(buf_append_str(&a, "configure bytes", 64), 0);
	block = a.data;
	cap = a.cap;
	buf_move(&b, &a);
	assert_ptr_equal(b.data, block);
	assert_int_equal(b.len, 15);
	assert_int_equal(b.cap, cap);
	assert_memory_equal(b.data, "configure bytes", 15);
	assert_null(a.data);
	assert_int_equal(a.len, 0);
	assert_int_equal(a.cap, 0);
	/* onto itself: nothing happens */
	buf_move(&b, &b);
	assert_ptr_equal(b.data, block);
	assert_int_equal(b.len, 15);
	/* a block the destination held is freed (LeakSanitizer: not lost) */
	assert_int_equal(buf_append_str(&a, "other", 64), 0);
	block = a.data;
	buf_move(&b, &a);
	assert_ptr_equal(b.data, block);
	assert_int_equal(b.len, 5);
	assert_null(a.data);
	/* an empty source empties the destination */
	buf_move(&b, &a);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	/* an open tail does not travel: a move takes it back */
	assert_non_null(buf_tail(&a, 8, 64));
	buf_move(&b, &a);
	assert_int_equal(a.tail, 0);
	assert_int_equal(buf_commit(&b, 1), -1);
	buf_free(&b, 0);
}

/* A kept block takes b's bytes and becomes b's; one too small changes nothing. */
static void
test_rehome(void **state)
{
	struct buf b = BUF_INIT, block = BUF_INIT;
	uint8_t *big;

	(void)state;
	assert_int_equal(buf_reserve(&block, 4096, 4096), 0);
	big = block.data;
	assert_int_equal(buf_append(&b, "left over", 9, 64), 0);
	assert_int_equal(buf_rehome(&b, &block), 0);
	assert_ptr_equal(b.data, big);
	assert_int_equal(b.len, 9);
	assert_true(b.cap >= 4096);
	assert_int_equal(b.tail, 0);
	assert_memory_equal(b.data, "left over", 9);
	assert_null(block.data);
	assert_int_equal(block.len, 0);
	assert_int_equal(block.cap, 0);
	/* too small: both stay as they were */
	assert_int_equal(buf_append(&block, "x", 1, 1), 0);
	assert_int_equal(buf_rehome(&b, &block), -1);
	assert_ptr_equal(b.data, big);
	assert_int_equal(b.len, 9);
	assert_int_equal(block.len, 1);
	assert_int_equal(buf_rehome(&b, &b), -1);
	/* an empty b takes an empty block too */
	buf_free(&block, 0);
	b.len = 0;
	assert_int_equal(buf_rehome(&b, &block), 0);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
	buf_free(&b, 0);
}

/* The block leaves with its bytes; the buffer is empty, tail and all. */
static void
test_release(void **state)
{
	struct buf b = BUF_INIT;
	uint8_t *block;
	char *s;

	(void)state;
	assert_null(buf_release(&b));
	assert_int_equal(buf_append(&b, "text", 5, 64), 0);
	block = b.data;
	assert_non_null(buf_tail(&b, 8, 64));
	s = buf_release(&b);
	assert_ptr_equal(s, block);
	assert_string_equal(s, "text");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.tail, 0);
	assert_int_equal(buf_commit(&b, 1), -1);
	free(s);
	buf_free(&b, 0);
}

static void
test_u32be(void **state)
{
	struct buf b = BUF_INIT;
	uint8_t p[4];

	(void)state;
	store_u32be(p, 0x01020304);
	assert_memory_equal(p, "\x01\x02\x03\x04", 4);
	assert_int_equal(load_u32be(p), 0x01020304);
	store_u32be(p, 0xffffffffu);
	assert_int_equal(load_u32be(p), 0xffffffffu);
	assert_int_equal(load_u32be((const uint8_t *)"\x80\x00\x00\x00"),
	    0x80000000u);
	assert_int_equal(buf_append_u32be(&b, 0xdeadbeef, 4), 0);
	assert_memory_equal(b.data, "\xde\xad\xbe\xef", 4);
	assert_int_equal(buf_append_u32be(&b, 1, 7), -1);
	buf_free(&b, 0);
}

/* Truncating keeps a prefix, never grows, and cancels an open tail. */
static void
test_truncate(void **state)
{
	struct buf b = BUF_INIT;
	uint8_t *t;

	(void)state;
	assert_int_equal(buf_append_str(&b, "abcdef", 64), 0);
	buf_truncate(&b, 3);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "abc", 3);
	buf_truncate(&b, 10);		/* past len: nothing changes */
	assert_int_equal(b.len, 3);
	assert_non_null(t = buf_tail(&b, 4, 64));
	buf_truncate(&b, 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_commit(&b, 4), -1);	/* the tail is gone */
	assert_int_equal(b.len, 0);
	buf_free(&b, 1);
}

/* The read cursor: every read checked against what is left. */
static void
test_reader(void **state)
{
	static const uint8_t msg[] = { 0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 9,
	    'x' };
	struct buf_reader r = BUF_READER(msg, sizeof(msg));
	const uint8_t *p;
	uint32_t n;

	(void)state;
	assert_int_equal(buf_read_left(&r), sizeof(msg));
	assert_int_equal(buf_read_u32be(&r, &n), 0);
	assert_int_equal(n, 3);
	assert_non_null(p = buf_read(&r, n));
	assert_memory_equal(p, "abc", 3);
	assert_int_equal(buf_read_u32be(&r, &n), 0);
	assert_int_equal(n, 9);
	/* A length past the end: NULL, and the cursor where it was. */
	assert_null(buf_read(&r, n));
	assert_int_equal(buf_read_left(&r), 1);
	assert_null(buf_read(&r, SIZE_MAX));
	assert_int_equal(buf_read_u32be(&r, &n), -1);
	assert_non_null(p = buf_read(&r, 1));
	assert_int_equal(*p, 'x');
	assert_int_equal(buf_read_left(&r), 0);
	assert_non_null(buf_read(&r, 0));
	assert_null(buf_read(&r, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_add),
		cmocka_unit_test(test_size_mul),
		cmocka_unit_test(test_append_within_limit),
		cmocka_unit_test(test_reserve_overflow),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_consume),
		cmocka_unit_test(test_consume_wipes_what_the_move_leaves),
		cmocka_unit_test(test_shrink),
		cmocka_unit_test(test_tail_bounds),
		cmocka_unit_test(test_commit_beyond_tail_refused),
		cmocka_unit_test(test_tail_growth_keeps_data),
		cmocka_unit_test(test_printf_limit),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_rehome),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_u32be),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
