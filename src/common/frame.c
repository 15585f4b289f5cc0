/*
 * frame.c - the incremental message scanner (see frame.h).
 */
#include "common/frame.h"

#include <string.h>

#include "common/buf.h"

int
frame_is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void
frame_reset(struct frame_scanner *sc)
{
	memset(sc, 0, sizeof(*sc));
}

/* How many '\' end the range [from, to) of p, scanning backwards. */
static size_t
trailing_backslashes(const uint8_t *p, size_t from, size_t to)
{
	size_t n = 0;

	while (to > from && p[to - 1] == '\\') {
		to--;
		n++;
	}
	return n;
}

/*
 * Inside a string, jump to the next quote with memchr: a 32 MiB hex string
 * is crossed at memory speed instead of one branch per byte. A quote ends
 * the string unless an odd run of backslashes precedes it; the run may
 * have started in an earlier call, so its length is carried over.
 */
static void
skip_string(struct frame_scanner *sc, const uint8_t *msg, size_t len)
{
	size_t from = sc->scanned, run;
	const uint8_t *q = memchr(msg + from, '"', len - from);

	if (q == NULL) {
		run = trailing_backslashes(msg, from, len);
		sc->backslashes = run == len - from ? sc->backslashes + run : run;
		sc->scanned = len;
		return;
	}
	run = trailing_backslashes(msg, from, (size_t)(q - msg));
	if (run == (size_t)(q - msg) - from)
		run += sc->backslashes;
	sc->scanned = (size_t)(q - msg) + 1;
	sc->backslashes = 0;
	if (run % 2 == 0)
		sc->in_string = 0;
}

/* Returns 1 when the object closed, with sc->scanned just past its '}'. */
static int
scan_bare(struct frame_scanner *sc, const uint8_t *msg, size_t len)
{
	while (sc->scanned < len) {
		if (sc->in_string) {
			skip_string(sc, msg, len);
			continue;
		}
		switch (msg[sc->scanned++]) {
		case '"':
			sc->in_string = 1;
			sc->backslashes = 0;
			break;
		case '{':
			sc->depth++;
			break;
		case '}':
			if (--sc->depth == 0)
				return 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

enum frame_result
frame_scan(struct frame_scanner *sc, const uint8_t *data, size_t len,
    size_t max_message, struct frame *out)
{
	const uint8_t *msg;
	size_t skip = 0, avail;

	memset(out, 0, sizeof(*out));
	if (sc->kind == FRAME_NONE) {
		while (skip < len && frame_is_space(data[skip]))
			skip++;
		out->skip = skip;
		if (skip == len)
			return FRAME_NEED_MORE;
		sc->kind = data[skip] == '{' ? FRAME_BARE : FRAME_LENGTH;
	}
	msg = data + skip;
	avail = len - skip;
	out->kind = sc->kind;

	if (sc->kind == FRAME_LENGTH) {
		uint32_t n;

		if (avail < FRAME_LENGTH_PREFIX)
			return FRAME_NEED_MORE;
		n = load_u32be(msg);
		if (n > max_message || n > FRAME_LENGTH_MAX)
			return FRAME_TOO_LARGE;
		if (avail - FRAME_LENGTH_PREFIX < n)
			return FRAME_NEED_MORE;
		out->offset = FRAME_LENGTH_PREFIX;
		out->len = n;
		out->end = skip + FRAME_LENGTH_PREFIX + n;
		return FRAME_READY;
	}

	if (!scan_bare(sc, msg, avail)) {
		if (sc->scanned > max_message)
			return FRAME_TOO_LARGE;
		return FRAME_NEED_MORE;
	}
	if (sc->scanned > max_message)
		return FRAME_TOO_LARGE;
	out->offset = 0;
	out->len = sc->scanned;
	out->end = skip + sc->scanned;
	return FRAME_READY;
}
