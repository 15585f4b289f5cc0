/*
 * test_frame.c - common/frame: the incremental scanner, driven exactly as
 * a connection drives it (drop `skip`, then `end` on READY, then reset).
 *
 * Every stream is fed whole, byte by byte and in many seeded random splits,
 * and must give the same messages and the same final result each way:
 * both framings, whitespace between messages, braces and escaped quotes
 * inside strings, backslash runs crossing split points, zero length, a
 * length prefix over the maximum, a bare object passing the maximum, and
 * several messages back to back in one buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/frame.h"

#define MAX_MSGS     32
#define BIG_LIMIT    ((size_t)1 << 20)
#define RANDOM_ITERS 400

/* What a connection saw: the messages in order, then how it ended. */
struct outcome {
	size_t            n;
	enum frame_kind   kind[MAX_MSGS];
	struct buf        msg[MAX_MSGS];
	enum frame_result last;		/* NEED_MORE or TOO_LARGE */
	size_t            left;		/* bytes still buffered at the end */
};

static void
outcome_free(struct outcome *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		buf_free(&o->msg[i], 0);
	o->n = 0;
}

/* A small deterministic generator, so a failure can be replayed. */
static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/*
 * Feed `stream` in chunks cut at the given points and scan after each one,
 * following frame.h's calling contract to the letter.
 */
static void
drive(const uint8_t *stream, size_t len, const size_t *cuts, size_t ncuts,
    size_t max, struct outcome *o)
{
	struct frame_scanner sc;
	struct buf conn = BUF_INIT;
	size_t fed = 0, c;

	memset(o, 0, sizeof(*o));
	o->last = FRAME_NEED_MORE;
	frame_reset(&sc);
	for (c = 0; c <= ncuts; c++) {
		size_t upto = c < ncuts ? cuts[c] : len;

		assert_true(upto >= fed && upto <= len);
		assert_int_equal(buf_append(&conn, stream + fed, upto - fed,
		    BIG_LIMIT * 4), 0);
		fed = upto;
		for (;;) {
			struct frame f;
			enum frame_result r = frame_scan(&sc, conn.data,
			    conn.len, max, &f);

			assert_true(f.skip <= conn.len);
			if (r == FRAME_TOO_LARGE) {
				o->last = r;
				goto out;
			}
			if (r == FRAME_NEED_MORE) {
				buf_consume(&conn, f.skip);
				break;
			}
			assert_int_equal(r, FRAME_READY);
			assert_true(o->n < MAX_MSGS);
			assert_true(f.end <= conn.len);
			assert_true(f.skip + f.offset + f.len == f.end);
			o->kind[o->n] = f.kind;
			assert_int_equal(buf_append(&o->msg[o->n],
			    conn.data + f.skip + f.offset, f.len, BIG_LIMIT * 4),
			    0);
			o->n++;
			buf_consume(&conn, f.end);
			frame_reset(&sc);
		}
	}
out:
	o->left = conn.len;
	buf_free(&conn, 0);
}

static void
assert_same(const struct outcome *a, const struct outcome *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	assert_int_equal(a->last, b->last);
	for (i = 0; i < a->n; i++) {
		assert_int_equal(a->kind[i], b->kind[i]);
		assert_int_equal(a->msg[i].len, b->msg[i].len);
		if (a->msg[i].len > 0)
			assert_memory_equal(a->msg[i].data, b->msg[i].data,
			    a->msg[i].len);
	}
	if (a->last == FRAME_NEED_MORE)
		assert_int_equal(a->left, b->left);
}

/*
 * Whole, byte by byte and RANDOM_ITERS random splits; the whole run is
 * returned in `whole` for the caller's own expectations.
 */
static void
drive_all_ways(const uint8_t *stream, size_t len, size_t max,
    struct outcome *whole)
{
	struct outcome other;
	size_t *cuts = malloc((len + 1) * sizeof(*cuts));
	size_t i, k, n;
	uint32_t seed = 0x5eed0000u + (uint32_t)len;

	assert_non_null(cuts);
	drive(stream, len, NULL, 0, max, whole);

	for (i = 0; i + 1 < len; i++)
		cuts[i] = i + 1;
	drive(stream, len, cuts, len > 0 ? len - 1 : 0, max, &other);
	assert_same(whole, &other);
	outcome_free(&other);

	for (k = 0; k < RANDOM_ITERS; k++) {
		size_t pos = 0;

		n = 0;
		while (pos < len) {
			/* mostly small pieces, sometimes big ones */
			size_t step = lcg(&seed) % 8 == 0 ?
			    1 + lcg(&seed) % (len + 1) : 1 + lcg(&seed) % 7;

			pos = pos + step > len ? len : pos + step;
			if (pos < len)
				cuts[n++] = pos;
		}
		drive(stream, len, cuts, n, max, &other);
		assert_same(whole, &other);
		outcome_free(&other);
	}
	free(cuts);
}

static void
expect_msg(const struct outcome *o, size_t i, enum frame_kind kind,
    const void *text, size_t len)
{
	assert_true(i < o->n);
	assert_int_equal(o->kind[i], kind);
	assert_int_equal(o->msg[i].len, len);
	if (len > 0)
		assert_memory_equal(o->msg[i].data, text, len);
}

static void
expect_bare(const struct outcome *o, size_t i, const char *text)
{
	expect_msg(o, i, FRAME_BARE, text, strlen(text));
}

/* Append a length-framed message to a stream under construction. */
static void
add_len(struct buf *s, const void *json, size_t n)
{
	assert_int_equal(buf_append_u32be(s, (uint32_t)n, BIG_LIMIT), 0);
	assert_int_equal(buf_append(s, json, n, BIG_LIMIT), 0);
}

static void
add_str(struct buf *s, const char *text)
{
	assert_int_equal(buf_append_str(s, text, BIG_LIMIT), 0);
}

static void
test_bare_single(void **state)
{
	static const char s[] = "{\"type\":\"ping\"}";
	struct outcome o;

	(void)state;
	drive_all_ways((const uint8_t *)s, strlen(s), BIG_LIMIT, &o);
	assert_int_equal(o.n, 1);
	expect_bare(&o, 0, s);
	assert_int_equal(o.last, FRAME_NEED_MORE);
	assert_int_equal(o.left, 0);
	outcome_free(&o);
}

static void
test_length_single(void **state)
{
	static const char json[] = "{\"type\":\"ping\"}";
	struct buf s = BUF_INIT;
	struct outcome o;

	(void)state;
	add_len(&s, json, strlen(json));
	drive_all_ways(s.data, s.len, BIG_LIMIT, &o);
	assert_int_equal(o.n, 1);
	expect_msg(&o, 0, FRAME_LENGTH, json, strlen(json));
	assert_int_equal(o.left, 0);
	outcome_free(&o);
	buf_free(&s, 0);
}

/* Whitespace before, between and after messages of both framings. */
static void
test_whitespace_between(void **state)
{
	struct buf s = BUF_INIT;
	struct outcome o;

	(void)state;
	add_str(&s, " \t\r\n {\"a\":1}\n\n\t ");
	add_len(&s, "{\"b\":2}", 7);
	add_str(&s, "\r\n");
	add_len(&s, "{ \"c\" : 3 }", 11);
	add_str(&s, "{\"d\":\"  \"}   \n");
	drive_all_ways(s.data, s.len, BIG_LIMIT, &o);
	assert_int_equal(o.n, 4);
	expect_bare(&o, 0, "{\"a\":1}");
	expect_msg(&o, 1, FRAME_LENGTH, "{\"b\":2}", 7);
	expect_msg(&o, 2, FRAME_LENGTH, "{ \"c\" : 3 }", 11);
	expect_bare(&o, 3, "{\"d\":\"  \"}");
	/* trailing whitespace is consumed, not kept as a message start */
	assert_int_equal(o.left, 0);
	assert_int_equal(o.last, FRAME_NEED_MORE);
	outcome_free(&o);
	buf_free(&s, 0);
}

static void
test_whitespace_only(void **state)
{
	static const char s[] = " \r\n\t  \n";
	struct outcome o;

	(void)state;
	drive_all_ways((const uint8_t *)s, strlen(s), BIG_LIMIT, &o);
	assert_int_equal(o.n, 0);
	assert_int_equal(o.left, 0);
	outcome_free(&o);
}

/* Braces and escaped quotes inside strings do not count. */
static void
test_braces_in_strings(void **state)
{
	static const char *const msgs[] = {
		"{\"a\":\"}\\\"{\"}",		/* {"a":"}\"{"} */
		"{\"a\":\"}}}}\"}",
		"{\"{\":\"{{{\",\"}\":{\"x\":\"}\"}}",
		"{\"a\":\"\\\"}\\\"\"}",		/* {"a":"\"}\""} */
		"{\"a\":{\"b\":{\"c\":[1,{\"d\":2}]}}}",
		"{\"a\":\"\\u007d\\u007b\"}",
	};
	struct buf s = BUF_INIT;
	struct outcome o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		add_str(&s, msgs[i]);
	drive_all_ways(s.data, s.len, BIG_LIMIT, &o);
	assert_int_equal(o.n, sizeof(msgs) / sizeof(msgs[0]));
	for (i = 0; i < o.n; i++)
		expect_bare(&o, i, msgs[i]);
	outcome_free(&o);
	buf_free(&s, 0);
}

/*
 * Runs of 0..12 backslashes before a quote: an even run leaves the quote
 * closing the string, an odd run escapes it. After an escaped quote comes
 * "}{" still inside the string, so ending the string there by mistake
 * would end the message early. Random splits put cut points inside runs.
 */
static void
test_backslash_runs(void **state)
{
	struct buf s = BUF_INIT;
	char msgs[13][64];
	struct outcome o;
	size_t n, i;

	(void)state;
	for (n = 0; n < 13; n++) {
		char *p = msgs[n];

		p += sprintf(p, "{\"k\":\"x");
		for (i = 0; i < n; i++)
			*p++ = '\\';
		*p++ = '"';
		if (n % 2 == 1)
			p += sprintf(p, "}{\"");
		sprintf(p, ",\"z\":\"\\\\\"}");
		add_str(&s, msgs[n]);
		add_str(&s, n % 3 == 0 ? "\n" : "");
	}
	/* the brief's literal case: "\\\\" (two escaped backslashes) */
	add_str(&s, "{\"a\":\"\\\\\\\\\"}");
	drive_all_ways(s.data, s.len, BIG_LIMIT, &o);
	assert_int_equal(o.n, 14);
	for (n = 0; n < 13; n++)
		expect_bare(&o, n, msgs[n]);
	expect_bare(&o, 13, "{\"a\":\"\\\\\\\\\"}");
	outcome_free(&o);
	buf_free(&s, 0);
}

/* A string that is nothing but backslashes, cut at every possible point. */
static void
test_backslash_string_every_cut(void **state)
{
	static const char m[] = "{\"a\":\"\\\\\\\\\\\\\\\\\\\\\\\"}\"}";
	struct outcome whole, cut;
	size_t len = strlen(m), i, j;

	(void)state;
	drive((const uint8_t *)m, len, NULL, 0, BIG_LIMIT, &whole);
	assert_int_equal(whole.n, 1);
	expect_bare(&whole, 0, m);
	for (i = 1; i < len; i++) {
		for (j = i; j < len; j++) {
			size_t cuts[2] = { i, j };

			drive((const uint8_t *)m, len, cuts, i == j ? 1 : 2,
			    BIG_LIMIT, &cut);
			assert_same(&whole, &cut);
			outcome_free(&cut);
		}
	}
	outcome_free(&whole);
}

/* Zero length is a complete (empty) message; the daemon answers it. */
static void
test_zero_length(void **state)
{
	struct buf s = BUF_INIT;
	struct outcome o;

	(void)state;
	add_len(&s, "", 0);
	add_len(&s, "[1]", 3);
	add_len(&s, "", 0);
	drive_all_ways(s.data, s.len, BIG_LIMIT, &o);
	assert_int_equal(o.n, 3);
	expect_msg(&o, 0, FRAME_LENGTH, "", 0);
	expect_msg(&o, 1, FRAME_LENGTH, "[1]", 3);
	expect_msg(&o, 2, FRAME_LENGTH, "", 0);
	assert_int_equal(o.left, 0);
	outcome_free(&o);
	buf_free(&s, 0);
}

/* Exactly the maximum passes; one more is refused on the prefix alone. */
static void
test_length_limit(void **state)
{
	char body[64];
	struct buf s = BUF_INIT;
	struct outcome o;

	(void)state;
	memset(body, 'x', sizeof(body));
	add_len(&s, body, 32);
	drive_all_ways(s.data, s.len, 32, &o);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.last, FRAME_NEED_MORE);
	outcome_free(&o);

	/* over the max: refused with just the prefix, no body needed */
	s.len = 0;
	add_len(&s, "{}", 2);
	assert_int_equal(buf_append_u32be(&s, 33, BIG_LIMIT), 0);
	drive_all_ways(s.data, s.len, 32, &o);
	assert_int_equal(o.n, 1);
	expect_msg(&o, 0, FRAME_LENGTH, "{}", 2);
	assert_int_equal(o.last, FRAME_TOO_LARGE);
	outcome_free(&o);

	/* the largest prefix there is */
	s.len = 0;
	assert_int_equal(buf_append_u32be(&s, 0xffffffffu, BIG_LIMIT), 0);
	drive_all_ways(s.data, s.len, 64 << 20, &o);
	assert_int_equal(o.n, 0);
	assert_int_equal(o.last, FRAME_TOO_LARGE);
	outcome_free(&o);
	buf_free(&s, 0);
}

/*
 * A length prefix must not read as whitespace or '{' (F16): every length
 * up to FRAME_LENGTH_MAX begins with 0x00..0x08, the next with a tab, and
 * no caller's limit lets a longer prefix through.
 */
static void
test_length_max_is_unambiguous(void **state)
{
	static const uint8_t repro[] = "\x20\x00\x00\x00\x0f{\"type\":\"ping\"}";
	struct buf s = BUF_INIT;
	struct outcome o;
	unsigned first;

	(void)state;
	for (first = 0; first <= (FRAME_LENGTH_MAX >> 24); first++)
		assert_true(!frame_is_space((uint8_t)first) && first != '{');
	assert_true(frame_is_space((uint8_t)((FRAME_LENGTH_MAX + 1) >> 24)));

	/* The largest length is a length, even with no limit asked for. */
	assert_int_equal(buf_append_u32be(&s, (uint32_t)FRAME_LENGTH_MAX,
	    BIG_LIMIT), 0);
	add_str(&s, "{\"type\":");
	drive_all_ways(s.data, s.len, SIZE_MAX, &o);
	assert_int_equal(o.n, 0);
	assert_int_equal(o.last, FRAME_NEED_MORE);
	assert_int_equal(o.left, s.len);
	outcome_free(&o);

	/* One more (or 0x0b..., not whitespace) is refused on the prefix. */
	s.len = 0;
	assert_int_equal(buf_append_u32be(&s, (uint32_t)FRAME_LENGTH_MAX + 1 +
	    0x02000000, BIG_LIMIT), 0);
	drive_all_ways(s.data, s.len, SIZE_MAX, &o);
	assert_int_equal(o.n, 0);
	assert_int_equal(o.last, FRAME_TOO_LARGE);
	outcome_free(&o);
	s.len = 0;
	assert_int_equal(buf_append_u32be(&s, 0x7fffffffu, BIG_LIMIT), 0);
	drive_all_ways(s.data, s.len, SIZE_MAX, &o);
	assert_int_equal(o.last, FRAME_TOO_LARGE);
	outcome_free(&o);

	/*
	 * The bytes: by the spec a space, then a 15-byte message.
	 * No sender may mean 20 00 00 00 as a prefix any more.
	 */
	drive_all_ways(repro, sizeof(repro) - 1, FRAME_LENGTH_MAX, &o);
	assert_int_equal(o.n, 1);
	expect_msg(&o, 0, FRAME_LENGTH, "{\"type\":\"ping\"}", 15);
	outcome_free(&o);
	buf_free(&s, 0);
}

/* A bare object is refused as soon as its buffered bytes pass the max. */
static void
test_bare_limit(void **state)
{
	static const char fits[] = "{\"a\":\"0123456789\"}";	/* 18 bytes */
	char big[200];
	struct outcome o;
	struct frame_scanner sc;
	struct frame f;

	(void)state;
	/* exactly the max */
	drive_all_ways((const uint8_t *)fits, strlen(fits), strlen(fits), &o);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.last, FRAME_NEED_MORE);
	outcome_free(&o);
	/* one byte over, complete */
	drive_all_ways((const uint8_t *)fits, strlen(fits), strlen(fits) - 1,
	    &o);
	assert_int_equal(o.n, 0);
	assert_int_equal(o.last, FRAME_TOO_LARGE);
	outcome_free(&o);
	/* never closes: refused once more than max bytes are buffered */
	memset(big, 'y', sizeof(big));
	memcpy(big, "{\"a\":\"", 6);
	drive_all_ways((const uint8_t *)big, sizeof(big), 64, &o);
	assert_int_equal(o.n, 0);
	assert_int_equal(o.last, FRAME_TOO_LARGE);
	outcome_free(&o);
	/* ...and not before: 64 bytes of an unfinished object need more */
	frame_reset(&sc);
	assert_int_equal(frame_scan(&sc, (const uint8_t *)big, 64, 64, &f),
	    FRAME_NEED_MORE);
	assert_int_equal(frame_scan(&sc, (const uint8_t *)big, 65, 64, &f),
	    FRAME_TOO_LARGE);
	/* leading whitespace does not count toward the max */
	frame_reset(&sc);
	assert_int_equal(frame_scan(&sc, (const uint8_t *)"    {}", 6, 2, &f),
	    FRAME_READY);
	assert_int_equal(f.skip, 4);
	assert_int_equal(f.len, 2);
	assert_int_equal(f.end, 6);
}

/* Many messages of both framings in one buffer, handled in one call run. */
static void
test_back_to_back(void **state)
{
	struct buf s = BUF_INIT;
	struct outcome o;
	size_t i;
	char m[32];

	(void)state;
	for (i = 0; i < 20; i++) {
		snprintf(m, sizeof(m), "{\"i\":%zu}", i);
		if (i % 2 == 0)
			add_str(&s, m);
		else
			add_len(&s, m, strlen(m));
	}
	drive_all_ways(s.data, s.len, BIG_LIMIT, &o);
	assert_int_equal(o.n, 20);
	for (i = 0; i < 20; i++) {
		snprintf(m, sizeof(m), "{\"i\":%zu}", i);
		expect_msg(&o, i, i % 2 == 0 ? FRAME_BARE : FRAME_LENGTH, m,
		    strlen(m));
	}
	assert_int_equal(o.left, 0);
	outcome_free(&o);
	buf_free(&s, 0);
}

/* An incomplete last message stays buffered, and whole messages do not. */
static void
test_partial_tail(void **state)
{
	struct buf s = BUF_INIT;
	struct outcome o;

	(void)state;
	add_str(&s, "{\"a\":1}  {\"b\":\"}");
	drive_all_ways(s.data, s.len, BIG_LIMIT, &o);
	assert_int_equal(o.n, 1);
	expect_bare(&o, 0, "{\"a\":1}");
	assert_int_equal(o.left, strlen("{\"b\":\"}"));
	outcome_free(&o);
	s.len = 0;
	add_len(&s, "{\"abc\":1}", 9);
	s.len -= 3;
	drive_all_ways(s.data, s.len, BIG_LIMIT, &o);
	assert_int_equal(o.n, 0);
	assert_int_equal(o.left, 4 + 6);
	outcome_free(&o);
	buf_free(&s, 0);
}

/* A big string is scanned in linear time even when it trickles in. */
static void
test_big_string_trickle(void **state)
{
	size_t n = 200000, i;
	uint8_t *m = malloc(n);
	struct outcome whole, pieces;
	size_t cuts[2000];

	(void)state;
	assert_non_null(m);
	memcpy(m, "{\"hex\":\"", 8);
	for (i = 8; i < n - 2; i++)
		m[i] = (uint8_t)"0123456789abcdef\\\\"[i % 18];
	/* make the run before the closing quote even */
	m[n - 4] = 'a';
	m[n - 3] = 'b';
	m[n - 2] = '"';
	m[n - 1] = '}';
	drive(m, n, NULL, 0, BIG_LIMIT, &whole);
	assert_int_equal(whole.n, 1);
	assert_int_equal(whole.msg[0].len, n);
	for (i = 0; i < 2000; i++)
		cuts[i] = (i + 1) * (n / 2001);
	drive(m, n, cuts, 2000, BIG_LIMIT, &pieces);
	assert_same(&whole, &pieces);
	outcome_free(&whole);
	outcome_free(&pieces);
	free(m);
}

static void
test_is_space(void **state)
{
	int c, spaces = 0;

	(void)state;
	for (c = 0; c < 256; c++)
		spaces += frame_is_space((uint8_t)c) ? 1 : 0;
	assert_int_equal(spaces, 4);
	assert_true(frame_is_space(' '));
	assert_true(frame_is_space('\t'));
	assert_true(frame_is_space('\r'));
	assert_true(frame_is_space('\n'));
	assert_false(frame_is_space('\v'));
	assert_false(frame_is_space('\f'));
	assert_false(frame_is_space(0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_single),
		cmocka_unit_test(test_length_single),
		cmocka_unit_test(test_whitespace_between),
		cmocka_unit_test(test_whitespace_only),
		cmocka_unit_test(test_braces_in_strings),
		cmocka_unit_test(test_backslash_runs),
		cmocka_unit_test(test_backslash_string_every_cut),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_length_max_is_unambiguous),
		cmocka_unit_test(test_bare_limit),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_partial_tail),
		cmocka_unit_test(test_big_string_trickle),
		cmocka_unit_test(test_is_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
