/*
 * aead.c - AES-256-GCM through OpenSSL's EVP interface (see aead.h).
 */
#include "common/aead.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/guard.h"

/* EVP_Encrypt/DecryptUpdate take an int length: feed big inputs in pieces. */
#define AEAD_CHUNK (1 << 30)

static EVP_CIPHER *gcm;
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;

/* Fetch the implementation once instead of on every request. */
static void
gcm_fetch(void)
{
	gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

int
aead_init(void)
{
	/* Nor error strings: our messages are our own, and they cost pages. */
	return OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
	    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL) == 1 ? 0 : -1;
}

static EVP_CIPHER_CTX *
gcm_context(const uint8_t *key, const uint8_t *nonce, int encrypt)
{
	EVP_CIPHER_CTX *ctx;

	pthread_once(&gcm_once, gcm_fetch);
	if (gcm == NULL || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	/* The default IV length of AES-GCM in OpenSSL is the 96 bits we use. */
	if (EVP_CipherInit_ex2(ctx, gcm, key, nonce, encrypt, NULL) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int
gcm_update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t n)
{
	int got;

	while (n > 0) {
		int piece = n > AEAD_CHUNK ? AEAD_CHUNK : (int)n;

		if (EVP_CipherUpdate(ctx, out, &got, in, piece) != 1)
			return -1;
		out += got;
		in += piece;
		n -= (size_t)piece;
	}
	return 0;
}

static int
gcm_aad(EVP_CIPHER_CTX *ctx, const uint8_t *aad, size_t aad_len)
{
	int got;

	if (aad_len == 0)
		return 0;
	if (aad_len > INT_MAX)
		return -1;
	return EVP_CipherUpdate(ctx, NULL, &got, aad, (int)aad_len) == 1 ? 0 : -1;
}

int
aead_seal_with_nonce(const uint8_t *key, const uint8_t *nonce,
    const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t n,
    uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int rc = -1, got;

	GUARD_PTR(ctx = gcm_context(key, nonce, 1));
	memmove(out, nonce, AEAD_NONCE_LEN);
	GUARD_GOTO(gcm_aad(ctx, aad, aad_len), done);
	GUARD_GOTO(gcm_update(ctx, out + AEAD_NONCE_LEN, pt, n), done);
	if (EVP_CipherFinal_ex(ctx, out + AEAD_NONCE_LEN + n, &got) != 1)
		goto done;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN,
	    out + AEAD_NONCE_LEN + n) != 1)
		goto done;
	rc = 0;
done:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/*
 * Nonces come from OpenSSL's DRBG in batches: one RAND_bytes call per 85
 * seals instead of one each (it was a sixth of a small request's cost).
 * Each nonce is still 96 fresh random bits, used once and never stored
 * beyond its batch; nonces are public, so the batch needs no wiping.
 */
#define NONCE_BATCH (85 * AEAD_NONCE_LEN)

static int
next_nonce(uint8_t nonce[AEAD_NONCE_LEN])
{
	static _Thread_local uint8_t batch[NONCE_BATCH];
	static _Thread_local size_t used = NONCE_BATCH;

	if (used == NONCE_BATCH) {
		if (RAND_bytes(batch, sizeof(batch)) != 1)
			return -1;
		used = 0;
	}
	memcpy(nonce, batch + used, AEAD_NONCE_LEN);
	used += AEAD_NONCE_LEN;
	return 0;
}

int
aead_seal(const uint8_t *key, const uint8_t *aad, size_t aad_len,
    const uint8_t *pt, size_t n, uint8_t *out)
{
	uint8_t nonce[AEAD_NONCE_LEN];

	if (next_nonce(nonce) < 0)
		return -1;
	return aead_seal_with_nonce(key, nonce, aad, aad_len, pt, n, out);
}

int
aead_open(const uint8_t *key, const uint8_t *aad, size_t aad_len,
    const uint8_t *in, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t tag[AEAD_TAG_LEN];
	size_t ct_len;
	int rc = -1, got;

	if (n < AEAD_OVERHEAD)
		return -1;
	ct_len = n - AEAD_OVERHEAD;
	/* Copy the tag out first, so any `out` overlapping `in` is safe. */
	memcpy(tag, in + AEAD_NONCE_LEN + ct_len, AEAD_TAG_LEN);
	GUARD_PTR(ctx = gcm_context(key, in, 0));
	GUARD_GOTO(gcm_aad(ctx, aad, aad_len), done);
	GUARD_GOTO(gcm_update(ctx, out, in + AEAD_NONCE_LEN, ct_len), done);
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN,
	    tag) != 1)
		goto done;
	if (EVP_CipherFinal_ex(ctx, out + ct_len, &got) != 1)
		goto done;
	rc = 0;
done:
	if (rc != 0)
		OPENSSL_cleanse(out, ct_len);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}
