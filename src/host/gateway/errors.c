/*
 * errors.c - protocol error codes to HTTP statuses (see errors.h for the
 * reasons; the statuses live in common/wire_error.c's table).
 */
#include "host/gateway/errors.h"

#include "common/wire_error.h"

int
gateway_status_for_code(const char *code)
{
	enum wire_error e;

	if (wire_error_lookup(code, &e) < 0)
		return WIRE_HTTP_UNKNOWN;
	return wire_error_http_status(e);
}

int
gateway_status_retryable(int status)
{
	return status == 503;
}
