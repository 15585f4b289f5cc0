/*
 * test_gateway_errors.c - host/gateway/errors: an enclave's error code to
 * the gateway's HTTP status, through common/wire_error's table; a code
 * the table does not hold (or none) is 502.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "common/wire_error.h"
#include "host/gateway/errors.h"

static void
test_status_for_code(void **state)
{
	enum wire_error e;

	(void)state;
	for (e = 0; e < WIRE_ERROR_COUNT; e++)
		assert_int_equal(gateway_status_for_code(wire_error_code(e)),
		    wire_error_http_status(e));
	assert_int_equal(gateway_status_for_code("not_configured"), 503);
	assert_int_equal(gateway_status_for_code("decrypt_failed"), 422);
	assert_int_equal(gateway_status_for_code("something_new"), 502);
	assert_int_equal(gateway_status_for_code("unavailable"), 502);
	assert_int_equal(gateway_status_for_code(""), 502);
	assert_int_equal(gateway_status_for_code(NULL), 502);
}

static void
test_retryable(void **state)
{
	(void)state;
	assert_true(gateway_status_retryable(503));
	assert_false(gateway_status_retryable(502));
	assert_false(gateway_status_retryable(400));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_for_code),
		cmocka_unit_test(test_retryable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
