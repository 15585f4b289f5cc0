/*
 * recipient_key.c - the ephemeral key KMS encrypts the plaintext to.
 *
 * A fresh RSA-2048 key per call, as kmstool does: its public half goes in
 * the attestation document (so KMS knows the NSM vouched for it), its
 * private half never leaves this process and is freed, cleared by
 * OpenSSL (BN_clear_free), as soon as the envelope is open.
 */
#include "enclave/kms/native/native_internal.h"

#include <openssl/x509.h>

#include "common/guard.h"
#include "common/nsm_cbor.h"

EVP_PKEY *
recipient_key_new(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

int
recipient_key_spki(EVP_PKEY *key, struct buf *out)
{
	unsigned char *der = NULL;
	int n, rc;

	n = i2d_PUBKEY(key, &der);
	if (n <= 0)
		return -1;
	rc = buf_append(out, der, (size_t)n, NSM_FIELD_MAX);
	OPENSSL_free(der);
	return rc;
}
