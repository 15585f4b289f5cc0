/*
 * json_text.c - JSON string escaping into a buffer (see json_text.h).
 */
#include "common/json_text.h"

#include <string.h>

#include "common/guard.h"

/* Bytes one input byte takes inside the quotes. */
static size_t
escaped_len(uint8_t c)
{
	switch (c) {
	case '"': case '\\': case '\b': case '\f': case '\n': case '\r':
	case '\t':
		return 2;
	default:
		return c < 0x20 ? 6 : 1;
	}
}

int
json_string_len(const void *s, size_t n, size_t *out)
{
	const uint8_t *p = s;
	size_t i, len = 2;

	for (i = 0; i < n; i++)
		GUARD(size_add(len, escaped_len(p[i]), &len));
	*out = len;
	return 0;
}

/* Bytes from 0x80 up pass through: the text is taken as UTF-8. */
char *
json_string_write(char *dst, const void *s, size_t n)
{
	static const char short_escape[256] = {
		['"'] = '"', ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
		['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
	};
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = s;
	size_t i;

	*dst++ = '"';
	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (short_escape[c] != 0) {
			*dst++ = '\\';
			*dst++ = short_escape[c];
		} else if (c < 0x20) {
			memcpy(dst, "\\u00", 4);
			dst[4] = hex[c >> 4];
			dst[5] = hex[c & 0x0f];
			dst += 6;
		} else {
			*dst++ = (char)c;
		}
	}
	*dst++ = '"';
	return dst;
}

int
json_append_string(struct buf *b, const uint8_t *s, size_t n, size_t limit)
{
	size_t len;
	char *dst, *end;

	GUARD(json_string_len(s, n, &len));
	GUARD_PTR(dst = (char *)buf_tail(b, len, limit));
	end = json_string_write(dst, s, n);
	return buf_commit(b, (size_t)(end - dst));
}

int
json_append_cstring(struct buf *b, const char *s, size_t limit)
{
	return json_append_string(b, (const uint8_t *)s, strlen(s), limit);
}
