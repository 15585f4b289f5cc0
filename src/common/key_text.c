/*
 * key_text.c - a 32-byte key from its hex or base64 text (see key_text.h).
 */
#include "common/key_text.h"

#include <string.h>

#include <openssl/crypto.h>

#include "common/base64.h"
#include "common/hex.h"

/* Base64 of 32 bytes is always 44 characters (strict, padded). */
#define KEY_TEXT_BASE64_LEN ((KEY_TEXT_KEY_LEN + 2) / 3 * 4)

/* Hex is told by its length; anything else must be base64 of 32 bytes. */
int
key_text_decode(uint8_t key[KEY_TEXT_KEY_LEN], const char *text, size_t n)
{
	uint8_t dec[BASE64_DECODED_MAX(KEY_TEXT_BASE64_LEN)];
	size_t got = 0;
	int rc = -1;

	if (n == 2 * KEY_TEXT_KEY_LEN)
		return hex_decode(key, text, n);
	if (n != KEY_TEXT_BASE64_LEN)
		return -1;
	if (base64_decode(dec, &got, text, n) == 0 &&
	    got == KEY_TEXT_KEY_LEN) {
		memcpy(key, dec, KEY_TEXT_KEY_LEN);
		rc = 0;
	}
	OPENSSL_cleanse(dec, sizeof(dec));
	return rc;
}
