/*
 * grant.h - permission to re-encrypt: the one way a result may leave the
 * enclave under a key other than the one that opened its input
 * (docs/protocol.md "process", docs/security.md F26).
 *
 * Whoever can configure a key can name it as a process request's
 * `result_key_id`, and the host can configure a key it knows. So the
 * enclave seals a result under another key only with a grant that both
 * key holders made: the input key's holder releases the data (else the
 * host could read an owner's records under its own key), and the result
 * key's holder accepts it (else the host could seal data of its choosing,
 * opened under its own key, under an owner's key):
 *
 *   grant       = body || release tag || accept tag
 *   body        = version(1) || expires_at(8) || commit(input key) || commit(result key)
 *   version     = 0x01
 *   expires_at  = Unix seconds, big-endian; refused from that second on
 *   commit(K)   = HMAC-SHA256(K, "confidential-enclave key commitment v1")
 *   release tag = HMAC-SHA256(HMAC-SHA256(input key,  "confidential-enclave grant release key v1"), body)
 *   accept tag  = HMAC-SHA256(HMAC-SHA256(result key, "confidential-enclave grant accept key v1"), body)
 *
 * A commitment names a key without revealing it. The tags are made under
 * keys derived from the TSKs for this purpose alone, one per side, so no
 * AES-GCM seal the enclave makes can pass for a tag, a release cannot pass
 * for an acceptance, and a grant tells nothing about either key. 137
 * bytes; 274 hex characters on the wire. HMAC, the tag comparisons and
 * wiping are OpenSSL's.
 */
#ifndef COMMON_GRANT_H
#define COMMON_GRANT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/reason.h"

#define GRANT_VERSION        0x01
#define GRANT_COMMITMENT_LEN 32
#define GRANT_TAG_LEN        32
#define GRANT_BODY_LEN       (1 + 8 + 2 * GRANT_COMMITMENT_LEN)
#define GRANT_LEN            (GRANT_BODY_LEN + 2 * GRANT_TAG_LEN)
#define GRANT_HEX_LEN        (2 * GRANT_LEN)
/*
 * The longest a grant may run, from the enclave's now: enclavectl makes
 * them for at most 366 days; a day more allows for clocks apart. A grant
 * running longer is refused, so no accepted grant lasts for ever.
 */
#define GRANT_MAX_LIFETIME_S (367LL * 24 * 3600)

/* The public name of a 32-byte key: its commitment. 0, or -1 on failure. */
int grant_commitment(const uint8_t key[32],
    uint8_t out[GRANT_COMMITMENT_LEN]);

/*
 * The input key holder's half: a grant releasing data under `input_key`
 * to the key whose commitment is `result_commitment` until `expires_at`
 * (Unix seconds, > 0), with its accept tag still zero.
 */
int grant_release(const uint8_t input_key[32],
    const uint8_t result_commitment[GRANT_COMMITMENT_LEN], uint64_t expires_at,
    uint8_t out[GRANT_LEN]);

/*
 * The result key holder's half: accept the released grant in place. -1
 * with *why when the grant names another result key (or OpenSSL fails).
 */
int grant_accept(const uint8_t result_key[32], uint8_t grant[GRANT_LEN],
    struct reason *why);

/* A key and its commitment, as the enclave holds them (keystore.h). */
struct grant_key {
	const uint8_t *key;		/* 32 bytes */
	const uint8_t *commitment;	/* GRANT_COMMITMENT_LEN bytes */
};

enum grant_verdict {
	GRANT_VALID,
	GRANT_MALFORMED,	/* unknown version, or no expiry */
	GRANT_WRONG_INPUT_KEY,	/* for data under another key, or its release
				   tag not made with the input key */
	GRANT_WRONG_RESULT_KEY,	/* names another result key */
	GRANT_NOT_ACCEPTED,	/* the result key's holder did not accept it */
	GRANT_EXPIRED,
	GRANT_FAILED,		/* OpenSSL failed: refuse */
};

/*
 * Whether `grant` lets a result of data under `input` be sealed under
 * `result` at time `now`. Each tag is checked before anything it covers
 * is believed; *why says what failed, never any key material.
 */
enum grant_verdict grant_check(struct grant_key input, struct grant_key result,
    time_t now, const uint8_t grant[GRANT_LEN], struct reason *why);

#endif
