/*
 * test_hex.c - common/hex: decoding (both cases, odd length, bad
 * characters, in place) and lowercase encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/hex.h"

static void
test_decode_both_cases(void **state)
{
	static const uint8_t want[] = { 0x00, 0x01, 0xab, 0xcd, 0xef, 0xff, 0x9a };
	uint8_t got[sizeof(want)];

	(void)state;
	assert_int_equal(hex_decode(got, "0001abcdefff9a", 14), 0);
	assert_memory_equal(got, want, sizeof(want));
	memset(got, 0, sizeof(got));
	assert_int_equal(hex_decode(got, "0001ABCDEFFF9A", 14), 0);
	assert_memory_equal(got, want, sizeof(want));
	memset(got, 0, sizeof(got));
	assert_int_equal(hex_decode(got, "0001aBcDeFfF9a", 14), 0);
	assert_memory_equal(got, want, sizeof(want));
}

static void
test_decode_every_byte(void **state)
{
	char text[512];
	uint8_t in[256], out[256];
	size_t i;

	(void)state;
	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	hex_encode(text, in, sizeof(in));
	assert_int_equal(hex_decode(out, text, sizeof(text)), 0);
	assert_memory_equal(in, out, sizeof(in));
}

static void
test_decode_empty(void **state)
{
	uint8_t dummy = 0x55;

	(void)state;
	assert_int_equal(hex_decode(&dummy, "", 0), 0);
	assert_int_equal(dummy, 0x55);
}

static void
test_decode_odd_length(void **state)
{
	uint8_t out[4];

	(void)state;
	assert_int_equal(hex_decode(out, "a", 1), -1);
	assert_int_equal(hex_decode(out, "abc", 3), -1);
	assert_int_equal(hex_decode(out, "0011223", 7), -1);
}

/*
 * Every byte value that is not a hex digit, in each position of a pair and
 * in a later pair, must make the whole input fail.
 */
static void
test_decode_bad_chars(void **state)
{
	uint8_t out[4];
	char text[8];
	int c;

	(void)state;
	for (c = 0; c < 256; c++) {
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F'))
			continue;
		memcpy(text, "00112233", 8);
		text[0] = (char)c;
		assert_int_equal(hex_decode(out, text, 8), -1);
		memcpy(text, "00112233", 8);
		text[1] = (char)c;
		assert_int_equal(hex_decode(out, text, 8), -1);
		memcpy(text, "00112233", 8);
		text[7] = (char)c;
		assert_int_equal(hex_decode(out, text, 8), -1);
	}
	/* Near misses: g, G, space, prefix, NUL inside the length. */
	assert_int_equal(hex_decode(out, "0g", 2), -1);
	assert_int_equal(hex_decode(out, "G0", 2), -1);
	assert_int_equal(hex_decode(out, "0 ", 2), -1);
	assert_int_equal(hex_decode(out, "0x12", 4), -1);
	assert_int_equal(hex_decode(out, "1\0002", 4), -1);
}

static void
test_decode_in_place(void **state)
{
	char text[] = "deadBEEF00ff7f80";
	static const uint8_t want[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0xff,
	    0x7f, 0x80 };

	(void)state;
	assert_int_equal(hex_decode((uint8_t *)text, text, 16), 0);
	assert_memory_equal(text, want, sizeof(want));
}

static void
test_decode_in_place_long(void **state)
{
	uint8_t want[1000];
	char text[2000];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 131 + 7);
	hex_encode(text, want, sizeof(want));
	assert_int_equal(hex_decode((uint8_t *)text, text, sizeof(text)), 0);
	assert_memory_equal(text, want, sizeof(want));
}

static void
test_encode_lowercase(void **state)
{
	static const uint8_t in[] = { 0x00, 0x0a, 0xa0, 0xff, 0x5c };
	char out[11];

	(void)state;
	memset(out, 'X', sizeof(out));
	hex_encode(out, in, sizeof(in));
	assert_memory_equal(out, "000aa0ff5c", 10);
	assert_int_equal(out[10], 'X');	/* no terminator written */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_both_cases),
		cmocka_unit_test(test_decode_every_byte),
		cmocka_unit_test(test_decode_empty),
		cmocka_unit_test(test_decode_odd_length),
		cmocka_unit_test(test_decode_bad_chars),
		cmocka_unit_test(test_decode_in_place),
		cmocka_unit_test(test_decode_in_place_long),
		cmocka_unit_test(test_encode_lowercase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
