/*
 * cms_unwrap.c - open KMS's CiphertextForRecipient.
 *
 * A CMS ContentInfo (BER, indefinite lengths) of type envelopedData: one
 * KeyTransRecipientInfo, rsaesOaep SHA-256/MGF1-SHA-256 to our ephemeral
 * key, content aes-256-CBC. OpenSSL reads the OAEP parameters from the
 * RecipientInfo itself. The plaintext lands in a secure-heap BIO and is
 * copied straight into locked memory; both are cleansed when freed.
 */
#include "enclave/kms/native/native_internal.h"

#include <stdio.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "common/guard.h"

int
cms_unwrap(const uint8_t *der, size_t len, EVP_PKEY *key,
    struct secret *plaintext, char *reason, size_t reason_len)
{
	BIO *in = NULL, *out = NULL;
	CMS_ContentInfo *cms = NULL;
	char *data;
	long n;
	int rc = -1;

	if (len == 0 || len > NATIVE_HTTP_BODY_MAX ||
	    (in = BIO_new_mem_buf(der, (int)len)) == NULL ||
	    (cms = d2i_CMS_bio(in, NULL)) == NULL) {
		snprintf(reason, reason_len, "CiphertextForRecipient is not "
		    "CMS");
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_enveloped) {
		snprintf(reason, reason_len, "CiphertextForRecipient is not "
		    "CMS EnvelopedData");
		goto out;
	}
	if ((out = BIO_new(BIO_s_secmem())) == NULL) {
		snprintf(reason, reason_len, "out of memory");
		goto out;
	}
	if (CMS_decrypt(cms, key, NULL, NULL, out, CMS_BINARY) != 1) {
		const char *why = ERR_reason_error_string(ERR_peek_last_error());

		snprintf(reason, reason_len, "cannot open "
		    "CiphertextForRecipient with the attested key: %s",
		    why ? why : "unknown error");
		goto out;
	}
	n = BIO_get_mem_data(out, &data);
	if (n <= 0 || n > NATIVE_PLAINTEXT_MAX) {
		snprintf(reason, reason_len, "CiphertextForRecipient holds %ld "
		    "bytes (1..%d expected)", n, NATIVE_PLAINTEXT_MAX);
		goto out;
	}
	if (secret_dup(plaintext, data, (size_t)n) < 0) {
		snprintf(reason, reason_len, "out of locked memory");
		goto out;
	}
	rc = 0;
out:
	BIO_free(out);		/* secure memory: cleansed on free */
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	ERR_clear_error();
	return rc;
}
