/*
 * grant.h - a data owner's permission to re-encrypt: the one way a
 * result may leave the enclave under a key other than the one that
 * opened its input (docs/protocol.md "process", docs/security.md F26).
 *
 * Whoever can configure a key can name it as a process request's
 * `result_key_id`; the host can configure a key it knows. So the enclave
 * seals a result under another key only when the request carries a grant
 * that only the holder of the input key can make:
 *
 *   grant      = version(1) || expires_at(8) || commitment(32) || tag(32)
 *   version    = 0x01
 *   expires_at = Unix seconds, big-endian; the grant is refused from then on
 *   commitment = HMAC-SHA256(result key, "confidential-enclave key commitment v1")
 *   tag        = HMAC-SHA256(grant key, version || expires_at || commitment)
 *   grant key  = HMAC-SHA256(input key, "confidential-enclave re-encryption grant key v1")
 *
 * The commitment names the result key without revealing it: it is safe to
 * publish, and only the key's holders can compute it. The tag is made
 * under a key derived from the input key for this purpose alone, so no
 * AES-GCM seal the enclave ever makes can pass for a grant, and a grant
 * tells nothing about the input key. 73 bytes; 146 hex characters on the
 * wire. HMAC, tag comparison and wiping are OpenSSL's.
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
#define GRANT_LEN            (1 + 8 + GRANT_COMMITMENT_LEN + GRANT_TAG_LEN)
#define GRANT_HEX_LEN        (2 * GRANT_LEN)

/* The public name of a 32-byte key: its commitment. 0, or -1 on failure. */
int grant_commitment(const uint8_t key[32],
    uint8_t out[GRANT_COMMITMENT_LEN]);

/*
 * Make the grant that lets results of data under `input_key` be sealed
 * under the key whose commitment is `result_commitment`, until
 * `expires_at` (Unix seconds, > 0). The data owner's side (enclavectl).
 */
int grant_make(const uint8_t input_key[32],
    const uint8_t result_commitment[GRANT_COMMITMENT_LEN], uint64_t expires_at,
    uint8_t out[GRANT_LEN]);

enum grant_verdict {
	GRANT_VALID,
	GRANT_MALFORMED,	/* unknown version, or no expiry */
	GRANT_WRONG_INPUT_KEY,	/* not made with the key that opens the input */
	GRANT_WRONG_RESULT_KEY,	/* names another result key */
	GRANT_EXPIRED,
	GRANT_FAILED,		/* OpenSSL failed: refuse */
};

/*
 * Whether `grant` lets a result of data under `input_key` be sealed under
 * the key whose commitment is `result_commitment` at time `now`. The tag
 * is checked before anything the grant says is believed; *why says what
 * failed, never any key material.
 */
enum grant_verdict grant_check(const uint8_t input_key[32],
    const uint8_t result_commitment[GRANT_COMMITMENT_LEN], time_t now,
    const uint8_t grant[GRANT_LEN], struct reason *why);

#endif
