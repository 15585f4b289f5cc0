/*
 * test_log.c - common/log: the one --log-level parser (enclaved and the
 * gateway both use it), exact names only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/log.h"

static void
test_level_names(void **state)
{
	enum log_level l = LOG_ERROR;

	(void)state;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(log_level_parse("info", &l), 0);
	assert_int_equal(l, LOG_INFO);
	assert_int_equal(log_level_parse("warn", &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(log_level_parse("error", &l), 0);
	assert_int_equal(l, LOG_ERROR);
}

static void
test_anything_else_is_refused(void **state)
{
	static const char *const bad[] = {
		"", "DEBUG", "Info", " warn", "warn ", "warning", "err", "1",
		"debugx", "trace",
	};
	enum log_level l = LOG_WARN;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(log_level_parse(bad[i], &l), -1);
		assert_int_equal(l, LOG_WARN);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_names),
		cmocka_unit_test(test_anything_else_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
