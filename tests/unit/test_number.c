/*
 * test_number.c - common/number: the one rule for numbers on a command
 * line. Every form strtoul would let through (space, sign, hex, a trailing
 * byte, a wrapped "-1") is refused; the range ends are inclusive; the
 * reason names the option, the text and the range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/number.h"

static int
parses(const char *text, uint64_t min, uint64_t max, uint64_t *v)
{
	*v = 12345;
	return number_parse(text, min, max, v) == 0;
}

static void
test_accepts_plain_digits(void **state)
{
	uint64_t v;

	(void)state;
	assert_true(parses("5", 0, 10, &v));
	assert_int_equal(v, 5);
	assert_true(parses("0", 0, 10, &v));
	assert_int_equal(v, 0);
	assert_true(parses("007", 0, 10, &v));	/* zeros are digits */
	assert_int_equal(v, 7);
	assert_true(parses("18446744073709551615", 0, UINT64_MAX, &v));
	assert_true(v == UINT64_MAX);
}

static void
test_refuses_everything_else(void **state)
{
	static const char *const bad[] = {
		"", " 5", "5 ", " +5", "+5", "-1", "-0", "5x", "x5", "0x10",
		"1e3", "5.0", "\t5", "5\n", "1,000", "1_000", "٥",
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(parses(bad[i], 0, UINT64_MAX, &v));
		assert_true(v == 12345);	/* untouched on refusal */
	}
}

static void
test_range_ends_are_inclusive(void **state)
{
	uint64_t v;

	(void)state;
	assert_true(parses("1", 1, 256, &v));
	assert_true(parses("256", 1, 256, &v));
	assert_false(parses("0", 1, 256, &v));
	assert_false(parses("257", 1, 256, &v));
	assert_true(parses("4294967296", 1, (uint64_t)1 << 32, &v));
	assert_false(parses("4294967297", 1, (uint64_t)1 << 32, &v));
}

static void
test_overflow_is_refused_not_wrapped(void **state)
{
	uint64_t v;

	(void)state;
	/* 2^64 and beyond: strtoull would say ERANGE or, with "-1", wrap. */
	assert_false(parses("18446744073709551616", 0, UINT64_MAX, &v));
	assert_false(parses("99999999999999999999999", 0, UINT64_MAX, &v));
	assert_false(parses("36893488147419103232", 0, UINT64_MAX, &v));
}

static void
test_span_reads_only_its_bytes(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(number_parse_span("12=ab", 2, 0, 23, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(number_parse_span("12=ab", 3, 0, 23, &v), -1);
	assert_int_equal(number_parse_span("=ab", 0, 0, 23, &v), -1);
	/* A number out of the range is told from no number at all. */
	assert_int_equal(number_parse_span("24", 2, 0, 23, &v), -2);
	assert_int_equal(number_parse_span("5", 1, 6, 23, &v), -2);
	assert_int_equal(number_parse_span("18446744073709551616", 20, 0,
	    UINT64_MAX, &v), -2);
	assert_int_equal(number_parse_span("18446744073709551615", 20, 0,
	    UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(number_parse_span("99x", 3, 0, 23, &v), -1);
	assert_int_equal(number_parse_span("-1", 2, 0, 23, &v), -1);
}

static int
seconds(const char *text, uint64_t min_ms, uint64_t max_ms, uint64_t *ms)
{
	*ms = 12345;
	return number_parse_seconds(text, min_ms, max_ms, ms) == 0;
}

static void
test_seconds(void **state)
{
	static const char *const bad[] = {
		"", " 5", "+5", "-1", "5x", ".5", "5.", "1e3", "0x10", "inf",
		"nan", "1.2.3", "5. ", "1.-5",
	};
	uint64_t ms;
	size_t i;

	(void)state;
	assert_true(seconds("30", 1, 3600000, &ms));
	assert_int_equal(ms, 30000);
	assert_true(seconds("0.5", 1, 3600000, &ms));
	assert_int_equal(ms, 500);
	assert_true(seconds("1.25", 1, 3600000, &ms));
	assert_int_equal(ms, 1250);
	assert_true(seconds("2.0009", 1, 3600000, &ms));
	assert_int_equal(ms, 2000);	/* past the third decimal: dropped */
	assert_true(seconds("0.0001", 1, 3600000, &ms));
	assert_int_equal(ms, 1);	/* above zero: at least 1 ms */
	assert_true(seconds("3600", 1, 3600000, &ms));
	assert_false(seconds("3600.001", 1, 3600000, &ms));
	assert_false(seconds("0", 1, 3600000, &ms));
	assert_false(seconds("0.000", 1, 3600000, &ms));
	assert_true(seconds("0", 0, 3600000, &ms));
	assert_int_equal(ms, 0);
	assert_false(seconds("99999999999999999999", 0, UINT64_MAX, &ms));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(seconds(bad[i], 0, UINT64_MAX, &ms));
		assert_true(ms == 12345);
	}
}

static void
test_reason_names_option_text_and_range(void **state)
{
	struct reason why;
	uint64_t v;

	(void)state;
	assert_int_equal(number_option("--queue", " +5", 0, 100000, &v,
	    &why), -1);
	assert_string_equal(why.text,
	    "--queue: ' +5' is not a number in 0..100000");
	assert_int_equal(number_option("--queue", "64", 0, 100000, &v,
	    &why), 0);
	assert_int_equal(v, 64);
	assert_int_equal(number_option_seconds("--timeout", "1e3", 1,
	    3600000, &v, &why), -1);
	assert_string_equal(why.text,
	    "--timeout: '1e3' is not a time in seconds in 0.001..3600");
	assert_int_equal(number_option_seconds("--timeout", "x", 1500,
	    86400000, &v, &why), -1);
	assert_string_equal(why.text,
	    "--timeout: 'x' is not a time in seconds in 1.5..86400");
	/* a NULL reason is allowed: only the result is wanted */
	assert_int_equal(number_option("--n", "x", 0, 1, &v, NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_plain_digits),
		cmocka_unit_test(test_refuses_everything_else),
		cmocka_unit_test(test_range_ends_are_inclusive),
		cmocka_unit_test(test_overflow_is_refused_not_wrapped),
		cmocka_unit_test(test_span_reads_only_its_bytes),
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_reason_names_option_text_and_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
