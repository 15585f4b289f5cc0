/*
 * reason.c - failing with a reason (see reason.h).
 */
#include "common/reason.h"

#include <stdarg.h>
#include <stdio.h>

int
reason_fail(char *reason, size_t reason_len, const char *fmt, ...)
{
	va_list ap;

	if (reason != NULL && reason_len > 0) {
		va_start(ap, fmt);
		vsnprintf(reason, reason_len, fmt, ap);
		va_end(ap);
	}
	return -1;
}
