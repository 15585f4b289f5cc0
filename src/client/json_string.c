/*
 * json_string.c - JSON string literals written straight into a request.
 *
 * Requests are assembled by hand rather than through cJSON: a credential
 * must be written exactly once into a buffer we wipe (cJSON would leave
 * copies in freed nodes), and a 32 MiB ciphertext must not be copied at
 * all. So this file knows the exact length of a literal before it writes.
 */
#include "client/client_internal.h"

#include <stdint.h>

#include "common/hex.h"

/* Bytes one input byte takes inside the quotes. */
static size_t
escaped_len(uint8_t ch)
{
	switch (ch) {
	case '"': case '\\': case '\b': case '\f': case '\n': case '\r':
	case '\t':
		return 2;
	default:
		return ch < 0x20 ? 6 : 1;
	}
}

int
json_string_plain(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t ch = (uint8_t)s[i];

		if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\')
			return 0;
	}
	return 1;
}

int
json_string_len(const char *s, size_t n, size_t *out)
{
	size_t i, len = 2;

	for (i = 0; i < n; i++)
		if (size_add(len, escaped_len((uint8_t)s[i]), &len) < 0)
			return -1;
	*out = len;
	return 0;
}

/* Bytes from 0x80 up pass through: the caller's text is taken as UTF-8. */
char *
json_string_write(char *dst, const char *s, size_t n)
{
	size_t i;

	*dst++ = '"';
	for (i = 0; i < n; i++) {
		uint8_t ch = (uint8_t)s[i];

		switch (ch) {
		case '"':  *dst++ = '\\'; *dst++ = '"'; break;
		case '\\': *dst++ = '\\'; *dst++ = '\\'; break;
		case '\b': *dst++ = '\\'; *dst++ = 'b'; break;
		case '\f': *dst++ = '\\'; *dst++ = 'f'; break;
		case '\n': *dst++ = '\\'; *dst++ = 'n'; break;
		case '\r': *dst++ = '\\'; *dst++ = 'r'; break;
		case '\t': *dst++ = '\\'; *dst++ = 't'; break;
		default:
			if (ch < 0x20) {
				*dst++ = '\\';
				*dst++ = 'u';
				*dst++ = '0';
				*dst++ = '0';
				hex_encode(dst, &ch, 1);
				dst += 2;
			} else {
				*dst++ = (char)ch;
			}
		}
	}
	*dst++ = '"';
	return dst;
}
