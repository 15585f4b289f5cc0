/*
 * json_scan.c - raw-text scanners for JSON (see json_scan.h).
 */
#include "common/json_scan.h"

#include <stdlib.h>
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
		buf_truncate(&key, 0);
		if (json_decode_string(m.key, &key, m.key.len) < 0) {
			rc = -1;
			break;
		}
		if (key.len == name_len &&
		    (name_len == 0 || memcmp(key.data, name, name_len) == 0)) {
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
 * Inside a string: the index of the first byte in t[from, n) that ends it,
 * escapes or is refused ('"', '\\', a control byte), or n. The client and
 * the gateway check whole 32 MiB strings; SSE2 tests 16 bytes a step.
 */
static size_t
next_string_special(const uint8_t *t, size_t from, size_t n)
{
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	const __m128i ctl_max = _mm_set1_epi8(0x1f);

	while (n - from >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(t + from));
		__m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, ctl_max), x);
		__m128i hit = _mm_or_si128(ctl, _mm_or_si128(
		    _mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bs)));

		if (_mm_movemask_epi8(hit) != 0)
			break;		/* in these 16: the byte loop finds it */
		from += 16;
	}
#endif
	while (from < n && t[from] != '"' && t[from] != '\\' && t[from] >= 0x20)
		from++;
	return from;
}

/*
 * One pass; string contents are crossed 16 bytes a step, so a message
 * that is mostly one long string (a process request through the gateway,
 * a result read by the client) costs little more than reading it.
 */
int
json_check_text(const uint8_t *text, size_t n, int *has_nul)
{
	int in_string = 0;
	size_t i = 0, used;

	*has_nul = 0;
	while (i < n) {
		uint8_t c;

		if (in_string && (i = next_string_special(text, i, n)) >= n)
			break;
		c = text[i];

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

/*
 * json_check_names: one walk over the text. Each object's names are kept
 * as references (into the text for a name without escapes, else into an
 * arena of decoded names) on one stack that nested objects push onto and
 * pop; when an object closes its names are compared.
 */
struct name_ref {
	size_t         off;	/* decoded bytes: in the text, or in the arena */
	size_t         len;
	int            in_arena;
	struct slice   raw;	/* the name as written, quotes included */
	const uint8_t *bytes;	/* resolved just before comparing */
};

struct names_walk {
	const uint8_t *t;
	size_t         n;
	int            flags;
	struct buf     arena;	/* decoded names that held an escape */
	struct buf     stack;	/* struct name_ref of the open objects */
	struct slice   found;	/* the offending name */
	size_t         stack_max;	/* bytes: one ref per name in t */
};

/* Deeper than cJSON's own nesting limit: text cJSON took never gets here. */
#define NAMES_DEPTH_MAX 1024
/* Up to this many members, comparing each pair beats sorting. */
#define NAMES_PAIRWISE_MAX 8

static int walk_value(struct names_walk *w, size_t *i, int depth);

/* Any total order will do: equal names end up side by side. */
static int
name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->len == 0 ? 0 : memcmp(x->bytes, y->bytes, x->len);
}

/* The names of one object, refs[0..count): JSON_NAMES_OK or DUPLICATE. */
static int
names_unique(struct names_walk *w, struct name_ref *refs, size_t count)
{
	size_t i, j;

	for (i = 0; i < count; i++)
		refs[i].bytes = (refs[i].in_arena ? w->arena.data : w->t) +
		    refs[i].off;
	if (count <= NAMES_PAIRWISE_MAX) {
		for (i = 0; i < count; i++)
			for (j = i + 1; j < count; j++)
				if (name_ref_cmp(&refs[i], &refs[j]) == 0) {
					w->found = refs[j].raw;
					return JSON_NAMES_DUPLICATE;
				}
		return JSON_NAMES_OK;
	}
	/* O(k log k) whatever the names: no hash for an attacker to flood. */
	qsort(refs, count, sizeof(*refs), name_ref_cmp);
	for (i = 1; i < count; i++)
		if (name_ref_cmp(&refs[i - 1], &refs[i]) == 0) {
			w->found = refs[i].raw;
			return JSON_NAMES_DUPLICATE;
		}
	return JSON_NAMES_OK;
}

/* Push the name whose raw text is t[at, end); checks it for U+0000. */
static int
push_name(struct names_walk *w, size_t at, size_t end, int escaped, int depth)
{
	struct name_ref ref = { at + 1, end - at - 2, 0,
		{ w->t + at, end - at }, NULL };
	const uint8_t *bytes = w->t + at + 1;

	if (escaped) {
		ref.off = w->arena.len;
		ref.in_arena = 1;
		/* Decoded names are no longer than their text, all in t. */
		if (json_decode_string(ref.raw, &w->arena, w->n) < 0)
			return JSON_NAMES_MALFORMED;
		ref.len = w->arena.len - ref.off;
		bytes = w->arena.data + ref.off;
	}
	if (ref.len > 0 && memchr(bytes, '\0', ref.len) != NULL &&
	    !(depth > 0 && (w->flags & JSON_NAMES_NESTED_NUL_OK))) {
		w->found = ref.raw;
		return JSON_NAMES_NUL;
	}
	if (buf_append(&w->stack, &ref, sizeof(ref), w->stack_max) < 0)
		return JSON_NAMES_MALFORMED;
	return JSON_NAMES_OK;
}

/* The object at t[*i] == '{'; *i ends just past its '}'. */
static int
walk_object(struct names_walk *w, size_t *i, int depth)
{
	size_t base = w->stack.len, arena_base = w->arena.len;
	size_t at = skip_space(w->t, w->n, *i + 1), end;
	int escaped, rc = JSON_NAMES_OK;

	if (at < w->n && w->t[at] == '}') {
		*i = at + 1;
		return JSON_NAMES_OK;
	}
	for (;;) {
		if (at >= w->n || w->t[at] != '"' ||
		    (end = skip_string(w->t, w->n, at, &escaped)) == 0)
			return JSON_NAMES_MALFORMED;
		if ((rc = push_name(w, at, end, escaped, depth)) != JSON_NAMES_OK)
			return rc;
		at = skip_space(w->t, w->n, end);
		if (at >= w->n || w->t[at] != ':')
			return JSON_NAMES_MALFORMED;
		at++;
		if ((rc = walk_value(w, &at, depth + 1)) != JSON_NAMES_OK)
			return rc;
		at = skip_space(w->t, w->n, at);
		if (at < w->n && w->t[at] == ',') {
			at = skip_space(w->t, w->n, at + 1);
			continue;
		}
		if (at < w->n && w->t[at] == '}')
			break;
		return JSON_NAMES_MALFORMED;
	}
	rc = names_unique(w, (struct name_ref *)(void *)(w->stack.data + base),
	    (w->stack.len - base) / sizeof(struct name_ref));
	buf_truncate(&w->stack, base);
	buf_truncate(&w->arena, arena_base);
	*i = at + 1;
	return rc;
}

/* The array at t[*i] == '['; *i ends just past its ']'. */
static int
walk_array(struct names_walk *w, size_t *i, int depth)
{
	size_t at = skip_space(w->t, w->n, *i + 1);
	int rc;

	if (at < w->n && w->t[at] == ']') {
		*i = at + 1;
		return JSON_NAMES_OK;
	}
	for (;;) {
		if ((rc = walk_value(w, &at, depth + 1)) != JSON_NAMES_OK)
			return rc;
		at = skip_space(w->t, w->n, at);
		if (at < w->n && w->t[at] == ',') {
			at++;
			continue;
		}
		if (at < w->n && w->t[at] == ']')
			break;
		return JSON_NAMES_MALFORMED;
	}
	*i = at + 1;
	return JSON_NAMES_OK;
}

/* The value at or after t[*i]; *i ends just past it. */
static int
walk_value(struct names_walk *w, size_t *i, int depth)
{
	size_t at = skip_space(w->t, w->n, *i), end;
	int escaped;

	if (at >= w->n || depth > NAMES_DEPTH_MAX)
		return JSON_NAMES_MALFORMED;
	switch (w->t[at]) {
	case '{':
		*i = at;
		return walk_object(w, i, depth);
	case '[':
		*i = at;
		return walk_array(w, i, depth);
	case '"':
		if ((end = skip_string(w->t, w->n, at, &escaped)) == 0)
			return JSON_NAMES_MALFORMED;
		*i = end;
		return JSON_NAMES_OK;
	default:
		/* A number or a literal: up to the next delimiter. */
		for (end = at; end < w->n && !frame_is_space(w->t[end]) &&
		    w->t[end] != ',' && w->t[end] != '}' && w->t[end] != ']' &&
		    w->t[end] != ':'; end++)
			;
		if (end == at)
			return JSON_NAMES_MALFORMED;
		*i = end;
		return JSON_NAMES_OK;
	}
}

int
json_check_names(const uint8_t *text, size_t n, int flags, struct slice *name)
{
	struct names_walk w = { text, n, flags, BUF_INIT, BUF_INIT, { NULL, 0 },
		0 };
	size_t at = 0;
	int rc;

	/* A name takes two bytes at least (its quotes). */
	if (size_mul(n / 2 + 1, sizeof(struct name_ref), &w.stack_max) < 0)
		rc = JSON_NAMES_MALFORMED;
	else
		rc = walk_value(&w, &at, 0);
	if (rc == JSON_NAMES_OK && skip_space(text, n, at) != n)
		rc = JSON_NAMES_MALFORMED;
	if (name != NULL)
		*name = w.found;
	buf_free(&w.arena, 0);
	buf_free(&w.stack, 0);
	return rc;
}
