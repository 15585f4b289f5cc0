/*
 * json_text.c - JSON string escaping into a buffer (see json_text.h).
 */
#include "common/json_text.h"

#include <string.h>

#include "common/guard.h"

/* Bytes that can be copied as they are: everything but '"', '\\' and C0. */
static int
json_plain(uint8_t c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

int
json_append_string(struct buf *b, const uint8_t *s, size_t n, size_t limit)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;

	GUARD(buf_append(b, "\"", 1, limit));
	while (i < n) {
		size_t run = i;
		char esc[6];

		while (run < n && json_plain(s[run]))
			run++;
		GUARD(buf_append(b, s + i, run - i, limit));
		if (run == n)
			break;
		esc[0] = '\\';
		switch (s[run]) {
		case '"': esc[1] = '"'; GUARD(buf_append(b, esc, 2, limit)); break;
		case '\\': esc[1] = '\\'; GUARD(buf_append(b, esc, 2, limit)); break;
		case '\n': esc[1] = 'n'; GUARD(buf_append(b, esc, 2, limit)); break;
		case '\r': esc[1] = 'r'; GUARD(buf_append(b, esc, 2, limit)); break;
		case '\t': esc[1] = 't'; GUARD(buf_append(b, esc, 2, limit)); break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[s[run] >> 4];
			esc[5] = hex[s[run] & 0x0f];
			GUARD(buf_append(b, esc, 6, limit));
			break;
		}
		i = run + 1;
	}
	return buf_append(b, "\"", 1, limit);
}

int
json_append_cstring(struct buf *b, const char *s, size_t limit)
{
	return json_append_string(b, (const uint8_t *)s, strlen(s), limit);
}
