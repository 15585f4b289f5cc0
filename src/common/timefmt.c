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

/* Two decimal digits at p, or -1. */
static int
two_digits(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* The index of the 3-letter name at p in `names` (case as written), or -1. */
static int
name_index(const char *p, const char *const *names, int count)
{
	int i;

	for (i = 0; i < count; i++)
		if (memcmp(p, names[i], 3) == 0)
			return i;
	return -1;
}

/*
 * By hand, like timefmt_rfc3339: strptime's %a and %b follow the locale.
 * "Sun, 06 Nov 1994 08:49:37 GMT": fixed offsets, so each field is read
 * where it must be and the separators are checked between them.
 */
int
timefmt_parse_http_date(const char *s, size_t n, time_t *out)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec",
	};
	struct tm tm, want, back;
	int hi, lo, sec;
	time_t t;

	if (n != 29 || memcmp(s + 3, ", ", 2) != 0 || s[7] != ' ' ||
	    s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
	    memcmp(s + 25, " GMT", 4) != 0)
		return -1;
	if (name_index(s, days, 7) < 0)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if ((tm.tm_mon = name_index(s + 8, months, 12)) < 0 ||
	    (tm.tm_mday = two_digits(s + 5)) < 1 ||
	    (hi = two_digits(s + 12)) < 0 || (lo = two_digits(s + 14)) < 0 ||
	    (tm.tm_hour = two_digits(s + 17)) < 0 || tm.tm_hour > 23 ||
	    (tm.tm_min = two_digits(s + 20)) < 0 || tm.tm_min > 59 ||
	    (sec = two_digits(s + 23)) < 0 || sec > 60)
		return -1;
	tm.tm_year = hi * 100 + lo - 1900;
	if (tm.tm_year < 70)
		return -1;
	/* A leap second is read as the last second of its minute. */
	tm.tm_sec = sec == 60 ? 59 : sec;
	want = tm;
	t = timegm(&tm);
	/* timegm() normalises 31 Feb to 3 Mar: refuse what it had to move. */
	if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL ||
	    back.tm_mday != want.tm_mday || back.tm_mon != want.tm_mon ||
	    back.tm_year != want.tm_year)
		return -1;
	*out = t;
	return 0;
}

long long
clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
