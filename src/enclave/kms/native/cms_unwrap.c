/*
 * cms_unwrap.c - open KMS's CiphertextForRecipient.
 *
 * A CMS ContentInfo of type envelopedData, as KMS writes it: BER with
 * indefinite lengths, the encrypted content either one [0] IMPLICIT OCTET
 * STRING or a constructed one split into chunks (public captures in
 * tests/vectors/cms/). OpenSSL's d2i reads all of these; nothing here
 * parses ASN.1 by hand.
 *
 * The steps, each with its own result so a failure says where it was:
 *
 *   1. parse      the bytes are BER of a CMS ContentInfo;
 *   2. shape      envelopedData with exactly one KeyTransRecipientInfo
 *                 using rsaesOaep (what KMS sends for RSAES_OAEP_SHA_256;
 *                 OpenSSL reads the OAEP parameters from it);
 *   3. key        our ephemeral private key decrypts the content-encryption
 *                 key (CMS_RecipientInfo_decrypt);
 *   4. content    that key decrypts the content (aes-256-CBC from KMS).
 *
 * Steps 3 and 4 are told apart on purpose: the key is fresh per call and
 * the envelope comes over TLS from KMS, so nobody can use the difference
 * as a padding oracle, and a failure at 3 says "not our key" plainly.
 * The plaintext lands in a secure-heap BIO and is copied straight into
 * locked memory; both are cleansed when freed.
 */
#include "enclave/kms/native/native_internal.h"

#include <stdio.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "common/guard.h"

/* OpenSSL's innermost reason for the last failure, for a person. */
static const char *
openssl_why(void)
{
	const char *why = ERR_reason_error_string(ERR_peek_error());

	return why ? why : "unknown error";
}

/* Step 2: the one RecipientInfo KMS sends, or NULL with a reason. */
static CMS_RecipientInfo *
kms_recipient(CMS_ContentInfo *cms, struct reason *reason)
{
	STACK_OF(CMS_RecipientInfo) *ris;
	CMS_RecipientInfo *ri;
	X509_ALGOR *alg = NULL;

	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_enveloped) {
		reason_fail(reason, "CiphertextForRecipient is not "
		    "CMS EnvelopedData");
		return NULL;
	}
	ris = CMS_get0_RecipientInfos(cms);
	if (sk_CMS_RecipientInfo_num(ris) != 1) {
		reason_fail(reason, "CiphertextForRecipient has %d "
		    "recipients (1 expected)", sk_CMS_RecipientInfo_num(ris));
		return NULL;
	}
	ri = sk_CMS_RecipientInfo_value(ris, 0);
	if (CMS_RecipientInfo_type(ri) != CMS_RECIPINFO_TRANS ||
	    CMS_RecipientInfo_ktri_get0_algs(ri, NULL, NULL, &alg) != 1 ||
	    alg == NULL || OBJ_obj2nid(alg->algorithm) != NID_rsaesOaep) {
		reason_fail(reason, "CiphertextForRecipient is not "
		    "key transport with RSAES-OAEP");
		return NULL;
	}
	return ri;
}

int
cms_unwrap(const uint8_t *der, size_t len, EVP_PKEY *key,
    struct secret *plaintext, struct reason *reason)
{
	BIO *in = NULL, *out = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_RecipientInfo *ri;
	char *data;
	long n;
	int rc, ok;

	rc = CMS_UNWRAP_NOT_CMS;
	if (len == 0 || len > NATIVE_HTTP_BODY_MAX ||
	    (in = BIO_new_mem_buf(der, (int)len)) == NULL ||
	    (cms = d2i_CMS_bio(in, NULL)) == NULL) {
		reason_fail(reason, "CiphertextForRecipient is not "
		    "CMS");
		goto out;
	}
	rc = CMS_UNWRAP_SHAPE;
	if ((ri = kms_recipient(cms, reason)) == NULL)
		goto out;
	rc = CMS_UNWRAP_KEY;
	ERR_clear_error();
	/*
	 * set0 keeps the key and frees the one it replaces: lend it a
	 * reference of its own, given back by set0(NULL) below.
	 */
	if (EVP_PKEY_up_ref(key) != 1) {
		reason_fail(reason, "out of memory");
		goto out;
	}
	ok = CMS_RecipientInfo_set0_pkey(ri, key) == 1 &&
	    CMS_RecipientInfo_decrypt(cms, ri) == 1;
	if (!ok)
		reason_fail(reason, "cannot open "
		    "CiphertextForRecipient with the attested key: its "
		    "content-encryption key does not decrypt (%s)",
		    openssl_why());
	CMS_RecipientInfo_set0_pkey(ri, NULL);
	if (!ok)
		goto out;
	rc = CMS_UNWRAP_CONTENT;
	if ((out = BIO_new(BIO_s_secmem())) == NULL) {
		reason_fail(reason, "out of memory");
		goto out;
	}
	/* No key or certificate: the content key set above is used. */
	if (CMS_decrypt(cms, NULL, NULL, NULL, out, CMS_BINARY) != 1) {
		reason_fail(reason, "cannot open "
		    "CiphertextForRecipient with the attested key: its content "
		    "does not decrypt (%s)", openssl_why());
		goto out;
	}
	n = BIO_get_mem_data(out, &data);
	if (n <= 0 || n > NATIVE_PLAINTEXT_MAX) {
		reason_fail(reason, "CiphertextForRecipient holds %ld "
		    "bytes (1..%d expected)", n, NATIVE_PLAINTEXT_MAX);
		goto out;
	}
	if (secret_dup(plaintext, data, (size_t)n) < 0) {
		reason_fail(reason, "out of locked memory");
		goto out;
	}
	rc = CMS_UNWRAP_OK;
out:
	BIO_free(out);		/* secure memory: cleansed on free */
	CMS_ContentInfo_free(cms);	/* cleanses the content key */
	BIO_free(in);
	ERR_clear_error();
	return rc;
}
