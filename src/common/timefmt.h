/*
 * timefmt.h - RFC 3339 UTC timestamps, second precision: 2025-12-13T10:00:00Z
 */
#ifndef COMMON_TIMEFMT_H
#define COMMON_TIMEFMT_H

#include <time.h>

#define TIMEFMT_RFC3339_LEN 20

/* Write the timestamp and a NUL into out[TIMEFMT_RFC3339_LEN + 1]. */
void timefmt_rfc3339(char *out, time_t t);
void timefmt_rfc3339_now(char *out);
/* Parse "YYYY-MM-DDTHH:MM:SSZ"; -1 when malformed. */
int  timefmt_parse_rfc3339(const char *s, time_t *out);
/* Monotonic milliseconds, for deadlines and durations. */
long long clock_monotonic_ms(void);

#endif
