/*
 * reply.h - a response being built.
 *
 * The body is JSON text. REPLY_HEADROOM bytes are kept free in front of it
 * so the connection can prepend the 4-byte length prefix without copying a
 * response that may be 32 MiB long.
 */
#ifndef ENCLAVE_REPLY_H
#define ENCLAVE_REPLY_H

#include <stddef.h>

#include <cJSON.h>

#include "common/buf.h"
#include "common/frame.h"
#include "common/reason.h"
#include "common/wire_error.h"

#define REPLY_HEADROOM 4

struct reply {
	struct buf  body;	/* headroom, then JSON */
	const char *outcome;	/* "ok" or the error code, for the log */
	const char *request;	/* the request's type once known, for the log */
	size_t      limit;	/* the largest body we agree to build */
};

void reply_init(struct reply *r, size_t limit);
/* The same, building into `spare`'s memory (taken over): no fresh pages. */
void reply_init_reusing(struct reply *r, size_t limit, struct buf *spare);
void reply_free(struct reply *r);
/* Hand the reply, body and all, to `dst`; `src` is left holding nothing. */
void reply_move(struct reply *dst, struct reply *src);
/* Replace whatever was built with an error response: `code`, and details. */
void reply_error(struct reply *r, enum wire_error code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same, when a lower layer (KMS, the NSM) said why: its reason. */
void reply_error_reason(struct reply *r, enum wire_error code,
    const struct reason *why);
/* Append cJSON's text of `obj` as the body (a small response). */
int  reply_json(struct reply *r, const cJSON *obj);
/* Frame the body for the wire; returns where to start sending. */
struct slice reply_frame(struct reply *r, enum frame_kind kind);

#endif
