/*
 * timefmt.c - RFC 3339 timestamps and the monotonic clock (see timefmt.h).
 */
#include "common/timefmt.h"

#include <stdio.h>
#include <string.h>

/*
 * Formatted by hand: strftime calls tzset(), which may open /etc/localtime,
 * a file the sandboxed daemon must not open (and UTC needs no zone).
 */
void
timefmt_rfc3339(char *out, time_t t)
{
	struct tm tm;
	char text[64];

	gmtime_r(&t, &tm);
	snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	memcpy(out, text, TIMEFMT_RFC3339_LEN);
	out[TIMEFMT_RFC3339_LEN] = '\0';
}

void
timefmt_rfc3339_now(char *out)
{
	timefmt_rfc3339(out, time(NULL));
}

int
timefmt_parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0' || strlen(s) != TIMEFMT_RFC3339_LEN)
		return -1;
	*out = timegm(&tm);
	return 0;
}

long long
clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
