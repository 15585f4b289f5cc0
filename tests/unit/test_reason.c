/*
 * test_reason.c - common/reason: reason_fail formats, bounds and returns
 * -1 (NULL allowed), reason_clear empties.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common/reason.h"

static void
test_fail_formats_and_returns_minus_one(void **state)
{
	struct reason r = { .text = "old" };

	(void)state;
	assert_int_equal(reason_fail(&r, "PCR%d mismatch: %s", 0, "want ab"),
	    -1);
	assert_string_equal(r.text, "PCR0 mismatch: want ab");
	assert_int_equal(reason_fail(NULL, "nobody asked %d", 1), -1);
	reason_clear(&r);
	assert_string_equal(r.text, "");
	reason_clear(NULL);
}

static void
test_fail_is_bounded(void **state)
{
	char long_text[REASON_MAX * 2];
	struct reason r;

	(void)state;
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	memset(&r, 'X', sizeof(r));
	assert_int_equal(reason_fail(&r, "%s", long_text), -1);
	assert_int_equal(strlen(r.text), REASON_MAX - 1);
	assert_int_equal(sizeof(r.text), REASON_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail_formats_and_returns_minus_one),
		cmocka_unit_test(test_fail_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
