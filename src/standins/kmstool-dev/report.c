/*
 * report.c - stdout answers and stderr log lines (see report.h).
 */
#include "standins/kmstool-dev/report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/buf.h"
#include "common/guard.h"
#include "common/secret.h"
#include "common/timefmt.h"
#include "standins/kmstool-dev/kmstool_dev.h"

#define LINE_MAX_LEN 512

/* Pipes to the daemon take partial writes; loop until all is out. */
int
kt_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Each line goes out in one write so a reader never sees half of it. */
static void __attribute__((format(printf, 2, 0)))
emit_line(const char *prefix, const char *fmt, va_list ap)
{
	char line[LINE_MAX_LEN];
	int n, m;

	n = snprintf(line, sizeof(line), "%s", prefix);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)kt_write_all(STDERR_FILENO, line, (size_t)n);
}

/* The AWS C SDK's standard logger format, which the daemon recognises. */
void
kt_info(const char *fmt, ...)
{
	char stamp[TIMEFMT_RFC3339_LEN + 1], prefix[80];
	va_list ap;

	timefmt_rfc3339_now(stamp);
	snprintf(prefix, sizeof(prefix), "[INFO] [%s] [" KT_PROGRAM "] - ",
	    stamp);
	va_start(ap, fmt);
	emit_line(prefix, fmt, ap);
	va_end(ap);
}

/* The reason is a bare line: the daemon quotes the last such line. */
int
kt_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_line("", fmt, ap);
	va_end(ap);
	return KT_EXIT_FAILED;
}

/* As in the real tool: the exception is logged, the status is the reason. */
int
kt_fail_kms(int http_status, const char *exception)
{
	kt_info("KMS answered %d %s (simulated by " KT_PROGRAM ")",
	    http_status, exception);
	return kt_fail("Got non-200 answer from KMS: %d", http_status);
}

/*
 * The whole answer is built in secret memory and written at once: a reader
 * that stops at the first line still sees every line the real tool prints.
 */
int
kt_print_fields(const struct kt_field *fields, size_t n)
{
	struct secret text = SECRET_INIT;
	size_t i, total = 0, pos = 0, line;
	int rc = -1;

	for (i = 0; i < n; i++) {
		/* "LABEL: " + base64 + "\n"; sizes are bounded by the callers. */
		line = strlen(fields[i].label) + 2 +
		    base64_encoded_len(fields[i].len) + 1;
		GUARD(size_add(total, line, &total));
	}
	/* +1: base64_encode writes a terminator after the last line. */
	GUARD(secret_alloc(&text, total + 1));
	for (i = 0; i < n; i++) {
		char *p = (char *)text.data + pos;
		size_t label = strlen(fields[i].label);

		memcpy(p, fields[i].label, label);
		memcpy(p + label, ": ", 2);
		base64_encode(p + label + 2, fields[i].data, fields[i].len);
		pos += label + 2 + base64_encoded_len(fields[i].len);
		text.data[pos++] = '\n';
	}
	rc = kt_write_all(STDOUT_FILENO, text.data, pos);
	secret_free(&text);
	return rc;
}
