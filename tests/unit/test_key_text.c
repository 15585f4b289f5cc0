/*
 * test_key_text.c - common/key_text: a 32-byte key from 64 hex characters
 * (either case) or strict base64, and every near miss refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/base64.h"
#include "common/hex.h"
#include "common/key_text.h"

static uint8_t want[KEY_TEXT_KEY_LEN];

static int
setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(0xa0 + 7 * i);
	return 0;
}

static void
test_hex_both_cases(void **state)
{
	char text[2 * KEY_TEXT_KEY_LEN];
	uint8_t got[KEY_TEXT_KEY_LEN];
	size_t i;

	(void)state;
	hex_encode(text, want, sizeof(want));
	assert_int_equal(key_text_decode(got, text, sizeof(text)), 0);
	assert_memory_equal(got, want, sizeof(want));
	for (i = 0; i < sizeof(text); i++)
		if (text[i] >= 'a' && text[i] <= 'f')
			text[i] = (char)(text[i] - 'a' + 'A');
	memset(got, 0, sizeof(got));
	assert_int_equal(key_text_decode(got, text, sizeof(text)), 0);
	assert_memory_equal(got, want, sizeof(want));
}

static void
test_base64(void **state)
{
	char text[64];
	uint8_t got[KEY_TEXT_KEY_LEN];

	(void)state;
	base64_encode(text, want, sizeof(want));
	assert_int_equal(strlen(text), 44);
	assert_int_equal(key_text_decode(got, text, 44), 0);
	assert_memory_equal(got, want, sizeof(want));
}

static void
test_hex_wrong_length_or_char(void **state)
{
	char text[2 * KEY_TEXT_KEY_LEN + 2];
	uint8_t got[KEY_TEXT_KEY_LEN];

	(void)state;
	hex_encode(text, want, sizeof(want));
	text[64] = '0';
	text[65] = '0';
	assert_int_equal(key_text_decode(got, text, 62), -1);
	assert_int_equal(key_text_decode(got, text, 66), -1);
	text[10] = 'g';
	assert_int_equal(key_text_decode(got, text, 64), -1);
}

static void
test_base64_other_sizes_refused(void **state)
{
	uint8_t key31[31], key33[33], got[KEY_TEXT_KEY_LEN];
	char text[64];

	(void)state;
	memset(key31, 0x11, sizeof(key31));
	memset(key33, 0x22, sizeof(key33));
	base64_encode(text, key31, sizeof(key31));
	assert_int_equal(key_text_decode(got, text, strlen(text)), -1);
	base64_encode(text, key33, sizeof(key33));
	assert_int_equal(key_text_decode(got, text, strlen(text)), -1);
	/* 16 bytes, the AES-128 size, is not a key here either */
	base64_encode(text, key33, 16);
	assert_int_equal(key_text_decode(got, text, strlen(text)), -1);
}

static void
test_no_whitespace_skipped(void **state)
{
	char text[80];
	uint8_t got[KEY_TEXT_KEY_LEN];

	(void)state;
	base64_encode(text, want, sizeof(want));
	text[44] = '\n';
	assert_int_equal(key_text_decode(got, text, 45), -1);
	text[0] = ' ';
	assert_int_equal(key_text_decode(got, text, 44), -1);
	hex_encode(text + 1, want, sizeof(want));
	text[0] = ' ';
	assert_int_equal(key_text_decode(got, text, 65), -1);
	assert_int_equal(key_text_decode(got, text + 1, 64), 0);
	assert_memory_equal(got, want, sizeof(want));
}

static void
test_neither(void **state)
{
	uint8_t got[KEY_TEXT_KEY_LEN];

	(void)state;
	assert_int_equal(key_text_decode(got, "", 0), -1);
	/* 44 characters that are not base64 */
	assert_int_equal(key_text_decode(got,
	    "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!=", 44), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_both_cases),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_hex_wrong_length_or_char),
		cmocka_unit_test(test_base64_other_sizes_refused),
		cmocka_unit_test(test_no_whitespace_skipped),
		cmocka_unit_test(test_neither),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
