/*
 * aead.h - AES-256-GCM in the protocol's layout: nonce(12) || ct || tag(16).
 *
 * This is what `nonce + AESGCM(key).encrypt(nonce, data, aad)` produces in
 * Python's cryptography. OpenSSL does the cryptography (and compares tags
 * in constant time); this file only fixes the layout and the nonce policy:
 * a fresh random 96-bit nonce from RAND_bytes for every seal.
 *
 * Both directions may work in place, which keeps a 16 MiB request from
 * costing another 16 MiB: aead_open may write the plaintext at in + 12, and
 * aead_seal may read the plaintext from out + 12.
 */
#ifndef COMMON_AEAD_H
#define COMMON_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_LEN   32
#define AEAD_NONCE_LEN 12
#define AEAD_TAG_LEN   16
#define AEAD_OVERHEAD  (AEAD_NONCE_LEN + AEAD_TAG_LEN)

/*
 * Initialise OpenSSL without reading openssl.cnf: the daemon's crypto must
 * not change with a file on disk, and once sandboxed it may open none.
 * The AES-GCM implementation and the random generator load on first use,
 * so an idle daemon does not carry them (about 2 MiB of resident pages).
 */
int aead_init(void);

/* Encrypt n bytes of pt into out (n + AEAD_OVERHEAD bytes), random nonce. */
int aead_seal(const uint8_t *key, const uint8_t *aad, size_t aad_len,
    const uint8_t *pt, size_t n, uint8_t *out);
/* The same with a caller-chosen nonce: for tests and vectors only. */
int aead_seal_with_nonce(const uint8_t *key, const uint8_t *nonce,
    const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t n,
    uint8_t *out);
/*
 * Authenticate and decrypt n bytes (at least AEAD_OVERHEAD) into out
 * (n - AEAD_OVERHEAD bytes). -1 when the tag does not verify; out then
 * holds nothing useful and is wiped.
 */
int aead_open(const uint8_t *key, const uint8_t *aad, size_t aad_len,
    const uint8_t *in, size_t n, uint8_t *out);

#endif
