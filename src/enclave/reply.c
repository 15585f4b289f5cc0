/*
 * reply.c - building and framing responses (see reply.h).
 */
#include "enclave/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/guard.h"
#include "common/json_text.h"

/*
 * Every error response fits in this much; used when memory is short
 * (WIRE_INTERNAL_ERROR, written out: building it could fail again).
 */
static const char oom_reply[] =
    "{\"status\":\"error\",\"msg\":\"internal_error\","
    "\"details\":\"out of memory\"}";
#define OOM_REPLY_SIZE (REPLY_HEADROOM + sizeof(oom_reply) - 1)

void
reply_init(struct reply *r, size_t limit)
{
	static const uint8_t zero[REPLY_HEADROOM];

	memset(r, 0, sizeof(*r));
	r->limit = limit;
	r->outcome = "ok";
	r->request = "request";
	buf_append(&r->body, zero, sizeof(zero), limit);
}

void
reply_init_reusing(struct reply *r, size_t limit, struct buf *spare)
{
	struct buf keep = BUF_INIT;

	buf_move(&keep, spare);
	buf_truncate(&keep, 0);
	reply_init(r, limit);
	if (keep.cap > limit || buf_rehome(&r->body, &keep) < 0)
		buf_free(&keep, 0);
}

void
reply_free(struct reply *r)
{
	buf_free(&r->body, 0);
}

void
reply_move(struct reply *dst, struct reply *src)
{
	buf_free(&dst->body, 0);
	buf_move(&dst->body, &src->body);
	dst->outcome = src->outcome;
	dst->request = src->request;
	dst->limit = src->limit;
}

static int
reply_error_body(struct reply *r, const char *code, const char *details)
{
	static const uint8_t zero[REPLY_HEADROOM];

	buf_truncate(&r->body, 0);
	GUARD(buf_append(&r->body, zero, sizeof(zero), r->limit));
	GUARD(buf_append_str(&r->body, "{\"status\":\"error\",\"msg\":", r->limit));
	GUARD(json_append_cstring(&r->body, code, r->limit));
	GUARD(buf_append_str(&r->body, ",\"details\":", r->limit));
	GUARD(json_append_cstring(&r->body, details, r->limit));
	return buf_append_str(&r->body, "}", r->limit);
}

void
reply_error(struct reply *r, enum wire_error code, const char *fmt, ...)
{
	char details[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(details, sizeof(details), fmt, ap);
	va_end(ap);
	r->outcome = wire_error_code(code);
	if (reply_error_body(r, r->outcome, details) == 0)
		return;
	/* Out of memory: the fixed reply needs one small allocation at most. */
	r->outcome = wire_error_code(WIRE_INTERNAL_ERROR);
	buf_truncate(&r->body, 0);
	if (buf_append(&r->body, "\0\0\0\0", REPLY_HEADROOM,
	    OOM_REPLY_SIZE) < 0 ||
	    buf_append_str(&r->body, oom_reply, OOM_REPLY_SIZE) < 0)
		buf_truncate(&r->body, 0);
}

void
reply_error_reason(struct reply *r, enum wire_error code,
    const struct reason *why)
{
	reply_error(r, code, "%s", why->text);
}

int
reply_json(struct reply *r, const cJSON *obj)
{
	char *text = cJSON_PrintUnformatted(obj);
	int rc;

	GUARD_PTR(text);
	rc = buf_append_str(&r->body, text, r->limit);
	cJSON_free(text);
	return rc;
}

struct slice
reply_frame(struct reply *r, enum frame_kind kind)
{
	struct slice s = { NULL, 0 };
	size_t json_len;

	if (r->body.len < REPLY_HEADROOM)
		return s;
	json_len = r->body.len - REPLY_HEADROOM;
	if (kind == FRAME_LENGTH) {
		store_u32be(r->body.data, (uint32_t)json_len);
		s.data = r->body.data;
		s.len = r->body.len;
		return s;
	}
	/* Bare JSON is answered with JSON and a newline, framing past the
	 * body's limit. */
	if (buf_append(&r->body, "\n", 1, r->limit + 1) < 0)
		return s;
	s.data = r->body.data + REPLY_HEADROOM;
	s.len = r->body.len - REPLY_HEADROOM;
	return s;
}
