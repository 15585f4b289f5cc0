/*
 * reason.c - failing with a reason (see reason.h).
 */
#include "common/reason.h"

#include <stdarg.h>
#include <stdio.h>

int
reason_fail(struct reason *r, const char *fmt, ...)
{
	va_list ap;

	if (r != NULL) {
		va_start(ap, fmt);
		vsnprintf(r->text, sizeof(r->text), fmt, ap);
		va_end(ap);
	}
	return -1;
}

void
reason_clear(struct reason *r)
{
	if (r != NULL)
		r->text[0] = '\0';
}
