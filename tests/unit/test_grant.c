/*
 * test_grant.c - common/grant: the commitment and the grant match the
 * layout docs/protocol.md gives (a vector computed with Python's hmac
 * from that text, not with this code), and grant_check refuses every
 * way a grant can be wrong, tags before anything the grant says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/grant.h"
#include "common/hex.h"

/* input key 00..1f, result key 20..3f, expires_at 1800000000 */
static const char want_commitment[] =
    "d752dc81944c98c2344ce45e978c683b69d477d5d06394ec844b2cc0434e691d";
static const char want_grant[] =
    "01000000006b49d200"
    "d752dc81944c98c2344ce45e978c683b69d477d5d06394ec844b2cc0434e691d"
    "b8aa837c8614aa31b8c5f747441a9b8dea9c8a8ddeba4015bbe7b7de30b737ef";
#define EXPIRES 1800000000ULL

static uint8_t input_key[32], result_key[32], other_key[32];

static int
setup(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 32; i++) {
		input_key[i] = (uint8_t)i;
		result_key[i] = (uint8_t)(32 + i);
		other_key[i] = (uint8_t)(64 + i);
	}
	return 0;
}

static void
test_matches_the_documented_vector(void **state)
{
	uint8_t c[GRANT_COMMITMENT_LEN], g[GRANT_LEN];
	char hex[GRANT_HEX_LEN + 1];

	(void)state;
	assert_int_equal(grant_commitment(result_key, c), 0);
	hex_encode(hex, c, sizeof(c));
	hex[2 * sizeof(c)] = '\0';
	assert_string_equal(hex, want_commitment);
	assert_int_equal(grant_make(input_key, c, EXPIRES, g), 0);
	hex_encode(hex, g, sizeof(g));
	hex[GRANT_HEX_LEN] = '\0';
	assert_string_equal(hex, want_grant);
}

static void
test_valid_until_it_expires(void **state)
{
	uint8_t c[GRANT_COMMITMENT_LEN], g[GRANT_LEN];
	struct reason why = { .text = "" };

	(void)state;
	assert_int_equal(hex_decode(g, want_grant, GRANT_HEX_LEN), 0);
	assert_int_equal(grant_commitment(result_key, c), 0);
	assert_int_equal(grant_check(input_key, c, EXPIRES - 1, g, &why),
	    GRANT_VALID);
	assert_int_equal(grant_check(input_key, c, EXPIRES, g, &why),
	    GRANT_EXPIRED);
	assert_non_null(strstr(why.text, "expired at 1800000000"));
	assert_int_equal(grant_check(input_key, c, -1, g, &why),
	    GRANT_EXPIRED);
}

static void
test_refuses_another_result_key(void **state)
{
	uint8_t c[GRANT_COMMITMENT_LEN], g[GRANT_LEN];
	struct reason why = { .text = "" };

	(void)state;
	assert_int_equal(hex_decode(g, want_grant, GRANT_HEX_LEN), 0);
	assert_int_equal(grant_commitment(other_key, c), 0);
	assert_int_equal(grant_check(input_key, c, 0, g, &why),
	    GRANT_WRONG_RESULT_KEY);
	assert_string_equal(why.text, "the grant names another result key");
}

static void
test_refuses_a_grant_of_another_input_key(void **state)
{
	uint8_t c[GRANT_COMMITMENT_LEN], g[GRANT_LEN];
	struct reason why = { .text = "" };

	(void)state;
	/* The host's key made it: the tag is checked under the input key. */
	assert_int_equal(grant_commitment(result_key, c), 0);
	assert_int_equal(grant_make(other_key, c, EXPIRES, g), 0);
	assert_int_equal(grant_check(input_key, c, 0, g, &why),
	    GRANT_WRONG_INPUT_KEY);
}

/* Every bit of a grant counts: flipping any one fails the tag (or the
 * version), never passes. */
static void
test_every_bit_flip_refused(void **state)
{
	uint8_t c[GRANT_COMMITMENT_LEN], g[GRANT_LEN];
	size_t bit;

	(void)state;
	assert_int_equal(grant_commitment(result_key, c), 0);
	for (bit = 0; bit < 8 * GRANT_LEN; bit++) {
		assert_int_equal(hex_decode(g, want_grant, GRANT_HEX_LEN), 0);
		g[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(grant_check(input_key, c, 0, g, NULL),
		    GRANT_VALID);
	}
}

static void
test_version_and_expiry_required(void **state)
{
	uint8_t c[GRANT_COMMITMENT_LEN], g[GRANT_LEN];
	struct reason why = { .text = "" };

	(void)state;
	assert_int_equal(grant_commitment(result_key, c), 0);
	assert_int_equal(grant_make(input_key, c, 0, g), -1);
	assert_int_equal(hex_decode(g, want_grant, GRANT_HEX_LEN), 0);
	g[0] = 2;
	assert_int_equal(grant_check(input_key, c, 0, g, &why),
	    GRANT_MALFORMED);
	assert_string_equal(why.text, "grant version 2 is not 1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_the_documented_vector),
		cmocka_unit_test(test_valid_until_it_expires),
		cmocka_unit_test(test_refuses_another_result_key),
		cmocka_unit_test(test_refuses_a_grant_of_another_input_key),
		cmocka_unit_test(test_every_bit_flip_refused),
		cmocka_unit_test(test_version_and_expiry_required),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
