/*
 * test_base64.c - common/base64: RFC 4648 vectors both ways, the strict
 * rules (padding, bad characters, whitespace, length) and the size helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/base64.h"

/* RFC 4648 section 10. */
static const struct {
	const char *plain;
	const char *b64;
} rfc_vectors[] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static int
decode(const char *s, uint8_t *out, size_t *len)
{
	return base64_decode(out, len, s, strlen(s));
}

static void
test_rfc4648_vectors(void **state)
{
	char enc[16];
	uint8_t dec[16];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
		size_t n = strlen(rfc_vectors[i].plain);

		assert_int_equal(base64_encoded_len(n),
		    strlen(rfc_vectors[i].b64));
		base64_encode(enc, (const uint8_t *)rfc_vectors[i].plain, n);
		assert_string_equal(enc, rfc_vectors[i].b64);
		len = 99;
		assert_int_equal(decode(rfc_vectors[i].b64, dec, &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(dec, rfc_vectors[i].plain, n);
	}
}

/* Every length 0..300 round trips, with binary content, within the bound. */
static void
test_round_trip_lengths(void **state)
{
	uint8_t in[300], out[BASE64_DECODED_MAX(400)];
	char enc[401];
	size_t n, i, len;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		size_t el = base64_encoded_len(n);

		base64_encode(enc, in, n);
		assert_int_equal(strlen(enc), el);
		assert_true(base64_decoded_max(el) >= n);
		assert_int_equal(base64_decode(out, &len, enc, el), 0);
		assert_int_equal(len, n);
		assert_memory_equal(out, in, n);
	}
}

static void
test_reject_bad_length(void **state)
{
	uint8_t out[16];
	size_t len;

	(void)state;
	assert_int_equal(decode("Z", out, &len), -1);
	assert_int_equal(decode("Zg", out, &len), -1);
	assert_int_equal(decode("Zg=", out, &len), -1);
	assert_int_equal(decode("Zm9", out, &len), -1);
	assert_int_equal(decode("Zm9vY", out, &len), -1);
	assert_int_equal(decode("Zm9vYg=", out, &len), -1);
}

static void
test_reject_bad_padding(void **state)
{
	uint8_t out[32];
	size_t len;

	(void)state;
	assert_int_equal(decode("====", out, &len), -1);
	assert_int_equal(decode("Z===", out, &len), -1);
	assert_int_equal(decode("=Zg=", out, &len), -1);
	assert_int_equal(decode("Z=g=", out, &len), -1);
	assert_int_equal(decode("Zg=A", out, &len), -1);
	/* padding in the middle of the text */
	assert_int_equal(decode("Zg==Zg==", out, &len), -1);
	assert_int_equal(decode("Zm8=Zm9v", out, &len), -1);
	/* missing padding */
	assert_int_equal(decode("Zg", out, &len), -1);
}

static void
test_reject_bad_chars(void **state)
{
	static const char *const bad[] = {
		"Zm9-", "Zm9_", "Zm9.", "Zm9\x80", "Zm9\xff", "Zm9!",
		"Zm-v", "*m9v", "Zm9vYmF\"",
	};
	uint8_t out[16];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(decode(bad[i], out, &len), -1);
	/* a NUL inside the counted length */
	assert_int_equal(base64_decode(out, &len, "Zm\0v", 4), -1);
}

static void
test_reject_whitespace(void **state)
{
	static const char *const bad[] = {
		" Zm9v", "Zm9v ", "Zm 9v", "Zm9v\n", "\nZm9v", "Zm9v\r\n",
		"Zm\t9", "Zm9vYmFy\n", "    ", "Zm9vYm\nFy",
	};
	uint8_t out[16];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(decode(bad[i], out, &len), -1);
}

static void
test_sizes(void **state)
{
	(void)state;
	assert_int_equal(base64_encoded_len(0), 0);
	assert_int_equal(base64_encoded_len(1), 4);
	assert_int_equal(base64_encoded_len(3), 4);
	assert_int_equal(base64_encoded_len(4), 8);
	assert_int_equal(base64_encoded_len(32), 44);
	assert_true(base64_decoded_max(44) >= 33);
	assert_int_equal(base64_decoded_max(44), BASE64_DECODED_MAX(44));
}

/* A 32-byte key, the size configure insists on, as KMS prints it. */
static void
test_key_sized(void **state)
{
	uint8_t key[32], out[BASE64_DECODED_MAX(44)];
	char enc[45];
	size_t len, i;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xff - i);
	base64_encode(enc, key, sizeof(key));
	assert_int_equal(strlen(enc), 44);
	assert_int_equal(enc[43], '=');
	assert_int_equal(base64_decode(out, &len, enc, 44), 0);
	assert_int_equal(len, 32);
	assert_memory_equal(out, key, 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_round_trip_lengths),
		cmocka_unit_test(test_reject_bad_length),
		cmocka_unit_test(test_reject_bad_padding),
		cmocka_unit_test(test_reject_bad_chars),
		cmocka_unit_test(test_reject_whitespace),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_key_sized),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
