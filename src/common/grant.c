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
static const char release_label[] =
    "confidential-enclave grant release key v1";
static const char accept_label[] =
    "confidential-enclave grant accept key v1";

/* Where the parts lie in a grant. */
#define AT_EXPIRES      1
#define AT_INPUT        (AT_EXPIRES + 8)
#define AT_RESULT       (AT_INPUT + GRANT_COMMITMENT_LEN)
#define AT_RELEASE_TAG  GRANT_BODY_LEN
#define AT_ACCEPT_TAG   (GRANT_BODY_LEN + GRANT_TAG_LEN)

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

/* One side's tag over the grant's body, under that side's key derived
 * from `key` with `label`; the derived key is wiped before returning. */
static int
body_tag(const uint8_t key[32], const char *label, size_t label_len,
    const uint8_t *grant, uint8_t tag[GRANT_TAG_LEN])
{
	uint8_t side_key[32];
	int rc;

	rc = hmac_sha256(key, label, label_len, side_key);
	if (rc == 0)
		rc = hmac_sha256(side_key, grant, GRANT_BODY_LEN, tag);
	OPENSSL_cleanse(side_key, sizeof(side_key));
	return rc;
}

/* 1 when the tag at grant + at is `key`'s for this side, else 0 (-1:
 * OpenSSL failed). Compared in constant time. */
static int
tag_holds(const uint8_t key[32], const char *label, size_t label_len,
    const uint8_t *grant, size_t at)
{
	uint8_t tag[GRANT_TAG_LEN];
	int same;

	if (body_tag(key, label, label_len, grant, tag) < 0)
		return -1;
	same = CRYPTO_memcmp(tag, grant + at, GRANT_TAG_LEN) == 0;
	OPENSSL_cleanse(tag, sizeof(tag));
	return same;
}

int
grant_release(const uint8_t input_key[32],
    const uint8_t result_commitment[GRANT_COMMITMENT_LEN], uint64_t expires_at,
    uint8_t out[GRANT_LEN])
{
	int i;

	if (expires_at == 0)
		return -1;
	memset(out, 0, GRANT_LEN);
	out[0] = GRANT_VERSION;
	for (i = 0; i < 8; i++)
		out[AT_EXPIRES + i] = (uint8_t)(expires_at >> (56 - 8 * i));
	if (grant_commitment(input_key, out + AT_INPUT) < 0)
		return -1;
	memcpy(out + AT_RESULT, result_commitment, GRANT_COMMITMENT_LEN);
	return body_tag(input_key, release_label, sizeof(release_label) - 1,
	    out, out + AT_RELEASE_TAG);
}

int
grant_accept(const uint8_t result_key[32], uint8_t grant[GRANT_LEN],
    struct reason *why)
{
	uint8_t mine[GRANT_COMMITMENT_LEN];
	int same;

	if (grant_commitment(result_key, mine) < 0)
		return reason_fail(why, "cannot compute the key's commitment");
	same = CRYPTO_memcmp(mine, grant + AT_RESULT,
	    GRANT_COMMITMENT_LEN) == 0;
	if (!same)
		return reason_fail(why, "the grant names another result key");
	if (body_tag(result_key, accept_label, sizeof(accept_label) - 1, grant,
	    grant + AT_ACCEPT_TAG) < 0)
		return reason_fail(why, "cannot make the accept tag");
	return 0;
}

/* The verdict for a failed tag check: `side` on a mismatch, or FAILED. */
static enum grant_verdict
tag_refused(int holds, enum grant_verdict side, const char *what,
    struct reason *why)
{
	if (holds < 0) {
		reason_fail(why, "grant could not be checked");
		return GRANT_FAILED;
	}
	reason_fail(why, "%s", what);
	return side;
}

enum grant_verdict
grant_check(struct grant_key input, struct grant_key result, time_t now,
    const uint8_t grant[GRANT_LEN], struct reason *why)
{
	uint64_t expires_at = 0;
	int i, holds;

	if (grant[0] != GRANT_VERSION) {
		reason_fail(why, "grant version %u is not 1", grant[0]);
		return GRANT_MALFORMED;
	}
	if (CRYPTO_memcmp(grant + AT_INPUT, input.commitment,
	    GRANT_COMMITMENT_LEN) != 0) {
		reason_fail(why, "the grant is for data under another key");
		return GRANT_WRONG_INPUT_KEY;
	}
	holds = tag_holds(input.key, release_label, sizeof(release_label) - 1,
	    grant, AT_RELEASE_TAG);
	if (holds != 1)
		return tag_refused(holds, GRANT_WRONG_INPUT_KEY, "the grant was "
		    "not released with the key that opens the input", why);
	/* From here on the body is the input key holder's word. */
	if (CRYPTO_memcmp(grant + AT_RESULT, result.commitment,
	    GRANT_COMMITMENT_LEN) != 0) {
		reason_fail(why, "the grant names another result key");
		return GRANT_WRONG_RESULT_KEY;
	}
	holds = tag_holds(result.key, accept_label, sizeof(accept_label) - 1,
	    grant, AT_ACCEPT_TAG);
	if (holds != 1)
		return tag_refused(holds, GRANT_NOT_ACCEPTED, "the result key's "
		    "holder has not accepted the grant (enclavectl grant "
		    "--accept)", why);
	for (i = 0; i < 8; i++)
		expires_at = expires_at << 8 | grant[AT_EXPIRES + i];
	if (expires_at == 0) {
		reason_fail(why, "the grant has no expiry");
		return GRANT_MALFORMED;
	}
	if (now >= 0 && expires_at > (uint64_t)now + GRANT_MAX_LIFETIME_S) {
		reason_fail(why, "the grant runs until %llu (Unix time), more "
		    "than %lld days from now", (unsigned long long)expires_at,
		    GRANT_MAX_LIFETIME_S / (24 * 3600));
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
