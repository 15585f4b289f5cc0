/*
 * test_kmstool_dev.c - kmstool-dev's blob format, master keys and hook
 * selection. The command line contract is tested by
 * tests/integration/test_kmstool_dev.py.
 *
 * The tool's sources are not in a library, so the modules under test are
 * compiled into this binary directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/sha.h>

#include "common/base64.h"
#include "common/hex.h"
#include "standins/kmstool-dev/blob.c"
#include "standins/kmstool-dev/hooks.c"
#include "standins/kmstool-dev/master_key.c"
#include "standins/kmstool-dev/report.c"

static const uint8_t data_key[32] = {
	0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
};

static void
builtin(struct secret *m)
{
	assert_int_equal(kt_master_key_builtin(m), 0);
	assert_int_equal(m->len, KT_MASTER_KEY_LEN);
}

static void
test_builtin_key_is_label_hash(void **state)
{
	uint8_t want[SHA256_DIGEST_LENGTH];
	struct secret m = SECRET_INIT;

	(void)state;
	SHA256((const unsigned char *)KT_DEV_MASTER_LABEL,
	    strlen(KT_DEV_MASTER_LABEL), want);
	builtin(&m);
	assert_memory_equal(m.data, want, sizeof(want));
	secret_free(&m);
	assert_null(m.data);
}

static void
test_blob_layout_and_round_trip(void **state)
{
	struct secret m = SECRET_INIT, pt = SECRET_INIT;
	struct buf blob = BUF_INIT;
	struct kt_blob b;

	(void)state;
	builtin(&m);
	assert_int_equal(kt_blob_seal(&m, "alias/dev", data_key,
	    sizeof(data_key), &blob), 0);
	assert_int_equal(blob.len, 6 + 9 + AEAD_OVERHEAD + 32);
	assert_memory_equal(blob.data, "KTDV\x01\x09" "alias/dev", 15);
	assert_int_equal(kt_blob_parse(&b, blob.data, blob.len), 0);
	assert_int_equal(b.key_id_len, 9);
	assert_memory_equal(b.key_id, "alias/dev", 9);
	assert_int_equal(b.header_len, 15);
	assert_int_equal(b.sealed_len, AEAD_OVERHEAD + 32);
	assert_int_equal(kt_blob_open(&b, &m, &pt), 0);
	assert_int_equal(pt.len, 32);
	assert_memory_equal(pt.data, data_key, 32);
	secret_free(&pt);
	/* AES-128 sized keys too */
	assert_int_equal(kt_blob_seal(&m, "k", data_key, 16, &blob), 0);
	assert_int_equal(kt_blob_parse(&b, blob.data, blob.len), 0);
	assert_int_equal(kt_blob_open(&b, &m, &pt), 0);
	assert_int_equal(pt.len, 16);
	secret_free(&pt);
	buf_free(&blob, 0);
	secret_free(&m);
}

/* Every single flipped bit is refused, by parse or by authentication. */
static void
test_blob_tamper(void **state)
{
	struct secret m = SECRET_INIT, pt = SECRET_INIT;
	struct buf blob = BUF_INIT;
	struct kt_blob b;
	size_t i;

	(void)state;
	builtin(&m);
	assert_int_equal(kt_blob_seal(&m, "alias/dev", data_key,
	    sizeof(data_key), &blob), 0);
	for (i = 0; i < blob.len; i++) {
		blob.data[i] ^= 0x01;
		if (kt_blob_parse(&b, blob.data, blob.len) == 0)
			assert_int_equal(kt_blob_open(&b, &m, &pt), -1);
		assert_null(pt.data);
		blob.data[i] ^= 0x01;
	}
	/* the key id is authenticated: a same-length edit does not open */
	blob.data[6] = 'A';
	assert_int_equal(kt_blob_parse(&b, blob.data, blob.len), 0);
	assert_int_equal(kt_blob_open(&b, &m, &pt), -1);
	blob.data[6] = 'a';
	/* truncation */
	for (i = 0; i < blob.len; i++)
		if (kt_blob_parse(&b, blob.data, i) == 0)
			assert_int_equal(kt_blob_open(&b, &m, &pt), -1);
	buf_free(&blob, 0);
	secret_free(&m);
}

static void
test_blob_wrong_master(void **state)
{
	struct secret m = SECRET_INIT, other = SECRET_INIT, pt = SECRET_INIT;
	struct buf blob = BUF_INIT;
	struct kt_blob b;

	(void)state;
	builtin(&m);
	assert_int_equal(secret_dup(&other, m.data, m.len), 0);
	other.data[0] ^= 0xff;
	assert_int_equal(kt_blob_seal(&m, "alias/dev", data_key, 32, &blob), 0);
	assert_int_equal(kt_blob_parse(&b, blob.data, blob.len), 0);
	assert_int_equal(kt_blob_open(&b, &other, &pt), -1);
	assert_int_equal(kt_blob_open(&b, &m, &pt), 0);
	secret_free(&pt);
	buf_free(&blob, 0);
	secret_free(&m);
	secret_free(&other);
}

static void
test_blob_parse_refusals(void **state)
{
	uint8_t b64[64];
	struct kt_blob b;
	uint8_t raw[64];

	(void)state;
	memset(raw, 0x41, sizeof(raw));
	memcpy(raw, "KTDV\x01\x01k", 7);
	assert_int_equal(kt_blob_parse(&b, raw, 7 + AEAD_OVERHEAD + 1), 0);
	/* no data key byte */
	assert_int_equal(kt_blob_parse(&b, raw, 7 + AEAD_OVERHEAD), -1);
	/* wrong magic, wrong version */
	raw[0] = 'X';
	assert_int_equal(kt_blob_parse(&b, raw, sizeof(raw)), -1);
	raw[0] = 'K';
	raw[4] = 2;
	assert_int_equal(kt_blob_parse(&b, raw, sizeof(raw)), -1);
	raw[4] = 1;
	/* empty key id, key id with a space or a control byte */
	raw[5] = 0;
	assert_int_equal(kt_blob_parse(&b, raw, sizeof(raw)), -1);
	raw[5] = 1;
	raw[6] = ' ';
	assert_int_equal(kt_blob_parse(&b, raw, sizeof(raw)), -1);
	raw[6] = '\n';
	assert_int_equal(kt_blob_parse(&b, raw, sizeof(raw)), -1);
	/* key id longer than the blob */
	raw[6] = 'k';
	raw[5] = 200;
	assert_int_equal(kt_blob_parse(&b, raw, sizeof(raw)), -1);
	/* far too short, and not a blob at all */
	assert_int_equal(kt_blob_parse(&b, raw, 0), -1);
	assert_int_equal(kt_blob_parse(&b, raw, 5), -1);
	memset(b64, 0, sizeof(b64));
	assert_int_equal(kt_blob_parse(&b, b64, sizeof(b64)), -1);
}

static void
test_seal_refusals(void **state)
{
	static uint8_t big[KT_PLAINTEXT_MAX + 1];
	struct secret m = SECRET_INIT;
	struct buf blob = BUF_INIT;
	char long_id[KT_KEY_ID_MAX + 2];

	(void)state;
	builtin(&m);
	assert_int_equal(kt_blob_seal(&m, "k", data_key, 0, &blob), -1);
	assert_int_equal(kt_blob_seal(&m, "k", big, sizeof(big), &blob), -1);
	assert_int_equal(kt_blob_seal(&m, "k", big, KT_PLAINTEXT_MAX, &blob),
	    0);
	assert_int_equal(kt_blob_seal(&m, "", data_key, 32, &blob), -1);
	assert_int_equal(kt_blob_seal(&m, "a b", data_key, 32, &blob), -1);
	memset(long_id, 'i', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_int_equal(kt_blob_seal(&m, long_id, data_key, 32, &blob), -1);
	long_id[KT_KEY_ID_MAX] = '\0';
	assert_int_equal(kt_blob_seal(&m, long_id, data_key, 32, &blob), 0);
	buf_free(&blob, 0);
	secret_free(&m);
}

static void
test_key_id_valid(void **state)
{
	(void)state;
	assert_true(kt_key_id_valid("alias/dev", 9));
	assert_true(kt_key_id_valid("arn:aws:kms:us-east-1:111122223333:key/"
	    "1234abcd-12ab-34cd-56ef-1234567890ab", 75));
	assert_false(kt_key_id_valid("", 0));
	assert_false(kt_key_id_valid("a b", 3));
	assert_false(kt_key_id_valid("a\tb", 3));
	assert_false(kt_key_id_valid("a\x7f", 2));
	assert_false(kt_key_id_valid("\xc3\xa9", 2));
}

/* Write `n` bytes to a fresh temporary file; returns its path. */
static void
key_file(char *path, size_t size, const void *data, size_t n)
{
	FILE *f;

	snprintf(path, size, "/tmp/test_kmstool_dev.%ld.key", (long)getpid());
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void
expect_key(const char *text, size_t n, int ok)
{
	struct secret m = SECRET_INIT;
	struct reason why;
	char path[128];

	key_file(path, sizeof(path), text, n);
	if (ok) {
		assert_int_equal(kt_master_key_load(&m, path, &why), 0);
		assert_int_equal(m.len, 32);
		assert_memory_equal(m.data, data_key, 32);
		secret_free(&m);
	} else {
		reason_clear(&why);
		assert_int_equal(kt_master_key_load(&m, path, &why), -1);
		assert_true(why.text[0] != '\0');
		assert_null(m.data);
	}
	unlink(path);
}

static void
test_master_key_file(void **state)
{
	char hex[65], b64[45], big[300];
	struct secret m = SECRET_INIT;
	struct reason why = { .text = "" };

	(void)state;
	hex_encode(hex, data_key, 32);
	hex[64] = '\0';
	base64_encode(b64, data_key, 32);
	expect_key((const char *)data_key, 32, 1);
	expect_key(hex, 64, 1);
	memcpy(big, hex, 64);
	memcpy(big + 64, "\n", 1);
	expect_key(big, 65, 1);
	memcpy(big + 64, "\r\n", 2);
	expect_key(big, 66, 1);
	expect_key(b64, 44, 1);
	memcpy(big, b64, 44);
	big[44] = '\n';
	expect_key(big, 45, 1);
	/* wrong sizes and junk */
	expect_key("", 0, 0);
	expect_key(hex, 62, 0);
	expect_key((const char *)data_key, 31, 0);
	expect_key("zz", 2, 0);
	memset(big, 'a', sizeof(big));
	expect_key(big, sizeof(big), 0);
	big[0] = 'g';
	expect_key(big, 64, 0);
	/* only a trailing line end is dropped, not other whitespace */
	big[0] = ' ';
	memcpy(big + 1, hex, 64);
	expect_key(big, 65, 0);
	memcpy(big, hex, 64);
	big[64] = ' ';
	expect_key(big, 65, 0);
	/* no such file */
	assert_int_equal(kt_master_key_load(&m, "/nonexistent/kmstool.key",
	    &why), -1);
	assert_true(why.text[0] != '\0');
}

static void
test_hook_selection(void **state)
{
	(void)state;
	assert_int_equal(kt_hook_by_access_key("DEVDENY"), KT_HOOK_DENY);
	assert_int_equal(kt_hook_by_access_key("DEVHANG"), KT_HOOK_HANG);
	assert_int_equal(kt_hook_by_access_key("DEVKILLED"), KT_HOOK_KILLED);
	/* exact and case-sensitive: real key ids never match */
	assert_int_equal(kt_hook_by_access_key("devdeny"), KT_HOOK_NONE);
	assert_int_equal(kt_hook_by_access_key("DEVDENY "), KT_HOOK_NONE);
	assert_int_equal(kt_hook_by_access_key("DEVDEN"), KT_HOOK_NONE);
	assert_int_equal(kt_hook_by_access_key("AKIAIOSFODNN7EXAMPLE"),
	    KT_HOOK_NONE);
	assert_int_equal(kt_hook_by_key_id((const uint8_t *)"hook/deny", 9),
	    KT_HOOK_DENY);
	assert_int_equal(kt_hook_by_key_id((const uint8_t *)"hook/denyx", 10),
	    KT_HOOK_NONE);
	assert_int_equal(kt_hook_by_key_id((const uint8_t *)"hook/den", 8),
	    KT_HOOK_NONE);
	assert_int_equal(kt_hook_by_key_id((const uint8_t *)"alias/dev", 9),
	    KT_HOOK_NONE);
	assert_int_equal(kt_hook_run(KT_HOOK_NONE), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_key_is_label_hash),
		cmocka_unit_test(test_blob_layout_and_round_trip),
		cmocka_unit_test(test_blob_tamper),
		cmocka_unit_test(test_blob_wrong_master),
		cmocka_unit_test(test_blob_parse_refusals),
		cmocka_unit_test(test_seal_refusals),
		cmocka_unit_test(test_key_id_valid),
		cmocka_unit_test(test_master_key_file),
		cmocka_unit_test(test_hook_selection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
