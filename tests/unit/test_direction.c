/*
 * test_direction.c - common/direction: the exact bytes in front of aad
 * (docs/protocol.md) and the names enclavectl's --direction takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/direction.h"

static void
test_request_label_then_aad(void **state)
{
	static const uint8_t want[] = { 'r', 'e', 'q', 'u', 'e', 's', 't', 0,
	    'w', 'f', 0, '7' };
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(direction_bind_aad(&out, DIRECTION_REQUEST,
	    (const uint8_t *)"wf\0" "7", 4), 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.data, want, sizeof(want));
	buf_free(&out, 0);
}

static void
test_result_label_without_aad(void **state)
{
	static const uint8_t want[] = { 'r', 'e', 's', 'u', 'l', 't', 0 };
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(direction_bind_aad(&out, DIRECTION_RESULT, NULL, 0), 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.data, want, sizeof(want));
	/* Reused: the buffer starts over, nothing of the first call stays. */
	assert_int_equal(direction_bind_aad(&out, DIRECTION_RESULT,
	    (const uint8_t *)"x", 1), 0);
	assert_int_equal(out.len, sizeof(want) + 1);
	assert_int_equal(out.data[sizeof(want)], 'x');
	buf_free(&out, 0);
}

static void
test_directions_never_collide(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;

	(void)state;
	/* "result\0" + "x" and "request\0" + anything differ in byte 2. */
	assert_int_equal(direction_bind_aad(&a, DIRECTION_REQUEST,
	    (const uint8_t *)"", 0), 0);
	assert_int_equal(direction_bind_aad(&b, DIRECTION_RESULT,
	    (const uint8_t *)"\0", 1), 0);
	assert_true(a.len != b.len || memcmp(a.data, b.data, a.len) != 0);
	buf_free(&a, 0);
	buf_free(&b, 0);
}

static void
test_parse_names(void **state)
{
	enum direction d;

	(void)state;
	assert_int_equal(direction_parse("request", &d), 0);
	assert_int_equal(d, DIRECTION_REQUEST);
	assert_int_equal(direction_parse("result", &d), 0);
	assert_int_equal(d, DIRECTION_RESULT);
	assert_int_equal(direction_parse("Request", &d), -1);
	assert_int_equal(direction_parse("", &d), -1);
	assert_int_equal(direction_parse("results", &d), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_label_then_aad),
		cmocka_unit_test(test_result_label_without_aad),
		cmocka_unit_test(test_directions_never_collide),
		cmocka_unit_test(test_parse_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
