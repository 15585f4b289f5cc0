/*
 * json_scan.c - raw-text scanners for JSON (see json_scan.h).
 */
#include "common/json_scan.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/frame.h"
#include "common/guard.h"

static size_t
skip_space(const uint8_t *t, size_t n, size_t i)
{
	while (i < n && frame_is_space(t[i]))
		i++;
	return i;
}

/*
 * The index of the first '"' or '\\' in t[from, n), or n: inside a string
 * they are the only bytes that matter. libc has no two-byte memchr, and
 * two passes (one per byte) would cross a 32 MiB string twice; SSE2 tests
 * 64 bytes per step for either.
 */
static size_t
next_quote_or_backslash(const uint8_t *t, size_t from, size_t n)
{
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');

	while (n - from >= 64) {
		const __m128i *p = (const __m128i *)(const void *)(t + from);
		__m128i a = _mm_loadu_si128(p), b = _mm_loadu_si128(p + 1);
		__m128i c = _mm_loadu_si128(p + 2), d = _mm_loadu_si128(p + 3);
		__m128i hit = _mm_or_si128(
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(a, quote),
		    _mm_cmpeq_epi8(a, bs)), _mm_or_si128(_mm_cmpeq_epi8(b, quote),
		    _mm_cmpeq_epi8(b, bs))),
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(c, quote),
		    _mm_cmpeq_epi8(c, bs)), _mm_or_si128(_mm_cmpeq_epi8(d, quote),
		    _mm_cmpeq_epi8(d, bs))));

		if (_mm_movemask_epi8(hit) != 0)
			break;		/* in these 64: the byte loop finds it */
		from += 64;
	}
#endif
	while (from < n && t[from] != '"' && t[from] != '\\')
		from++;
	return from;
}

/*
 * From the opening quote at t[i], return the index just past the closing
 * quote, or 0; *escaped is set when the string holds an escape.
 */
static size_t
skip_string(const uint8_t *t, size_t n, size_t i, int *escaped)
{
	size_t at = i + 1;

	*escaped = 0;
	for (;;) {
		at = next_quote_or_backslash(t, at, n);
		if (at >= n)
			return 0;
		if (t[at] == '"')
			return at + 1;
		*escaped = 1;
		if (at + 1 >= n)
			return 0;
		at += 2;	/* the backslash and the byte it escapes */
	}
}

/*
 * From the first byte of a value, the index just past it, or 0; *escaped
 * is set for a string value that holds an escape.
 */
static size_t
skip_value(const uint8_t *t, size_t n, size_t i, int *escaped)
{
	size_t depth = 0;
	int inner;

	*escaped = 0;
	if (i >= n)
		return 0;
	if (t[i] == '"')
		return skip_string(t, n, i, escaped);
	if (t[i] != '{' && t[i] != '[') {
		while (i < n && !frame_is_space(t[i]) && t[i] != ',' &&
		    t[i] != '}' && t[i] != ']')
			i++;
		return i;
	}
	while (i < n) {
		switch (t[i]) {
		case '"':
			if ((i = skip_string(t, n, i, &inner)) == 0)
				return 0;
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth == 0)
				return i + 1;
			break;
		default:
			break;
		}
		i++;
	}
	return 0;
}

int
json_next_member(const uint8_t *text, size_t n, size_t *pos,
    struct json_member *m)
{
	size_t i = skip_space(text, n, *pos), end;
	int escaped;

	if (*pos == 0) {
		if (i >= n || text[i] != '{')
			return -1;
		i = skip_space(text, n, i + 1);
	} else if (i < n && text[i] == ',') {
		i = skip_space(text, n, i + 1);
	}
	if (i < n && text[i] == '}')
		return 0;
	if (i >= n || text[i] != '"' ||
	    (end = skip_string(text, n, i, &escaped)) == 0)
		return -1;
	m->key = (struct slice){ text + i, end - i };
	i = skip_space(text, n, end);
	if (i >= n || text[i] != ':')
		return -1;
	i = skip_space(text, n, i + 1);
	if ((end = skip_value(text, n, i, &m->value_escaped)) == 0)
		return -1;
	m->value = (struct slice){ text + i, end - i };
	*pos = end;
	return 1;
}

int
json_find_member(const uint8_t *text, size_t n, const char *name,
    struct json_member *found)
{
	struct json_member m;
	struct buf key = BUF_INIT;
	size_t pos = 0, name_len = strlen(name);
	int rc;

	while ((rc = json_next_member(text, n, &pos, &m)) == 1) {
		key.len = 0;
		if (json_decode_string(m.key, &key, m.key.len) < 0) {
			rc = -1;
			break;
		}
		if (key.len == name_len && memcmp(key.data, name, name_len) == 0) {
			*found = m;
			break;
		}
	}
	buf_free(&key, 0);
	return rc == 1 ? 0 : -1;
}

static int
hex4(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		uint8_t c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int
put_utf8(struct buf *out, uint32_t cp, size_t limit)
{
	uint8_t u[4];
	size_t len;

	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		len = 1;
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		len = 2;
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | cp >> 12);
		u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		len = 3;
	} else {
		u[0] = (uint8_t)(0xf0 | cp >> 18);
		u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (uint8_t)(0x80 | (cp & 0x3f));
		len = 4;
	}
	return buf_append(out, u, len, limit);
}

/* One escape at s[0] == '\\'; returns the bytes it spans, or 0. */
static size_t
decode_escape(const uint8_t *s, size_t left, struct buf *out, size_t limit)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	uint32_t cp, lo;
	const char *hit;

	if (left < 2)
		return 0;
	if (s[1] != 'u') {
		if (s[1] == '\0' || (hit = strchr(from, s[1])) == NULL)
			return 0;
		return buf_append(out, &to[hit - from], 1, limit) < 0 ? 0 : 2;
	}
	if (left < 6 || hex4(s + 2, &cp) < 0)
		return 0;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		/* A high surrogate needs its low half: \uD83D\uDE00. */
		if (left < 12 || s[6] != '\\' || s[7] != 'u' ||
		    hex4(s + 8, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return 0;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		return put_utf8(out, cp, limit) < 0 ? 0 : 12;
	}
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return 0;
	return put_utf8(out, cp, limit) < 0 ? 0 : 6;
}

int
json_decode_string(struct slice raw, struct buf *out, size_t limit)
{
	const uint8_t *s = raw.data, *end;

	if (raw.len < 2 || s[0] != '"' || s[raw.len - 1] != '"')
		return -1;
	end = s + raw.len - 1;
	s++;
	while (s < end) {
		const uint8_t *bs = memchr(s, '\\', (size_t)(end - s));
		size_t used;

		if (bs == NULL)
			return buf_append(out, s, (size_t)(end - s), limit);
		GUARD(buf_append(out, s, (size_t)(bs - s), limit));
		if ((used = decode_escape(bs, (size_t)(end - bs), out, limit)) == 0)
			return -1;
		s = bs + used;
	}
	return 0;
}

static int
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* RFC 8259: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int
number_ok(const uint8_t *t, size_t n, size_t *i)
{
	size_t p = *i;

	if (p < n && t[p] == '-')
		p++;
	if (p >= n || !is_digit(t[p]))
		return 0;
	if (t[p] == '0')
		p++;
	else
		while (p < n && is_digit(t[p]))
			p++;
	if (p < n && t[p] == '.') {
		if (++p >= n || !is_digit(t[p]))
			return 0;
		while (p < n && is_digit(t[p]))
			p++;
	}
	if (p < n && (t[p] == 'e' || t[p] == 'E')) {
		p++;
		if (p < n && (t[p] == '+' || t[p] == '-'))
			p++;
		if (p >= n || !is_digit(t[p]))
			return 0;
		while (p < n && is_digit(t[p]))
			p++;
	}
	/* What follows a number is a delimiter, never more number. */
	if (p < n && (is_digit(t[p]) || t[p] == '.' || t[p] == 'e' ||
	    t[p] == 'E' || t[p] == '+' || t[p] == '-'))
		return 0;
	*i = p;
	return 1;
}

int
json_numbers_strict(const uint8_t *text, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = text[i];

		if (c == '"') {
			int escaped;

			if ((i = skip_string(text, n, i, &escaped)) == 0)
				return 0;
		} else if (c == '-' || is_digit(c)) {
			if (!number_ok(text, n, &i))
				return 0;
		} else {
			i++;
		}
	}
	return 1;
}

/* The escape after a backslash at t[i]; returns its length, or 0. */
static size_t
escape_len(const uint8_t *t, size_t n, size_t i, int *has_nul)
{
	uint32_t cp;

	if (i + 1 >= n)
		return 0;
	switch (t[i + 1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r':
	case 't':
		return 2;
	case 'u':
		if (n - i < 6 || hex4(t + i + 2, &cp) < 0)
			return 0;
		if (cp == 0)
			*has_nul = 1;
		return 6;
	default:
		return 0;
	}
}

/*
 * One pass, byte by byte: requests reach it with their ciphertext cut out
 * (bulk_field.h), so it only ever reads the small part of a message.
 */
int
json_check_text(const uint8_t *text, size_t n, int *has_nul)
{
	int in_string = 0;
	size_t i = 0, used;

	*has_nul = 0;
	while (i < n) {
		uint8_t c = text[i];

		if (c < 0x20) {
			if (in_string || (c != '\t' && c != '\n' && c != '\r'))
				return -1;
		} else if (c == '"') {
			in_string = !in_string;
		} else if (c == '\\' && in_string) {
			if ((used = escape_len(text, n, i, has_nul)) == 0)
				return -1;
			i += used;
			continue;
		}
		i++;
	}
	return 0;
}
