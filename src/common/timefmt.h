/*
 * timefmt.h - RFC 3339 UTC timestamps, second precision: 2025-12-13T10:00:00Z;
 * and HTTP's Date header (RFC 9110 IMF-fixdate): Sun, 06 Nov 1994 08:49:37 GMT
 */
#ifndef COMMON_TIMEFMT_H
#define COMMON_TIMEFMT_H

#include <stddef.h>
#include <time.h>

#define TIMEFMT_RFC3339_LEN 20

/* Write the timestamp and a NUL into out[TIMEFMT_RFC3339_LEN + 1]. */
void timefmt_rfc3339(char *out, time_t t);
void timefmt_rfc3339_now(char *out);
/* Parse "YYYY-MM-DDTHH:MM:SSZ"; -1 when malformed. */
int  timefmt_parse_rfc3339(const char *s, time_t *out);
/*
 * Parse an HTTP Date value in the IMF-fixdate form every current server
 * (KMS included) sends: exactly 29 bytes, not NUL-terminated. Years
 * 1970..9999, a real calendar date, second 60 allowed (a leap second).
 * -1 when malformed, or in RFC 850 / asctime form.
 */
int  timefmt_parse_http_date(const char *s, size_t n, time_t *out);
/* Monotonic milliseconds, for deadlines and durations. */
long long clock_monotonic_ms(void);

#endif
