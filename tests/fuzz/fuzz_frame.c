/*
 * fuzz_frame.c - the incremental frame scanner (src/common/frame.c).
 *
 * Input: byte 0 picks the message limit, byte 1 how the stream is cut;
 * the rest is a connection's byte stream. The stream is scanned three
 * ways: whole, in random splits (as the daemon sees a trickle, following
 * frame.h's calling contract), and by a naive reference scanner written
 * from the spec. All three must give the same messages, in the same
 * order, and the same final outcome (TOO_LARGE or waiting for more).
 * Limits include "none" (SIZE_MAX): a length prefix past FRAME_LENGTH_MAX
 * is refused whatever the limit, and a length-framed message never
 * begins with a byte that reads as whitespace or '{' (F16).
 */
#include "fuzz_common.h"

#include "common/buf.h"
#include "common/frame.h"

#define MAX_MSGS 4096

struct outcome {
	size_t nmsgs;
	size_t start[MAX_MSGS];	/* offset of each message in the stream */
	size_t len[MAX_MSGS];
	enum frame_kind kind[MAX_MSGS];
	int    too_large;	/* the stream ended with FRAME_TOO_LARGE */
};

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
record(struct outcome *o, size_t start, size_t len, enum frame_kind kind)
{
	FUZZ_CHECK(o->nmsgs < MAX_MSGS);
	o->start[o->nmsgs] = start;
	o->len[o->nmsgs] = len;
	o->kind[o->nmsgs] = kind;
	o->nmsgs++;
}

/*
 * Drive frame_scan the way connection.c does: a buffer of unconsumed
 * bytes, grown by chunks; `consumed` is the stream offset of its front.
 */
static void
scan_chunks(const uint8_t *s, size_t n, size_t max, uint64_t *rng, int split,
    struct outcome *o)
{
	struct frame_scanner sc;
	size_t fed = 0, consumed = 0;

	memset(o, 0, sizeof(*o));
	frame_reset(&sc);
	while (fed < n) {
		size_t chunk = n - fed;

		if (split) {
			uint64_t r = fuzz_rand(rng);

			/* Mostly tiny chunks (1..4 bytes), sometimes big ones. */
			chunk = (r & 3) ? 1 + (r >> 8) % 4 : 1 + (r >> 8) % (n - fed);
			if (chunk > n - fed)
				chunk = n - fed;
		}
		fed += chunk;
		for (;;) {
			const uint8_t *buf = s + consumed;
			size_t avail = fed - consumed;
			struct frame f;
			enum frame_result r = frame_scan(&sc, buf, avail, max, &f);

			FUZZ_CHECK(f.skip <= avail);
			for (size_t i = 0; i < f.skip; i++)
				FUZZ_CHECK(is_space(buf[i]));
			if (r == FRAME_TOO_LARGE) {
				o->too_large = 1;
				return;
			}
			if (r == FRAME_NEED_MORE) {
				consumed += f.skip;
				break;
			}
			FUZZ_CHECK(r == FRAME_READY);
			FUZZ_CHECK(f.len <= max);
			FUZZ_CHECK(f.end <= avail);
			FUZZ_CHECK(f.skip + f.offset + f.len == f.end);
			FUZZ_CHECK(f.end > f.skip);	/* progress */
			if (f.kind == FRAME_BARE) {
				FUZZ_CHECK(f.offset == 0 && f.len >= 2);
				FUZZ_CHECK(buf[f.skip] == '{');
				FUZZ_CHECK(buf[f.end - 1] == '}');
			} else {
				FUZZ_CHECK(f.kind == FRAME_LENGTH);
				FUZZ_CHECK(f.offset == FRAME_LENGTH_PREFIX);
				FUZZ_CHECK(load_u32be(buf + f.skip) == f.len);
				FUZZ_CHECK(f.len <= FRAME_LENGTH_MAX);
				FUZZ_CHECK(!is_space(buf[f.skip]) &&
				    buf[f.skip] != '{');
			}
			record(o, consumed + f.skip + f.offset, f.len, f.kind);
			consumed += f.end;
			frame_reset(&sc);
		}
	}
}

/*
 * The spec's framing, scanned naively from the start of each message; no
 * length past 0x08ffffff, whose prefix could begin with whitespace.
 */
static void
scan_reference(const uint8_t *s, size_t n, size_t max, struct outcome *o)
{
	size_t p = 0;

	memset(o, 0, sizeof(*o));
	for (;;) {
		while (p < n && is_space(s[p]))
			p++;
		if (p == n)
			return;
		if (s[p] != '{') {
			uint32_t len;

			if (n - p < 4)
				return;
			len = (uint32_t)s[p] << 24 | (uint32_t)s[p + 1] << 16 |
			    (uint32_t)s[p + 2] << 8 | s[p + 3];
			if (len > max || len > 0x08ffffffu) {
				o->too_large = 1;
				return;
			}
			if (n - p - 4 < len)
				return;
			record(o, p + 4, len, FRAME_LENGTH);
			p += 4 + (size_t)len;
			continue;
		}
		{
			size_t q = p, depth = 0;
			int in_str = 0, esc = 0, closed = 0;

			for (; q < n; q++) {
				uint8_t c = s[q];

				if (in_str) {
					if (esc)
						esc = 0;
					else if (c == '\\')
						esc = 1;
					else if (c == '"')
						in_str = 0;
				} else if (c == '"') {
					in_str = 1;
				} else if (c == '{') {
					depth++;
				} else if (c == '}' && --depth == 0) {
					closed = 1;
					q++;
					break;
				}
			}
			if (q - p > max) {
				o->too_large = 1;
				return;
			}
			if (!closed)
				return;
			record(o, p, q - p, FRAME_BARE);
			p = q;
		}
	}
}

static void
same(const struct outcome *a, const struct outcome *b)
{
	FUZZ_CHECK(a->too_large == b->too_large);
	FUZZ_CHECK(a->nmsgs == b->nmsgs);
	for (size_t i = 0; i < a->nmsgs; i++) {
		FUZZ_CHECK(a->start[i] == b->start[i]);
		FUZZ_CHECK(a->len[i] == b->len[i]);
		FUZZ_CHECK(a->kind[i] == b->kind[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct outcome whole, split, ref;
	static const size_t limits[] = { 0, 1, 2, 16, 64, 256, 4096, 65536,
	    FRAME_LENGTH_MAX, SIZE_MAX };
	uint64_t rng;
	uint8_t *s;
	size_t max;

	if (size < 2)
		return 0;
	/* Byte 0: the limit (a table entry, or a small odd one). */
	max = data[0] < 0x80 ? limits[data[0] % 10] :
	    (size_t)(data[0] & 0x3f) + 2;
	rng = fuzz_seed(data, 2) ^ data[1];
	data += 2;
	size -= 2;
	s = fuzz_dup(data, size);

	scan_chunks(s, size, max, &rng, 0, &whole);
	scan_chunks(s, size, max, &rng, 1, &split);
	scan_reference(s, size, max, &ref);
	same(&whole, &ref);
	same(&split, &ref);
	free(s);
	return 0;
}
