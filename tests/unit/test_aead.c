/*
 * test_aead.c - common/aead: every Wycheproof AES-GCM case with a 256-bit
 * key, 96-bit IV and 128-bit tag (valid ones open to msg and seal back to
 * ct||tag, invalid ones fail), in-place open and seal, wrong aad, every
 * tampered byte, short input, and fresh nonces.
 *
 * Vectors: $VECTORS/wycheproof/aes_gcm_test.json (the Makefile exports
 * VECTORS), else tests/vectors of the checkout, the working directory of
 * `make unit`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cJSON.h>

#include "common/aead.h"
#include "common/hex.h"

#define VECTOR_FILE "wycheproof/aes_gcm_test.json"

static const uint8_t key_a[AEAD_KEY_LEN] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
	0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
};

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (data = malloc((size_t)size + 1)) != NULL) {
		if (fread(data, 1, (size_t)size, f) != (size_t)size) {
			free(data);
			data = NULL;
		} else {
			data[size] = '\0';
			*len = (size_t)size;
		}
	}
	fclose(f);
	return data;
}

static char *
load_vectors(size_t *len)
{
	const char *dir = getenv("VECTORS");
	char path[4096];

	if (dir == NULL || dir[0] == '\0')
		dir = "tests/vectors";
	snprintf(path, sizeof(path), "%s/%s", dir, VECTOR_FILE);
	return read_file(path, len);
}

/* A hex field of a test case, decoded into a fresh buffer (never NULL). */
static uint8_t *
field(const cJSON *t, const char *name, size_t *len)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(t, name);
	size_t n;
	uint8_t *out;

	assert_true(cJSON_IsString(f));
	n = strlen(f->valuestring);
	assert_int_equal(n % 2, 0);
	out = malloc(n / 2 + 1);
	assert_non_null(out);
	assert_int_equal(hex_decode(out, f->valuestring, n), 0);
	*len = n / 2;
	return out;
}

static int
group_int(const cJSON *g, const char *name)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(g, name);

	return cJSON_IsNumber(f) ? f->valueint : -1;
}

/* One case; returns 1 if it was valid, 0 if invalid. */
static int
run_case(const cJSON *t)
{
	const cJSON *result = cJSON_GetObjectItemCaseSensitive(t, "result");
	size_t key_len, iv_len, aad_len, msg_len, ct_len, tag_len, n;
	uint8_t *key = field(t, "key", &key_len);
	uint8_t *iv = field(t, "iv", &iv_len);
	uint8_t *aad = field(t, "aad", &aad_len);
	uint8_t *msg = field(t, "msg", &msg_len);
	uint8_t *ct = field(t, "ct", &ct_len);
	uint8_t *tag = field(t, "tag", &tag_len);
	uint8_t *in, *out, *sealed;
	int valid;

	assert_true(cJSON_IsString(result));
	assert_int_equal(key_len, AEAD_KEY_LEN);
	assert_int_equal(iv_len, AEAD_NONCE_LEN);
	assert_int_equal(tag_len, AEAD_TAG_LEN);
	n = AEAD_NONCE_LEN + ct_len + AEAD_TAG_LEN;
	in = malloc(n);
	out = malloc(ct_len + 1);
	sealed = malloc(AEAD_OVERHEAD + msg_len);
	assert_non_null(in);
	assert_non_null(out);
	assert_non_null(sealed);
	memcpy(in, iv, AEAD_NONCE_LEN);
	memcpy(in + AEAD_NONCE_LEN, ct, ct_len);
	memcpy(in + AEAD_NONCE_LEN + ct_len, tag, AEAD_TAG_LEN);

	valid = strcmp(result->valuestring, "valid") == 0;
	if (valid) {
		assert_int_equal(ct_len, msg_len);
		assert_int_equal(aead_open(key, aad, aad_len, in, n, out), 0);
		assert_memory_equal(out, msg, msg_len);
		assert_int_equal(aead_seal_with_nonce(key, iv, aad, aad_len,
		    msg, msg_len, sealed), 0);
		assert_memory_equal(sealed, in, n);
	} else {
		/* "acceptable" would need a decision; this set has none. */
		assert_string_equal(result->valuestring, "invalid");
		assert_int_equal(aead_open(key, aad, aad_len, in, n, out), -1);
	}
	free(key);
	free(iv);
	free(aad);
	free(msg);
	free(ct);
	free(tag);
	free(in);
	free(out);
	free(sealed);
	return valid;
}

static void
test_wycheproof(void **state)
{
	size_t len = 0, run = 0, valid = 0;
	char *text = load_vectors(&len);
	const cJSON *groups, *g, *t;
	cJSON *root;

	(void)state;
	if (text == NULL)
		fail_msg("cannot read %s under $VECTORS or tests/vectors",
		    VECTOR_FILE);
	root = cJSON_ParseWithLength(text, len);
	assert_non_null(root);
	groups = cJSON_GetObjectItemCaseSensitive(root, "testGroups");
	assert_true(cJSON_IsArray(groups));
	cJSON_ArrayForEach(g, groups) {
		const cJSON *tests;

		if (group_int(g, "keySize") != 256 ||
		    group_int(g, "ivSize") != 96 ||
		    group_int(g, "tagSize") != 128)
			continue;
		tests = cJSON_GetObjectItemCaseSensitive(g, "tests");
		assert_true(cJSON_IsArray(tests));
		cJSON_ArrayForEach(t, tests) {
			valid += (size_t)run_case(t);
			run++;
		}
	}
	cJSON_Delete(root);
	free(text);
	print_message("wycheproof: %zu cases (%zu valid, %zu invalid)\n",
	    run, valid, run - valid);
	assert_true(run > 0);
	assert_true(valid > 0);
	assert_true(run - valid > 0);
}

static void
test_round_trip(void **state)
{
	static const char msg[] = "the quick brown fox";
	uint8_t sealed[sizeof(msg) + AEAD_OVERHEAD], out[sizeof(msg)];

	(void)state;
	assert_int_equal(aead_seal(key_a, (const uint8_t *)"aad", 3,
	    (const uint8_t *)msg, sizeof(msg), sealed), 0);
	assert_int_equal(aead_open(key_a, (const uint8_t *)"aad", 3, sealed,
	    sizeof(sealed), out), 0);
	assert_memory_equal(out, msg, sizeof(msg));
}

/* Empty plaintext: only nonce and tag; pt may be NULL. */
static void
test_empty_plaintext(void **state)
{
	uint8_t sealed[AEAD_OVERHEAD], out[1];

	(void)state;
	assert_int_equal(aead_seal(key_a, NULL, 0, NULL, 0, sealed), 0);
	assert_int_equal(aead_open(key_a, NULL, 0, sealed, sizeof(sealed),
	    out), 0);
	sealed[AEAD_NONCE_LEN] ^= 1;
	assert_int_equal(aead_open(key_a, NULL, 0, sealed, sizeof(sealed),
	    out), -1);
}

/* aead_open with out = in + 12: the daemon decrypts requests this way. */
static void
test_open_in_place(void **state)
{
	uint8_t pt[1000], buf[sizeof(pt) + AEAD_OVERHEAD];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 7);
	assert_int_equal(aead_seal(key_a, NULL, 0, pt, sizeof(pt), buf), 0);
	assert_int_equal(aead_open(key_a, NULL, 0, buf, sizeof(buf),
	    buf + AEAD_NONCE_LEN), 0);
	assert_memory_equal(buf + AEAD_NONCE_LEN, pt, sizeof(pt));
}

/* aead_seal reading the plaintext from out + 12: responses are built so. */
static void
test_seal_in_place(void **state)
{
	uint8_t pt[777], buf[sizeof(pt) + AEAD_OVERHEAD], out[sizeof(pt)];
	uint8_t ref[sizeof(buf)], nonce[AEAD_NONCE_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i ^ 0x5a);
	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(0xa0 + i);
	memcpy(buf + AEAD_NONCE_LEN, pt, sizeof(pt));
	assert_int_equal(aead_seal(key_a, (const uint8_t *)"x", 1,
	    buf + AEAD_NONCE_LEN, sizeof(pt), buf), 0);
	assert_int_equal(aead_open(key_a, (const uint8_t *)"x", 1, buf,
	    sizeof(buf), out), 0);
	assert_memory_equal(out, pt, sizeof(pt));
	/* in place and out of place give the same bytes for the same nonce */
	memcpy(buf + AEAD_NONCE_LEN, pt, sizeof(pt));
	assert_int_equal(aead_seal_with_nonce(key_a, nonce, NULL, 0,
	    buf + AEAD_NONCE_LEN, sizeof(pt), buf), 0);
	assert_int_equal(aead_seal_with_nonce(key_a, nonce, NULL, 0, pt,
	    sizeof(pt), ref), 0);
	assert_memory_equal(buf, ref, sizeof(buf));
}

static void
test_wrong_aad(void **state)
{
	static const uint8_t pt[] = "payload";
	uint8_t sealed[sizeof(pt) + AEAD_OVERHEAD], out[sizeof(pt)];

	(void)state;
	assert_int_equal(aead_seal(key_a, (const uint8_t *)"agent-1", 7, pt,
	    sizeof(pt), sealed), 0);
	assert_int_equal(aead_open(key_a, (const uint8_t *)"agent-2", 7,
	    sealed, sizeof(sealed), out), -1);
	assert_int_equal(aead_open(key_a, (const uint8_t *)"agent-", 6,
	    sealed, sizeof(sealed), out), -1);
	assert_int_equal(aead_open(key_a, NULL, 0, sealed, sizeof(sealed),
	    out), -1);
	assert_int_equal(aead_open(key_a, (const uint8_t *)"agent-1", 7,
	    sealed, sizeof(sealed), out), 0);
	/* sealed without aad does not open with one */
	assert_int_equal(aead_seal(key_a, NULL, 0, pt, sizeof(pt), sealed), 0);
	assert_int_equal(aead_open(key_a, (const uint8_t *)"a", 1, sealed,
	    sizeof(sealed), out), -1);
}

static void
test_wrong_key(void **state)
{
	static const uint8_t pt[] = "payload";
	uint8_t sealed[sizeof(pt) + AEAD_OVERHEAD], out[sizeof(pt)];
	uint8_t key_b[AEAD_KEY_LEN];

	(void)state;
	memcpy(key_b, key_a, sizeof(key_b));
	key_b[31] ^= 0x80;
	assert_int_equal(aead_seal(key_a, NULL, 0, pt, sizeof(pt), sealed), 0);
	assert_int_equal(aead_open(key_b, NULL, 0, sealed, sizeof(sealed),
	    out), -1);
}

/* Any flipped bit anywhere (nonce, ciphertext, tag) fails; out is wiped. */
static void
test_tampered_bytes(void **state)
{
	static const uint8_t pt[] = "sixteen byte msg+more";
	uint8_t sealed[sizeof(pt) + AEAD_OVERHEAD], out[sizeof(pt)];
	uint8_t zero[sizeof(pt)];
	size_t i;

	(void)state;
	memset(zero, 0, sizeof(zero));
	assert_int_equal(aead_seal(key_a, NULL, 0, pt, sizeof(pt), sealed), 0);
	for (i = 0; i < sizeof(sealed); i++) {
		sealed[i] ^= 0x01;
		memset(out, 0xee, sizeof(out));
		assert_int_equal(aead_open(key_a, NULL, 0, sealed,
		    sizeof(sealed), out), -1);
		assert_memory_equal(out, zero, sizeof(out));
		sealed[i] ^= 0x01;
	}
	assert_int_equal(aead_open(key_a, NULL, 0, sealed, sizeof(sealed),
	    out), 0);
	/* truncated or extended by a byte */
	assert_int_equal(aead_open(key_a, NULL, 0, sealed, sizeof(sealed) - 1,
	    out), -1);
}

static void
test_too_short(void **state)
{
	uint8_t in[AEAD_OVERHEAD], out[1];
	size_t n;

	(void)state;
	memset(in, 0, sizeof(in));
	for (n = 0; n < AEAD_OVERHEAD; n++)
		assert_int_equal(aead_open(key_a, NULL, 0, in, n, out), -1);
}

/* Two seals of the same message differ: a fresh random nonce each time. */
static void
test_fresh_nonces(void **state)
{
	static const uint8_t pt[] = "same";
	uint8_t a[sizeof(pt) + AEAD_OVERHEAD], b[sizeof(pt) + AEAD_OVERHEAD];

	(void)state;
	assert_int_equal(aead_seal(key_a, NULL, 0, pt, sizeof(pt), a), 0);
	assert_int_equal(aead_seal(key_a, NULL, 0, pt, sizeof(pt), b), 0);
	assert_memory_not_equal(a, b, AEAD_NONCE_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wycheproof),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_plaintext),
		cmocka_unit_test(test_open_in_place),
		cmocka_unit_test(test_seal_in_place),
		cmocka_unit_test(test_wrong_aad),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_tampered_bytes),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_fresh_nonces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
