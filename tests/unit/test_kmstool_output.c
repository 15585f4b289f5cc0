/*
 * test_kmstool_output.c - parsing what the KMS tool prints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "enclave/kms/kmstool_output.h"

#define S(x) (const uint8_t *)(x), strlen(x)

static void
test_plaintext_line_found_among_others(void **state)
{
	struct secret key = SECRET_INIT;
	const char *out = "[INFO] noise\nPLAINTEXT: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r\n";
	size_t i;

	(void)state;
	assert_int_equal(kmstool_parse_plaintext(S(out), &key), 0);
	assert_int_equal(key.len, 32);
	for (i = 0; i < 32; i++)
		assert_int_equal(key.data[i], i);
	secret_free(&key);
}

static void
test_plaintext_16_bytes_is_reported_as_16(void **state)
{
	struct secret key = SECRET_INIT;

	(void)state;
	assert_int_equal(kmstool_parse_plaintext(
	    S("PLAINTEXT: AAECAwQFBgcICQoLDA0ODw==\n"), &key), 0);
	assert_int_equal(key.len, 16);
	secret_free(&key);
}

static void
test_plaintext_rejects_garbage(void **state)
{
	struct secret key = SECRET_INIT;

	(void)state;
	assert_int_equal(kmstool_parse_plaintext(S(""), &key), -1);
	assert_int_equal(kmstool_parse_plaintext(S("hello\nworld\n"), &key), -1);
	assert_int_equal(kmstool_parse_plaintext(S("PLAINTEXT: \n"), &key), -1);
	assert_int_equal(kmstool_parse_plaintext(S("PLAINTEXT: !!!!\n"), &key), -1);
	assert_int_equal(kmstool_parse_plaintext(S("PLAINTEXT: AAE\n"), &key), -1);
	/* Not at the start of a line. */
	assert_int_equal(kmstool_parse_plaintext(
	    S("xPLAINTEXT: AAECAwQFBgcICQoLDA0ODw==\n"), &key), -1);
	assert_null(key.data);
}

static void
test_reason_skips_log_lines(void **state)
{
	char why[128];
	const char *err = "[INFO] [2024-01-01] starting\n"
	    "Got non-200 answer from KMS: 400\n"
	    "[INFO] [2024-01-01] done\n\n";

	(void)state;
	kmstool_failure_reason(S(err), NULL, why, sizeof(why));
	assert_string_equal(why, "Got non-200 answer from KMS: 400");
}

static void
test_reason_redacts_credentials_and_controls(void **state)
{
	const char *redact[] = { "AKIDSECRET", "s3cr3t/key", NULL };
	char why[128];

	(void)state;
	kmstool_failure_reason(S("bad key s3cr3t/key for AKIDSECRET\x01!\n"),
	    redact, why, sizeof(why));
	assert_string_equal(why, "bad key [redacted] for [redacted]?!");
}

static void
test_reason_redacts_before_truncating(void **state)
{
	const char *redact[] = { "0123456789abcdef", NULL };
	char why[16];

	(void)state;
	/* The secret straddles the truncation point: none of it may show. */
	kmstool_failure_reason(S("xxxxxxxxxx0123456789abcdef\n"), redact, why,
	    sizeof(why));
	assert_null(strstr(why, "0123"));
	assert_int_equal(strncmp(why, "xxxxxxxxxx[reda", 15), 0);
}

static void
test_reason_redacts_overlapping_credentials_whole(void **state)
{
	/* One credential is a prefix of another, and one overlaps another. */
	const char *redact[] = { "secret", "secretPART", "PARTtoken", NULL };
	char why[128];

	(void)state;
	kmstool_failure_reason(S("key secretPART, then secretPARTtoken.\n"),
	    redact, why, sizeof(why));
	assert_null(strstr(why, "PART"));
	assert_null(strstr(why, "token"));
	assert_string_equal(why, "key [redacted], then [redacted].");

	/* Listed the other way round; adjacent occurrences, one mark each. */
	redact[0] = "secretPART";
	redact[1] = "secret";
	kmstool_failure_reason(S("secretPARTsecret x\n"), redact, why,
	    sizeof(why));
	assert_string_equal(why, "[redacted][redacted] x");
}

static void
test_reason_empty_when_silent(void **state)
{
	char why[32] = "untouched";

	(void)state;
	kmstool_failure_reason(S(""), NULL, why, sizeof(why));
	assert_string_equal(why, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plaintext_line_found_among_others),
		cmocka_unit_test(test_plaintext_16_bytes_is_reported_as_16),
		cmocka_unit_test(test_plaintext_rejects_garbage),
		cmocka_unit_test(test_reason_skips_log_lines),
		cmocka_unit_test(test_reason_redacts_credentials_and_controls),
		cmocka_unit_test(test_reason_redacts_before_truncating),
		cmocka_unit_test(test_reason_redacts_overlapping_credentials_whole),
		cmocka_unit_test(test_reason_empty_when_silent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
