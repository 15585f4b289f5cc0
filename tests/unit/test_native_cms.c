/*
 * test_native_cms.c - the recipient key and opening CiphertextForRecipient:
 * an EnvelopedData made here the way KMS makes it (KeyTransRecipientInfo
 * by subjectKeyIdentifier, rsaesOaep SHA-256/MGF1-SHA-256, aes-256-CBC)
 * opens with the ephemeral key and with no other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/cms.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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

/* DER of an EnvelopedData of pt to key, as KMS builds it. */
static size_t
envelope(EVP_PKEY *key, const uint8_t *pt, size_t n, uint8_t **der)
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
	assert_int_equal(CMS_final(cms, in, NULL, CMS_BINARY), 1);
	*der = NULL;
	len = i2d_CMS_ContentInfo(cms, der);
	assert_true(len > 0);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	X509_free(x);
	return (size_t)len;
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
	char reason[256] = "";
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 7);
	n = envelope(key, pt, sizeof(pt), &der);
	assert_int_equal(cms_unwrap(der, n, key, &out, reason, sizeof(reason)),
	    0);
	assert_int_equal(out.len, 32);
	assert_memory_equal(out.data, pt, 32);
	secret_free(&out);
	assert_int_equal(cms_unwrap(der, n, other, &out, reason,
	    sizeof(reason)), -1);
	assert_null(out.data);
	assert_non_null(strstr(reason, "cannot open CiphertextForRecipient"));
	/* Truncated or not CMS at all. */
	assert_int_equal(cms_unwrap(der, n / 2, key, &out, reason,
	    sizeof(reason)), -1);
	assert_int_equal(cms_unwrap((const uint8_t *)"hello", 5, key, &out,
	    reason, sizeof(reason)), -1);
	assert_non_null(strstr(reason, "not CMS"));
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_and_spki),
		cmocka_unit_test(test_unwrap_roundtrip_and_wrong_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
