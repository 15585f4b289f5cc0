/*
 * grant.c - re-encryption grants (see grant.h for the layout and why).
 */
#include "common/grant.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>


static const char commitment_label[] =
    "confidential-enclave key commitment v1";
static const char grant_key_label[] =
    "confidential-enclave re-encryption grant key v1";

#define SIGNED_LEN (1 + 8 + GRANT_COMMITMENT_LEN)

/* HMAC-SHA256 into a 32-byte out: every MAC here is this one. */
static int
hmac_sha256(const uint8_t key[32], const void *msg, size_t n, uint8_t out[32])
{
	unsigned int len = 32;

	if (HMAC(EVP_sha256(), key, 32, msg, n, out, &len) == NULL || len != 32)
		return -1;
	return 0;
}

int
grant_commitment(const uint8_t key[32], uint8_t out[GRANT_COMMITMENT_LEN])
{
	return hmac_sha256(key, commitment_label, sizeof(commitment_label) - 1,
	    out);
}

/* The tag over the grant's first SIGNED_LEN bytes, under the input key's
 * grant key, which is wiped before returning. */
static int
grant_tag(const uint8_t input_key[32], const uint8_t *grant,
    uint8_t tag[GRANT_TAG_LEN])
{
	uint8_t grant_key[32];
	int rc;

	rc = hmac_sha256(input_key, grant_key_label,
	    sizeof(grant_key_label) - 1, grant_key);
	if (rc == 0)
		rc = hmac_sha256(grant_key, grant, SIGNED_LEN, tag);
	OPENSSL_cleanse(grant_key, sizeof(grant_key));
	return rc;
}

int
grant_make(const uint8_t input_key[32],
    const uint8_t result_commitment[GRANT_COMMITMENT_LEN], uint64_t expires_at,
    uint8_t out[GRANT_LEN])
{
	int i;

	if (expires_at == 0)
		return -1;
	out[0] = GRANT_VERSION;
	for (i = 0; i < 8; i++)
		out[1 + i] = (uint8_t)(expires_at >> (56 - 8 * i));
	memcpy(out + 9, result_commitment, GRANT_COMMITMENT_LEN);
	return grant_tag(input_key, out, out + SIGNED_LEN);
}

enum grant_verdict
grant_check(const uint8_t input_key[32],
    const uint8_t result_commitment[GRANT_COMMITMENT_LEN], time_t now,
    const uint8_t grant[GRANT_LEN], struct reason *why)
{
	uint8_t tag[GRANT_TAG_LEN];
	uint64_t expires_at = 0;
	int i, same;

	if (grant[0] != GRANT_VERSION) {
		reason_fail(why, "grant version %u is not 1", grant[0]);
		return GRANT_MALFORMED;
	}
	if (grant_tag(input_key, grant, tag) < 0) {
		reason_fail(why, "grant could not be checked");
		return GRANT_FAILED;
	}
	same = CRYPTO_memcmp(tag, grant + SIGNED_LEN, GRANT_TAG_LEN) == 0;
	OPENSSL_cleanse(tag, sizeof(tag));
	if (!same) {
		reason_fail(why, "the grant was not made with the key that opens "
		    "the input");
		return GRANT_WRONG_INPUT_KEY;
	}
	/* From here on the grant is the input key holder's word. */
	if (CRYPTO_memcmp(grant + 9, result_commitment,
	    GRANT_COMMITMENT_LEN) != 0) {
		reason_fail(why, "the grant names another result key");
		return GRANT_WRONG_RESULT_KEY;
	}
	for (i = 0; i < 8; i++)
		expires_at = expires_at << 8 | grant[1 + i];
	if (expires_at == 0) {
		reason_fail(why, "the grant has no expiry");
		return GRANT_MALFORMED;
	}
	if (now < 0 || (uint64_t)now >= expires_at) {
		reason_fail(why, "the grant expired at %llu (Unix time); the "
		    "enclave's clock says %lld", (unsigned long long)expires_at,
		    (long long)now);
		return GRANT_EXPIRED;
	}
	return GRANT_VALID;
}
