/*
 * hex.c - table-driven hex (see hex.h).
 */
#include "common/hex.h"

/* 1 + the digit's value for a hex digit, 0 (the default) for anything else. */
static const uint8_t hex_value[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static const char hex_digit[] = "0123456789abcdef";

/*
 * Accumulate errors with OR instead of branching per character, so the
 * loop stays tight; the whole input is rejected if any character was bad.
 */
int
hex_decode(uint8_t *dst, const char *src, size_t n)
{
	const uint8_t *s = (const uint8_t *)src;
	uint8_t bad = 0;
	size_t i;

	if (n % 2 != 0)
		return -1;
	for (i = 0; i < n / 2; i++) {
		uint8_t hi = hex_value[s[2 * i]];
		uint8_t lo = hex_value[s[2 * i + 1]];

		bad |= (uint8_t)(hi == 0) | (uint8_t)(lo == 0);
		dst[i] = (uint8_t)(((hi - 1) & 0x0f) << 4 | ((lo - 1) & 0x0f));
	}
	return bad ? -1 : 0;
}

void
hex_encode(char *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = hex_digit[src[i] >> 4];
		dst[2 * i + 1] = hex_digit[src[i] & 0x0f];
	}
}
