/*
 * base64.c - strict base64 over OpenSSL (see base64.h).
 */
#include "common/base64.h"

#include <limits.h>

#include <openssl/evp.h>

static int
is_base64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

size_t
base64_decoded_max(size_t n)
{
	return BASE64_DECODED_MAX(n);
}

size_t
base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

int
base64_decode(uint8_t *dst, size_t *out_len, const char *src, size_t n)
{
	size_t i, pad = 0;
	int got;

	if (n % 4 != 0 || n > INT_MAX)
		return -1;
	if (n > 0 && src[n - 1] == '=')
		pad++;
	if (n > 1 && src[n - 2] == '=')
		pad++;
	for (i = 0; i < n - pad; i++)
		if (!is_base64_char((unsigned char)src[i]))
			return -1;
	if (n == 0) {
		*out_len = 0;
		return 0;
	}
	got = EVP_DecodeBlock(dst, (const unsigned char *)src, (int)n);
	if (got < 0 || (size_t)got < pad)
		return -1;
	*out_len = (size_t)got - pad;
	return 0;
}

void
base64_encode(char *dst, const uint8_t *src, size_t n)
{
	/* Callers never pass more than INT_MAX: messages are capped far below. */
	EVP_EncodeBlock((unsigned char *)dst, src, (int)n);
}
