/*
 * test_hex_portable.c - the portable (non-SSE2) hex paths: 64-bit SWAR on
 * little-endian machines such as arm64 (Graviton parents), and the table.
 * x86-64 builds use SSE2, so this file compiles hex.c again without it.
 */
#define HEX_NO_SIMD 1
#include "../../src/common/hex.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

static void
test_round_trip_all_lengths(void **state)
{
	uint8_t in[300], out[300];
	char hex[600];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		hex_encode(hex, in, n);
		assert_int_equal(hex_decode(out, hex, 2 * n), 0);
		assert_memory_equal(out, in, n);
	}
	hex_encode(hex, (const uint8_t *)"\x00\x9f\xff", 3);
	assert_memory_equal(hex, "009fff", 6);
}

static void
test_every_byte_in_every_position(void **state)
{
	char hex[32];
	uint8_t out[16];
	unsigned c, pos;

	(void)state;
	for (pos = 0; pos < sizeof(hex); pos++) {
		for (c = 0; c < 256; c++) {
			int valid = (c >= '0' && c <= '9') ||
			    (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

			memset(hex, 'a', sizeof(hex));
			hex[pos] = (char)c;
			assert_int_equal(hex_decode(out, hex, sizeof(hex)),
			    valid ? 0 : -1);
		}
	}
}

static void
test_in_place_and_mixed_case(void **state)
{
	char buf[] = "00FFaBcD0123456789abcdefABCDEF99";

	(void)state;
	assert_int_equal(hex_decode((uint8_t *)buf, buf, 32), 0);
	assert_memory_equal(buf, "\x00\xff\xab\xcd\x01\x23\x45\x67\x89\xab"
	    "\xcd\xef\xab\xcd\xef\x99", 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_all_lengths),
		cmocka_unit_test(test_every_byte_in_every_position),
		cmocka_unit_test(test_in_place_and_mixed_case),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
