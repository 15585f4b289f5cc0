/*
 * test_grant.c - common/grant: the commitment and the grant match the
 * layout docs/protocol.md gives (a vector computed with Python's hmac
 * from that text, not with this code), and grant_check refuses every
 * way a grant can be wrong, each tag before anything it covers.
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
    "ce36b735f85ea008effde206d6b432e1f35d0f7c2916050728f9181bf4a9bb9c"
    "d752dc81944c98c2344ce45e978c683b69d477d5d06394ec844b2cc0434e691d"
    "d8f17a8e2854d3109e3e14d9c8ef4e0ba1999ba60ab1cdd1f6b341d34a40e712"
    "6e72a84eaf551e6983bd6002b28f3cabbb671dfc2241b4a86f1b049e0077e60d";
#define EXPIRES 1800000000ULL
/* A moment the vector's grant holds at: an hour before it expires. */
#define NOW     ((time_t)(EXPIRES - 3600))

static uint8_t input_key[32], result_key[32], other_key[32];
static uint8_t input_c[32], result_c[32], other_c[32];

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
	if (grant_commitment(input_key, input_c) < 0 ||
	    grant_commitment(result_key, result_c) < 0 ||
	    grant_commitment(other_key, other_c) < 0)
		return -1;
	return 0;
}

static enum grant_verdict
check(const uint8_t *in_key, const uint8_t *in_c, const uint8_t *out_key,
    const uint8_t *out_c, time_t now, const uint8_t *g, struct reason *why)
{
	return grant_check((struct grant_key){ in_key, in_c },
	    (struct grant_key){ out_key, out_c }, now, g, why);
}

static void
load(uint8_t g[GRANT_LEN])
{
	assert_int_equal(hex_decode(g, want_grant, GRANT_HEX_LEN), 0);
}

static void
test_matches_the_documented_vector(void **state)
{
	uint8_t g[GRANT_LEN];
	char hex[GRANT_HEX_LEN + 1];

	(void)state;
	hex_encode(hex, result_c, sizeof(result_c));
	hex[2 * sizeof(result_c)] = '\0';
	assert_string_equal(hex, want_commitment);
	assert_int_equal(grant_release(input_key, result_c, EXPIRES, g), 0);
	/* Released only: the accept tag is zero until its holder adds it. */
	hex_encode(hex, g, sizeof(g));
	hex[GRANT_HEX_LEN] = '\0';
	assert_memory_equal(hex, want_grant, GRANT_HEX_LEN - 64);
	assert_string_equal(hex + GRANT_HEX_LEN - 64,
	    "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(grant_accept(result_key, g, NULL), 0);
	hex_encode(hex, g, sizeof(g));
	assert_string_equal(hex, want_grant);
}

static void
test_valid_until_it_expires(void **state)
{
	uint8_t g[GRANT_LEN];
	struct reason why = { .text = "" };

	(void)state;
	load(g);
	assert_int_equal(check(input_key, input_c, result_key, result_c,
	    EXPIRES - 1, g, &why), GRANT_VALID);
	assert_int_equal(check(input_key, input_c, result_key, result_c,
	    EXPIRES, g, &why), GRANT_EXPIRED);
	assert_non_null(strstr(why.text, "expired at 1800000000"));
	assert_int_equal(check(input_key, input_c, result_key, result_c, -1, g,
	    &why), GRANT_EXPIRED);
	/* A grant running past GRANT_MAX_LIFETIME_S is refused. */
	assert_int_equal(check(input_key, input_c, result_key, result_c,
	    (time_t)EXPIRES - GRANT_MAX_LIFETIME_S - 1, g, &why),
	    GRANT_MALFORMED);
	assert_non_null(strstr(why.text, "more than 367 days"));
	assert_int_equal(check(input_key, input_c, result_key, result_c,
	    (time_t)EXPIRES - GRANT_MAX_LIFETIME_S, g, &why), GRANT_VALID);
}

static void
test_refuses_another_result_key(void **state)
{
	uint8_t g[GRANT_LEN];
	struct reason why = { .text = "" };

	(void)state;
	load(g);
	assert_int_equal(check(input_key, input_c, other_key, other_c, NOW, g,
	    &why), GRANT_WRONG_RESULT_KEY);
	assert_string_equal(why.text, "the grant names another result key");
	assert_int_equal(grant_accept(other_key, g, &why), -1);
	assert_string_equal(why.text, "the grant names another result key");
}

/* The host holds other_key: it can neither release an owner's data to it
 * (read) nor accept its own data under the owner's key (write). */
static void
test_refuses_a_grant_the_host_made(void **state)
{
	uint8_t g[GRANT_LEN];
	struct reason why = { .text = "" };

	(void)state;
	/* Released with the host's key, naming the owner's as the input. */
	assert_int_equal(grant_release(other_key, other_c, EXPIRES, g), 0);
	memcpy(g + 9, input_c, 32);
	assert_int_equal(grant_accept(other_key, g, NULL), 0);
	assert_int_equal(check(input_key, input_c, other_key, other_c, NOW, g,
	    &why), GRANT_WRONG_INPUT_KEY);
	assert_non_null(strstr(why.text, "not released with the key"));
	/* For data under its own key, to the owner's: the owner never
	 * accepted it. */
	assert_int_equal(grant_release(other_key, result_c, EXPIRES, g), 0);
	assert_int_equal(check(other_key, other_c, result_key, result_c, NOW, g,
	    &why), GRANT_NOT_ACCEPTED);
	/* An accept tag copied from a genuine grant covers another body. */
	{
		uint8_t real[GRANT_LEN];

		load(real);
		memcpy(g + GRANT_BODY_LEN + GRANT_TAG_LEN,
		    real + GRANT_BODY_LEN + GRANT_TAG_LEN, GRANT_TAG_LEN);
		assert_int_equal(check(other_key, other_c, result_key, result_c, NOW, g, &why), GRANT_NOT_ACCEPTED);
	}
	/* A genuine grant presented for data under another key. */
	load(g);
	assert_int_equal(check(other_key, other_c, result_key, result_c, NOW, g,
	    &why), GRANT_WRONG_INPUT_KEY);
	assert_string_equal(why.text, "the grant is for data under another key");
}

/* A release tag cannot stand in for an accept tag: per-side keys. */
static void
test_sides_are_separate(void **state)
{
	uint8_t g[GRANT_LEN];

	(void)state;
	/* Same key on both sides: the release tag copied into the accept
	 * slot does not pass, only a real acceptance does. */
	assert_int_equal(grant_release(input_key, input_c, EXPIRES, g), 0);
	memcpy(g + GRANT_BODY_LEN + GRANT_TAG_LEN, g + GRANT_BODY_LEN,
	    GRANT_TAG_LEN);
	assert_int_equal(check(input_key, input_c, input_key, input_c, NOW, g,
	    NULL), GRANT_NOT_ACCEPTED);
	assert_int_equal(grant_accept(input_key, g, NULL), 0);
	assert_int_equal(check(input_key, input_c, input_key, input_c, NOW, g,
	    NULL), GRANT_VALID);
}

/* Every bit of a grant counts: flipping any one fails a tag, a
 * commitment or the version, never passes. */
static void
test_every_bit_flip_refused(void **state)
{
	uint8_t g[GRANT_LEN];
	size_t bit;

	(void)state;
	for (bit = 0; bit < 8 * GRANT_LEN; bit++) {
		load(g);
		g[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(check(input_key, input_c, result_key,
		    result_c, NOW, g, NULL), GRANT_VALID);
	}
}

static void
test_version_and_expiry_required(void **state)
{
	uint8_t g[GRANT_LEN];
	struct reason why = { .text = "" };

	(void)state;
	assert_int_equal(grant_release(input_key, result_c, 0, g), -1);
	load(g);
	g[0] = 2;
	assert_int_equal(check(input_key, input_c, result_key, result_c, NOW, g,
	    &why), GRANT_MALFORMED);
	assert_string_equal(why.text, "grant version 2 is not 1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_the_documented_vector),
		cmocka_unit_test(test_valid_until_it_expires),
		cmocka_unit_test(test_refuses_another_result_key),
		cmocka_unit_test(test_refuses_a_grant_the_host_made),
		cmocka_unit_test(test_sides_are_separate),
		cmocka_unit_test(test_every_bit_flip_refused),
		cmocka_unit_test(test_version_and_expiry_required),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
