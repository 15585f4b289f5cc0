/*
 * test_native_cms.c - the recipient key and opening CiphertextForRecipient:
 * an EnvelopedData made here the way KMS makes it (KeyTransRecipientInfo
 * by subjectKeyIdentifier, rsaesOaep SHA-256/MGF1-SHA-256, aes-256-CBC),
 * in DER and in streamed BER (indefinite lengths, content in chunks),
 * opens with the ephemeral key and with no other; the real KMS replies in
 * tests/vectors/cms/ (whose keys are not public) parse and fail exactly at
 * the key step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/cms.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/guard.h"
#include "enclave/kms/native/native_internal.h"

/* A throwaway certificate carrying `key` (CMS names recipients by cert). */
static X509 *
carrier(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_EXTENSION *ski;
	X509V3_CTX v3;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"recipient", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	/* KMS names the recipient by subjectKeyIdentifier. */
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ski = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier, "hash");
	assert_non_null(ski);
	assert_int_equal(X509_add_ext(x, ski, -1), 1);
	X509_EXTENSION_free(ski);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

/*
 * An EnvelopedData of pt to key, as KMS builds it: DER, or (streamed)
 * BER with indefinite lengths and the content in chunks, as KMS sends it.
 */
static size_t
envelope_as(EVP_PKEY *key, const uint8_t *pt, size_t n, uint8_t **der,
    int streamed)
{
	X509 *x = carrier(key);
	BIO *in = BIO_new_mem_buf(pt, (int)n);
	CMS_ContentInfo *cms;
	CMS_RecipientInfo *ri;
	EVP_PKEY_CTX *pctx;
	int len;

	cms = CMS_encrypt(NULL, in, EVP_aes_256_cbc(), CMS_BINARY | CMS_PARTIAL);
	assert_non_null(cms);
	ri = CMS_add1_recipient_cert(cms, x, CMS_KEY_PARAM | CMS_USE_KEYID);
	assert_non_null(ri);
	pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_OAEP_PADDING), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0);
	if (streamed) {
		BIO *mem = BIO_new(BIO_s_mem());
		char *p;

		assert_int_equal(i2d_CMS_bio_stream(mem, cms, in,
		    CMS_BINARY | CMS_STREAM), 1);
		len = (int)BIO_get_mem_data(mem, &p);
		assert_true(len > 0);
		*der = OPENSSL_malloc((size_t)len);
		assert_non_null(*der);
		memcpy(*der, p, (size_t)len);
		BIO_free(mem);
	} else {
		assert_int_equal(CMS_final(cms, in, NULL, CMS_BINARY), 1);
		*der = NULL;
		len = i2d_CMS_ContentInfo(cms, der);
		assert_true(len > 0);
	}
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	X509_free(x);
	return (size_t)len;
}

static size_t
envelope(EVP_PKEY *key, const uint8_t *pt, size_t n, uint8_t **der)
{
	return envelope_as(key, pt, n, der, 0);
}

static void
test_key_and_spki(void **state)
{
	EVP_PKEY *key = recipient_key_new();
	struct buf spki = BUF_INIT;

	(void)state;
	assert_non_null(key);
	assert_int_equal(EVP_PKEY_get_bits(key), 2048);
	assert_int_equal(recipient_key_spki(key, &spki), 0);
	assert_int_equal(spki.len, 294);	/* as kmstool's */
	assert_int_equal(spki.data[0], 0x30);
	buf_free(&spki, 0);
	EVP_PKEY_free(key);
}

static void
test_unwrap_roundtrip_and_wrong_key(void **state)
{
	EVP_PKEY *key = recipient_key_new(), *other = recipient_key_new();
	uint8_t pt[32], *der;
	struct secret out = SECRET_INIT;
	struct reason reason;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 7);
	n = envelope(key, pt, sizeof(pt), &der);
	assert_int_equal(cms_unwrap(der, n, key, &out, &reason),
	    0);
	assert_int_equal(out.len, 32);
	assert_memory_equal(out.data, pt, 32);
	secret_free(&out);
	assert_int_equal(cms_unwrap(der, n, other, &out, &reason),
	    CMS_UNWRAP_KEY);
	assert_null(out.data);
	assert_non_null(strstr(reason.text,
	    "cannot open CiphertextForRecipient"));
	assert_non_null(strstr(reason.text, "content-encryption key does not "
	    "decrypt"));
	/* The key passed in is still the caller's, and still works. */
	assert_int_equal(EVP_PKEY_get_bits(other), 2048);
	assert_int_equal(cms_unwrap(der, n, key, &out, &reason),
	    0);
	secret_free(&out);
	/* Truncated or not CMS at all. */
	assert_int_equal(cms_unwrap(der, n / 2, key, &out, &reason),
	    CMS_UNWRAP_NOT_CMS);
	assert_int_equal(cms_unwrap((const uint8_t *)"hello", 5, key, &out,
	    &reason), CMS_UNWRAP_NOT_CMS);
	assert_non_null(strstr(reason.text, "not CMS"));
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

/*
 * BER as KMS sends it (indefinite lengths, the content as a constructed
 * OCTET STRING of chunks, here OpenSSL's streamed output): a 4096-byte
 * plaintext, KMS's largest, opens; so does a 1-byte one.
 */
static void
test_unwrap_streamed_ber(void **state)
{
	EVP_PKEY *key = recipient_key_new(), *other = recipient_key_new();
	static uint8_t pt[NATIVE_PLAINTEXT_MAX];
	struct secret out = SECRET_INIT;
	struct reason reason;
	size_t sizes[] = { 1, 32, NATIVE_PLAINTEXT_MAX }, i, j, n;
	uint8_t *ber;

	(void)state;
	for (i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 13 + 5);
	for (j = 0; j < ARRAY_LEN(sizes); j++) {
		n = envelope_as(key, pt, sizes[j], &ber, 1);
		assert_int_equal(ber[0], 0x30);
		assert_int_equal(ber[1], 0x80);		/* indefinite */
		assert_int_equal(ber[n - 1], 0x00);
		assert_int_equal(ber[n - 2], 0x00);	/* end of contents */
		if (cms_unwrap(ber, n, key, &out, &reason) != 0)
			fail_msg("%zu bytes: %s", sizes[j], reason.text);
		assert_int_equal(out.len, sizes[j]);
		assert_memory_equal(out.data, pt, sizes[j]);
		secret_free(&out);
		assert_int_equal(cms_unwrap(ber, n, other, &out, &reason),
		    CMS_UNWRAP_KEY);
		OPENSSL_free(ber);
	}
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

/* $VECTORS/cms/NAME (default tests/vectors, as the Makefile sets it). */
static uint8_t *
slurp_vector(const char *name, size_t *len)
{
	const char *dir = getenv("VECTORS");
	char path[1024];
	uint8_t *data;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/cms/%s", dir != NULL && *dir != '\0' ?
	    dir : "tests/vectors", name);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s (set VECTORS)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0 && n < 65536);
	rewind(f);
	data = malloc((size_t)n);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return data;
}

/*
 * The real replies: parsed (BER, indefinite, content whole, chunked or
 * primitive [0]), KMS's shape found, and refused only at the key step,
 * since their enclaves' private keys are not public. Cut short they are
 * not CMS; with rsaesOaep turned into rsaEncryption they are the wrong
 * shape. So each stage is really reached.
 */
static void
test_kms_captures(void **state)
{
	static const char *const files[] = {
		"kms_ciphertext_for_recipient_1.ber",
		"kms_ciphertext_for_recipient_2.ber",
		"kms_ciphertext_for_recipient_3.ber",
	};
	/* 1.2.840.113549.1.1.7 (rsaesOaep) */
	static const uint8_t oaep[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	    0xf7, 0x0d, 0x01, 0x01, 0x07 };
	EVP_PKEY *key = recipient_key_new();
	struct secret out = SECRET_INIT;
	struct reason reason;
	size_t i, j, n;
	uint8_t *ber;

	(void)state;
	assert_non_null(key);
	for (i = 0; i < ARRAY_LEN(files); i++) {
		ber = slurp_vector(files[i], &n);
		assert_int_equal(ber[1], 0x80);		/* indefinite length */
		reason_clear(&reason);
		if (cms_unwrap(ber, n, key, &out, &reason) !=
		    CMS_UNWRAP_KEY)
			fail_msg("%s: %s", files[i], reason.text);
		assert_non_null(strstr(reason.text,
		    "content-encryption key does "
		    "not decrypt"));
		assert_null(out.data);
		assert_int_equal(cms_unwrap(ber, n - 2, key, &out, &reason),
		    CMS_UNWRAP_NOT_CMS);
		for (j = 0; j + sizeof(oaep) <= n; j++)
			if (memcmp(ber + j, oaep, sizeof(oaep)) == 0)
				break;
		assert_true(j + sizeof(oaep) <= n);
		ber[j + sizeof(oaep) - 1] = 0x01;	/* rsaEncryption */
		assert_int_equal(cms_unwrap(ber, n, key, &out, &reason),
		    CMS_UNWRAP_SHAPE);
		assert_non_null(strstr(reason.text, "RSAES-OAEP"));
		free(ber);
	}
	EVP_PKEY_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_and_spki),
		cmocka_unit_test(test_unwrap_roundtrip_and_wrong_key),
		cmocka_unit_test(test_unwrap_streamed_ber),
		cmocka_unit_test(test_kms_captures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
