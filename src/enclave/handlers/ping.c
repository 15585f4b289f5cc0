/*
 * ping.c - {"type":"ping"} -> {"status":"ok","msg":"pong"}
 */
#include "enclave/handlers/handlers.h"

#include "common/buf.h"

static int
ping_parse(struct enclave_ctx *ctx, struct request *req, struct reply *reply)
{
	(void)ctx;
	(void)req;
	(void)reply;
	return 0;
}

static void
ping_execute(struct enclave_ctx *ctx, struct request *req, struct reply *reply)
{
	(void)ctx;
	(void)req;
	if (buf_append_str(&reply->body, "{\"status\":\"ok\",\"msg\":\"pong\"}",
	    reply->limit) < 0)
		reply_error(reply, WIRE_INTERNAL_ERROR, "out of memory");
}

const struct handler handler_ping = {
	.parse = ping_parse,
	.execute = ping_execute,
};
