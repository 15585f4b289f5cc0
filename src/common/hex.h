/*
 * hex.h - hexadecimal, the protocol's encoding for ciphertext.
 *
 * Written by hand (no packaged library decodes in place, and this is the
 * daemon's hottest loop after AES-GCM): table driven, either case accepted,
 * lowercase produced. Decoding may run in place (dst == src): byte i is
 * written only after characters 2i and 2i+1 have been read.
 */
#ifndef COMMON_HEX_H
#define COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Decode `n` hex characters into n/2 bytes; -1 on odd n or a non-hex char. */
int  hex_decode(uint8_t *dst, const char *src, size_t n);
/* Encode `n` bytes as 2n lowercase characters (no terminator written). */
void hex_encode(char *dst, const uint8_t *src, size_t n);

#endif
