/*
 * test_keystore.c - the table of named TSKs (src/enclave/keystore.c):
 * ids, the latest key, forget, the --max-keys bound, references that
 * outlive a replace or forget, and the nonce budget counted per key
 * identity (docs/security.md, F11).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "enclave/keystore.h"

/* The store under test, made anew for each test (setup). */
static struct keystore *ks;

static void
make_key(struct secret *s, uint8_t fill)
{
	assert_int_equal(secret_alloc(s, 32), 0);
	memset(s->data, fill, 32);
}

/* Installs take the key over; a refused one leaves it to the caller. */
static enum keystore_status
install(const char *id, uint8_t fill)
{
	enum keystore_status st;
	struct secret s;

	make_key(&s, fill);
	st = keystore_install(ks, id, &s);
	if (st == KEYSTORE_OK)
		assert_null(s.data);
	else
		secret_free(&s);
	return st;
}

static int
setup(void **state)
{
	(void)state;
	keystore_free(ks);
	return (ks = keystore_new(3)) != NULL ? 0 : -1;
}

static void
test_key_id_alphabet(void **state)
{
	(void)state;
	assert_true(key_id_valid("default", 7));
	assert_true(key_id_valid("A-z_0.9", 7));
	assert_false(key_id_valid("", 0));
	assert_false(key_id_valid("a b", 3));
	assert_false(key_id_valid("a/b", 3));
	assert_false(key_id_valid("a\0b", 3));
	assert_false(key_id_valid("caf\xc3\xa9", 5));
	assert_true(key_id_valid("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	    64));
	assert_false(key_id_valid("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	    65));
}

static void
test_latest_named_and_unknown(void **state)
{
	enum keystore_status st;
	struct tsk *k;

	(void)state;
	assert_null(keystore_acquire(ks, NULL, &st));
	assert_int_equal(st, KEYSTORE_NOT_CONFIGURED);
	assert_int_equal(install("a", 1), KEYSTORE_OK);
	assert_int_equal(install("b", 2), KEYSTORE_OK);
	k = keystore_acquire(ks, NULL, &st);
	assert_non_null(k);
	assert_string_equal(tsk_id(k), "b");
	assert_int_equal(tsk_bytes(k)[0], 2);
	keystore_release(k);
	k = keystore_acquire(ks, "a", &st);
	assert_int_equal(tsk_bytes(k)[0], 1);
	keystore_release(k);
	assert_null(keystore_acquire(ks, "c", &st));
	assert_int_equal(st, KEYSTORE_UNKNOWN_KEY);
	/* Forgetting the latest: the newest one left takes its place. */
	assert_int_equal(keystore_forget(ks, "b"), KEYSTORE_OK);
	k = keystore_acquire(ks, NULL, &st);
	assert_string_equal(tsk_id(k), "a");
	keystore_release(k);
	assert_int_equal(keystore_forget(ks, "b"), KEYSTORE_UNKNOWN_KEY);
	assert_int_equal(keystore_forget(ks, "a"), KEYSTORE_OK);
	assert_false(keystore_configured(ks));
}

static void
test_max_keys(void **state)
{
	struct keystore_entry e[4];

	(void)state;
	assert_int_equal(install("a", 1), KEYSTORE_OK);
	assert_int_equal(install("b", 2), KEYSTORE_OK);
	assert_int_equal(install("c", 3), KEYSTORE_OK);
	assert_int_equal(install("d", 4), KEYSTORE_TOO_MANY_KEYS);
	assert_int_equal(install("b", 5), KEYSTORE_OK);	/* a replace */
	assert_int_equal(keystore_list(ks, e, 4), 3);
	/* Oldest configure first: b was configured again last. */
	assert_string_equal(e[0].key_id, "a");
	assert_string_equal(e[1].key_id, "c");
	assert_string_equal(e[2].key_id, "b");
	assert_int_equal(install("bad id", 6), KEYSTORE_INVALID);
}

/* A request holding a key finishes with it across a replace and a forget. */
static void
test_reference_outlives_replace_and_forget(void **state)
{
	enum keystore_status st;
	struct tsk *held, *now;

	(void)state;
	assert_int_equal(install("a", 1), KEYSTORE_OK);
	held = keystore_acquire(ks, "a", &st);
	assert_int_equal(install("a", 2), KEYSTORE_OK);
	now = keystore_acquire(ks, "a", &st);
	assert_int_equal(tsk_bytes(now)[0], 2);
	keystore_release(now);
	assert_int_equal(keystore_forget(ks, "a"), KEYSTORE_OK);
	/* Still the old bytes (ASan: not freed yet). */
	assert_int_equal(tsk_bytes(held)[31], 1);
	keystore_release(held);
}

/*
 * F11: configuring the same key again, under its id or another, or after
 * a forget, continues its count; only another key starts from zero.
 */
static void
test_budget_follows_the_key_not_the_configure(void **state)
{
	enum keystore_status st;
	struct tsk *k;
	int i;

	(void)state;
	assert_int_equal(install("a", 7), KEYSTORE_OK);
	k = keystore_acquire(ks, "a", &st);
	for (i = 0; i < 3; i++)
		assert_int_equal(tsk_reserve_encryption(k, 3), 0);
	assert_int_equal(tsk_reserve_encryption(k, 3), -1);
	keystore_release(k);
	assert_int_equal(install("a", 7), KEYSTORE_OK);
	k = keystore_acquire(ks, "a", &st);
	assert_int_equal(tsk_reserve_encryption(k, 3), -1);
	keystore_release(k);
	assert_int_equal(keystore_forget(ks, "a"), KEYSTORE_OK);
	assert_int_equal(install("other-id", 7), KEYSTORE_OK);
	k = keystore_acquire(ks, "other-id", &st);
	assert_int_equal(tsk_reserve_encryption(k, 3), -1);
	keystore_release(k);
	assert_int_equal(keystore_encryptions(ks), 3);
	assert_int_equal(install("fresh", 8), KEYSTORE_OK);
	k = keystore_acquire(ks, "fresh", &st);
	assert_int_equal(tsk_reserve_encryption(k, 3), 0);
	keystore_release(k);
}

/*
 * The identities are bounded (64 for 3 keys): past them a new key is
 * refused, not an old identity dropped (which would reset its count).
 */
static void
test_identity_history_is_bounded(void **state)
{
	struct secret s;
	uint32_t i;

	(void)state;
	for (i = 0; i < 64; i++) {
		assert_int_equal(secret_alloc(&s, 32), 0);
		memcpy(s.data, &i, sizeof(i));
		assert_int_equal(keystore_install(ks, "a", &s), KEYSTORE_OK);
	}
	assert_int_equal(secret_alloc(&s, 32), 0);
	memcpy(s.data, &i, sizeof(i));
	assert_int_equal(keystore_install(ks, "a", &s), KEYSTORE_HISTORY_FULL);
	secret_free(&s);
	/* A key seen before is no new identity. */
	i = 5;
	assert_int_equal(secret_alloc(&s, 32), 0);
	memcpy(s.data, &i, sizeof(i));
	assert_int_equal(keystore_install(ks, "b", &s), KEYSTORE_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_key_id_alphabet, setup),
		cmocka_unit_test_setup(test_latest_named_and_unknown, setup),
		cmocka_unit_test_setup(test_max_keys, setup),
		cmocka_unit_test_setup(test_reference_outlives_replace_and_forget,
		    setup),
		cmocka_unit_test_setup(test_budget_follows_the_key_not_the_configure,
		    setup),
		cmocka_unit_test_setup(test_identity_history_is_bounded, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
