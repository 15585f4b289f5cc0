/*
 * hex.c - hex at memory speed (see hex.h): SSE2 on x86-64, 64-bit SWAR on
 * other little-endian machines, and a table for the tail and the rest.
 */
#include "common/hex.h"

#include <pthread.h>
#include <string.h>

/* 1 + the digit's value for a hex digit, 0 (the default) for anything else. */
static const uint8_t hex_value[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Each byte's two lowercase digits, in memory order. */
static uint16_t hex_pair[256];
static pthread_once_t hex_pair_once = PTHREAD_ONCE_INIT;

static void
hex_pair_init(void)
{
	static const char digit[] = "0123456789abcdef";
	unsigned i;

	for (i = 0; i < 256; i++) {
		char two[2] = { digit[i >> 4], digit[i & 0x0f] };

		memcpy(&hex_pair[i], two, 2);
	}
}

#if defined(__SSE2__) && !defined(HEX_NO_SIMD)
#include <emmintrin.h>
#define HEX_SSE2 1

/*
 * Sixteen hex characters to eight bytes with SSE2, which every x86-64 has:
 * a 32 MiB ciphertext is decoded at memory speed. Unsigned range checks
 * are signed compares after flipping the top bit. -1 on a non-hex byte.
 */
static int
decode16_sse2(uint8_t *dst, const uint8_t *src)
{
	const __m128i flip = _mm_set1_epi8((char)0x80);
	__m128i c = _mm_loadu_si128((const __m128i *)src);
	__m128i d = _mm_sub_epi8(c, _mm_set1_epi8('0'));
	__m128i l = _mm_sub_epi8(_mm_or_si128(c, _mm_set1_epi8(0x20)),
	    _mm_set1_epi8('a'));
	__m128i is_d = _mm_cmplt_epi8(_mm_xor_si128(d, flip),
	    _mm_set1_epi8((char)(10 ^ 0x80)));
	__m128i is_l = _mm_cmplt_epi8(_mm_xor_si128(l, flip),
	    _mm_set1_epi8((char)(6 ^ 0x80)));
	__m128i v, even, odd;

	if (_mm_movemask_epi8(_mm_or_si128(is_d, is_l)) != 0xffff)
		return -1;
	v = _mm_or_si128(_mm_and_si128(is_d, d), _mm_and_si128(is_l,
	    _mm_add_epi8(l, _mm_set1_epi8(10))));
	/* Per 16-bit lane: low byte is the high nibble, high byte the low. */
	even = _mm_slli_epi16(_mm_and_si128(v, _mm_set1_epi16(0x00ff)), 4);
	odd = _mm_srli_epi16(v, 8);
	v = _mm_packus_epi16(_mm_or_si128(even, odd), _mm_setzero_si128());
	_mm_storel_epi64((__m128i *)dst, v);
	return 0;
}

/* Eight bytes to sixteen lowercase hex characters. */
static void
encode8_sse2(char *dst, const uint8_t *src)
{
	__m128i b = _mm_loadl_epi64((const __m128i *)src);
	__m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(0x0f));
	__m128i lo = _mm_and_si128(b, _mm_set1_epi8(0x0f));
	__m128i n = _mm_unpacklo_epi8(hi, lo);
	__m128i letter = _mm_cmpgt_epi8(n, _mm_set1_epi8(9));

	n = _mm_add_epi8(n, _mm_set1_epi8('0'));
	n = _mm_add_epi8(n, _mm_and_si128(letter, _mm_set1_epi8('a' - '0' - 10)));
	_mm_storeu_si128((__m128i *)dst, n);
}

#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HEX_SWAR 1
#define BYTES(b) (0x0101010101010101ULL * (b))

/*
 * Eight hex characters to four bytes with 64-bit arithmetic (SWAR), the
 * hot loop for a 32 MiB ciphertext. Per byte: a digit is 0x30..0x39, a
 * letter (after | 0x20) 0x61..0x66; adding an offset sets the byte's top
 * bit exactly when it is at or above a bound, and no byte carries into the
 * next because every byte is below 0x80 (checked first). Returns -1 on
 * any other character.
 */
static int
decode8(uint8_t *dst, const uint8_t *src)
{
	uint64_t x, lower, digit, letter, v, w;
	uint32_t out;

	memcpy(&x, src, 8);
	if (x & BYTES(0x80))
		return -1;
	lower = x | BYTES(0x20);
	digit = (x + BYTES(0x50)) & ~(x + BYTES(0x46)) & BYTES(0x80);
	letter = (lower + BYTES(0x1f)) & ~(lower + BYTES(0x19)) & BYTES(0x80);
	if ((digit | letter) != BYTES(0x80))
		return -1;
	v = (x & BYTES(0x0f)) + (letter >> 7) * 9;
	/* Byte 2j of w is value(2j) << 4 | value(2j + 1). */
	w = ((v << 4) | (v >> 8)) & 0x00ff00ff00ff00ffULL;
	w = (w | (w >> 8)) & 0x0000ffff0000ffffULL;
	out = (uint32_t)(w | (w >> 16));
	memcpy(dst, &out, 4);
	return 0;
}
#endif

/*
 * Accumulate errors with OR instead of branching per character, so the
 * loop stays tight; the whole input is rejected if any character was bad.
 */
int
hex_decode(uint8_t *dst, const char *src, size_t n)
{
	const uint8_t *s = (const uint8_t *)src;
	uint8_t bad = 0;
	size_t i = 0;

	if (n % 2 != 0)
		return -1;
#if defined(HEX_SSE2)
	for (; i + 8 <= n / 2; i += 8)
		if (decode16_sse2(dst + i, s + 2 * i) < 0)
			return -1;
#elif defined(HEX_SWAR)
	for (; i + 4 <= n / 2; i += 4)
		if (decode8(dst + i, s + 2 * i) < 0)
			return -1;
#endif
	for (; i < n / 2; i++) {
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
	size_t i = 0;

#if defined(HEX_SSE2)
	for (; i + 8 <= n; i += 8)
		encode8_sse2(dst + 2 * i, src + i);
#endif
	pthread_once(&hex_pair_once, hex_pair_init);
	for (; i < n; i++)
		memcpy(dst + 2 * i, &hex_pair[src[i]], 2);
}
