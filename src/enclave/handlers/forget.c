/*
 * forget.c - {"type":"forget","key_id":ID}: the key is gone for every
 * request that starts from now on. Requests already holding it finish
 * with it, and its bytes are wiped when the last of them lets go
 * (keystore.h). Its encryption count is kept: configuring the same key
 * again continues it.
 */
#include "enclave/handlers/handlers.h"

#include "common/buf.h"
#include "common/guard.h"

static int
forget_parse(struct enclave_ctx *ctx, struct request *req, struct reply *reply)
{
	struct forget_request *f = &req->u.forget;

	(void)ctx;
	GUARD(request_key_id_field(req, "key_id", &f->key_id, reply));
	if (f->key_id == NULL) {
		reply_error(reply, WIRE_MISSING_FIELDS, "missing fields: key_id");
		return -1;
	}
	return 0;
}

static void
forget_execute(struct enclave_ctx *ctx, struct request *req,
    struct reply *reply)
{
	enum keystore_status st = keystore_forget(ctx->keys,
	    req->u.forget.key_id);

	if (st != KEYSTORE_OK) {
		reply_key_error(reply, st, req->u.forget.key_id);
		return;
	}
	if (buf_append_str(&reply->body,
	    "{\"status\":\"ok\",\"msg\":\"forgotten\"}", reply->limit) < 0)
		reply_error(reply, WIRE_INTERNAL_ERROR, "out of memory");
}

const struct handler handler_forget = {
	.parse = forget_parse,
	.execute = forget_execute,
};
