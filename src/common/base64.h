/*
 * base64.h - standard base64 with padding (RFC 4648 section 4), strictly.
 *
 * OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock do the work; this wrapper adds
 * what they leave loose: it rejects whitespace, bad characters and
 * misplaced padding, and reports the true decoded length.
 */
#ifndef COMMON_BASE64_H
#define COMMON_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to decode `n` base64 characters (an upper bound). */
#define BASE64_DECODED_MAX(n) ((n) / 4 * 3 + 3)
size_t base64_decoded_max(size_t n);
/* Characters (without terminator) that encoding `n` bytes produces. */
size_t base64_encoded_len(size_t n);

/* Decode into dst (base64_decoded_max(n) bytes); *out_len gets the length. */
int    base64_decode(uint8_t *dst, size_t *out_len, const char *src, size_t n);
/* Encode into dst (base64_encoded_len(n) + 1 bytes, NUL-terminated). */
void   base64_encode(char *dst, const uint8_t *src, size_t n);

#endif
