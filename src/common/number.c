/*
 * number.c - strict decimal numbers for command lines (see number.h).
 *
 * strtoul and friends skip white space, take a sign (and wrap "-1" to the
 * largest value), a "0x" with base 0, and stop quietly at the first byte
 * they do not like; each of those has let a typo through somewhere. These
 * functions look at every byte themselves.
 */
#include "common/number.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/reason.h"

#define MS_PER_S 1000u

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
number_parse_span(const char *text, size_t len, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit(text[i]))
			return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned)(text[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -2;	/* past 2^64 - 1: past any max */
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -2;
	*out = v;
	return 0;
}

int
number_parse(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	return number_parse_span(text, strlen(text), min, max, out);
}

int
number_parse_seconds(const char *text, uint64_t min_ms, uint64_t max_ms,
    uint64_t *ms)
{
	const char *dot = strchr(text, '.');
	size_t whole_len = dot != NULL ? (size_t)(dot - text) : strlen(text);
	uint64_t whole, v, frac = 0;
	int above_zero = 0;
	size_t i;

	if (number_parse_span(text, whole_len, 0, UINT64_MAX / MS_PER_S,
	    &whole) < 0)
		return -1;
	above_zero = whole > 0;
	if (dot != NULL) {
		if (dot[1] == '\0')
			return -1;	/* "5." */
		for (i = 1; dot[i] != '\0'; i++) {
			if (!is_digit(dot[i]))
				return -1;
			if (i <= 3)
				frac = frac * 10 + (uint64_t)(dot[i] - '0');
			if (dot[i] != '0')
				above_zero = 1;
		}
		for (; i <= 3; i++)
			frac *= 10;	/* "0.5": 500 ms */
	}
	v = whole * MS_PER_S + frac;
	if (v == 0 && above_zero)
		v = 1;
	if (v < min_ms || v > max_ms)
		return -1;
	*ms = v;
	return 0;
}

int
number_option(const char *option, const char *text, uint64_t min,
    uint64_t max, uint64_t *out, struct reason *why)
{
	if (number_parse(text, min, max, out) == 0)
		return 0;
	return reason_fail(why, "%s: '%s' is not a number in %" PRIu64 "..%"
	    PRIu64, option, text, min, max);
}

/* 1500 as "1.5", 3600000 as "3600". */
static void
format_seconds(char *text, size_t size, uint64_t ms)
{
	char frac[8];
	size_t n;

	snprintf(frac, sizeof(frac), "%03u", (unsigned)(ms % MS_PER_S));
	for (n = strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	snprintf(text, size, "%" PRIu64 "%s%s", ms / MS_PER_S,
	    frac[0] != '\0' ? "." : "", frac);
}

int
number_option_seconds(const char *option, const char *text, uint64_t min_ms,
    uint64_t max_ms, uint64_t *ms, struct reason *why)
{
	char lo[32], hi[32];

	if (number_parse_seconds(text, min_ms, max_ms, ms) == 0)
		return 0;
	format_seconds(lo, sizeof(lo), min_ms);
	format_seconds(hi, sizeof(hi), max_ms);
	return reason_fail(why, "%s: '%s' is not a time in seconds in %s..%s",
	    option, text, lo, hi);
}
