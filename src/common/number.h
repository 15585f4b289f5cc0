/*
 * number.h - the one rule for a number on a command line.
 *
 * Every binary of the project reads its numeric options here, so "5" means
 * the same to all of them and anything else is refused the same way:
 * decimal digits only, no sign, no white space, nothing before or after,
 * not empty, and within the range the caller gives. Leading zeros are
 * digits like any other ("007" is 7). Times in seconds may carry a
 * fraction ("0.5"), nothing else does: no exponent, no hex, no suffix.
 */
#ifndef COMMON_NUMBER_H
#define COMMON_NUMBER_H

#include <stddef.h>
#include <stdint.h>

#include "common/reason.h"

/*
 * The first len bytes of text, a whole number in [min, max]: 0; -1 when
 * they are not a number at all, -2 when they are one out of the range
 * (a reader of the wire may answer "too large" rather than "malformed").
 */
int number_parse_span(const char *text, size_t len, uint64_t min,
    uint64_t max, uint64_t *out);

/* All of text (up to its NUL), as number_parse_span. */
int number_parse(const char *text, uint64_t min, uint64_t max,
    uint64_t *out);

/*
 * Seconds, with an optional fraction (DIGITS or DIGITS.DIGITS), to whole
 * milliseconds in [min_ms, max_ms]. Digits past the third decimal are
 * dropped, but a time above zero is at least 1 ms.
 */
int number_parse_seconds(const char *text, uint64_t min_ms, uint64_t max_ms,
    uint64_t *ms);

/*
 * number_parse for the option named option ("--queue"); on a refusal the
 * reason names the option, the text and the range:
 *   --queue: ' +5' is not a number in 0..100000
 */
int number_option(const char *option, const char *text, uint64_t min,
    uint64_t max, uint64_t *out, struct reason *why);

/* number_parse_seconds likewise:
 *   --timeout: 'x' is not a time in seconds in 0.001..3600 */
int number_option_seconds(const char *option, const char *text,
    uint64_t min_ms, uint64_t max_ms, uint64_t *ms, struct reason *why);

#endif
