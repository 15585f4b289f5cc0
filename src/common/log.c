/*
 * log.c - timestamped single-write log lines (see log.h).
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/timefmt.h"

static enum log_level log_min = LOG_INFO;

static const char *const level_name[] = {
	[LOG_DEBUG] = "DEBUG", [LOG_INFO] = "INFO",
	[LOG_WARN] = "WARN", [LOG_ERROR] = "ERROR",
};

void
log_set_level(enum log_level min)
{
	log_min = min;
}

int
log_level_parse(const char *text, enum log_level *out)
{
	static const char *const names[] = {
		[LOG_DEBUG] = "debug", [LOG_INFO] = "info",
		[LOG_WARN] = "warn", [LOG_ERROR] = "error",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(text, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024], stamp[TIMEFMT_RFC3339_LEN + 1];
	va_list ap;
	int n, m;

	if (level < log_min)
		return;
	timefmt_rfc3339_now(stamp);
	n = snprintf(line, sizeof(line), "%s %s ", stamp, level_name[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;	/* truncated: keep the newline */
	line[n++] = '\n';
	/* Best effort: a full console must never stop the daemon. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
