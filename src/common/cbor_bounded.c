/*
 * cbor_bounded.c - CBOR decoding that allocates only what the input
 * justifies (see cbor_bounded.h). The NSM's responses (nsm_cbor.c) and the
 * attestation verifier (verify/) both decode through it.
 */
#include "common/cbor_bounded.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/guard.h"

/* What the last cbor_stream_decode step saw. */
enum scan_event { EV_LEAF, EV_CONTAINER, EV_INDEF, EV_BREAK, EV_TAG };

struct scan_ctx {
	enum scan_event ev;
	size_t          count;	/* items a definite container holds */
	int             overflow;
};

static void
scan_array(void *ctx, size_t n)
{
	struct scan_ctx *c = ctx;

	c->ev = EV_CONTAINER;
	c->count = n;
}

/* A map of n pairs holds 2n items; a count that overflows is refused. */
static void
scan_map(void *ctx, size_t n)
{
	struct scan_ctx *c = ctx;

	c->ev = EV_CONTAINER;
	if (size_mul(n, 2, &c->count) < 0)
		c->overflow = 1;
}

static void
scan_indef(void *ctx)
{
	((struct scan_ctx *)ctx)->ev = EV_INDEF;
}

static void
scan_break(void *ctx)
{
	((struct scan_ctx *)ctx)->ev = EV_BREAK;
}

static void
scan_tag(void *ctx, uint64_t tag)
{
	(void)tag;
	((struct scan_ctx *)ctx)->ev = EV_TAG;
}

/*
 * Walk the item head by head with libcbor's streaming decoder (which
 * allocates nothing) and refuse any container that declares more items
 * than bytes remain (each item takes at least one), nesting deeper than
 * max_depth, a stray break, truncation and trailing bytes. Only then may
 * cbor_load allocate on the declared sizes.
 */
static int
cbor_scan(const uint8_t *data, size_t len, size_t max_depth,
    struct reason *reason)
{
	struct cbor_callbacks cb = cbor_empty_callbacks;
	size_t left[ATT_CBOR_DEPTH_MAX + 1];	/* SIZE_MAX: indefinite */
	size_t depth = 0, pos = 0;
	struct scan_ctx ctx;

	if (max_depth > ATT_CBOR_DEPTH_MAX)
		max_depth = ATT_CBOR_DEPTH_MAX;
	cb.array_start = scan_array;
	cb.map_start = scan_map;
	cb.indef_array_start = scan_indef;
	cb.indef_map_start = scan_indef;
	cb.byte_string_start = scan_indef;
	cb.string_start = scan_indef;
	cb.indef_break = scan_break;
	cb.tag = scan_tag;

	for (;;) {
		struct cbor_decoder_result r;
		int item_done = 0;

		if (pos >= len)
			return reason_fail(reason, "CBOR: truncated input");
		memset(&ctx, 0, sizeof(ctx));
		ctx.ev = EV_LEAF;
		r = cbor_stream_decode(data + pos, len - pos, &cb, &ctx);
		if (r.status == CBOR_DECODER_NEDATA)
			return reason_fail(reason, "CBOR: truncated input");
		if (r.status != CBOR_DECODER_FINISHED || r.read == 0 ||
		    r.read > len - pos)
			return reason_fail(reason, "CBOR: malformed input");
		pos += r.read;
		switch (ctx.ev) {
		case EV_LEAF:
			item_done = 1;
			break;
		case EV_TAG:
			break;	/* the tagged item follows */
		case EV_CONTAINER:
			if (ctx.overflow || ctx.count > len - pos)
				return reason_fail(reason,
				    "CBOR: container larger than its input");
			if (ctx.count == 0) {
				item_done = 1;
				break;
			}
			/* FALLTHROUGH */
		case EV_INDEF:
			if (depth >= max_depth)
				return reason_fail(reason,
				    "CBOR: nested too deeply");
			left[depth++] = ctx.ev == EV_INDEF ? SIZE_MAX :
			    ctx.count;
			break;
		case EV_BREAK:
			if (depth == 0 || left[depth - 1] != SIZE_MAX)
				return reason_fail(reason,
				    "CBOR: unexpected break");
			depth--;
			item_done = 1;
			break;
		}
		/* A finished item may finish its parents in turn. */
		while (item_done) {
			if (depth == 0) {
				if (pos != len)
					return reason_fail(reason,
					    "CBOR: trailing bytes");
				return 0;
			}
			if (left[depth - 1] == SIZE_MAX)
				break;
			if (--left[depth - 1] > 0)
				break;
			depth--;
		}
	}
}

cbor_item_t *
cbor_load_bounded(const uint8_t *data, size_t len, size_t max_depth,
    struct reason *reason)
{
	struct cbor_load_result res;
	cbor_item_t *item;

	if (data == NULL || len == 0) {
		reason_fail(reason, "CBOR: empty input");
		return NULL;
	}
	if (len > ATT_DOC_MAX) {
		reason_fail(reason, "CBOR: input larger than %d bytes",
		    ATT_DOC_MAX);
		return NULL;
	}
	if (cbor_scan(data, len, max_depth, reason) < 0)
		return NULL;
	memset(&res, 0, sizeof(res));
	item = cbor_load(data, len, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE ||
	    res.read != len) {
		if (item != NULL)
			cbor_decref(&item);
		reason_fail(reason, "CBOR: malformed input");
		return NULL;
	}
	if (cbor_maps_unique(item, 0, reason) < 0) {
		cbor_decref(&item);
		return NULL;
	}
	return item;
}
