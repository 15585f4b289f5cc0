/*
 * request.c - a request's life: parsed out of the connection's input,
 * looked up in the table of types (handlers/table.c), executed by its
 * handler, finished (see request.h).
 */
#include "enclave/request.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/guard.h"
#include "common/json_parse.h"
#include "enclave/handlers/handlers.h"

size_t
request_reply_limit(const struct options *opt)
{
	/* A response may be as large as the largest request, plus framing. */
	return opt->max_message + 256;
}

/* Name the unknown type back, bounded and printable; "..." if cut short. */
static void
reply_unknown_type(struct reply *reply, const char *type, int cut)
{
	char shown[40];
	size_t i;

	for (i = 0; i + 1 < sizeof(shown) && type[i] != '\0'; i++)
		shown[i] = type[i] >= 0x20 && type[i] < 0x7f ? type[i] : '?';
	shown[i] = '\0';
	reply_error(reply, WIRE_UNKNOWN_TYPE, "unknown request type \"%s%s\"",
	    shown, type[i] != '\0' || cut ? "..." : "");
}

int
request_blocks(const struct request *req)
{
	return req->type->blocks;
}

/*
 * The message's own bytes may hold secrets (configure's AWS credentials);
 * so may one that did not parse, whatever it claimed to be.
 */
static int
message_is_secret(const struct request *req)
{
	return req == NULL || req->type->message_is_secret;
}

/* Frees the request, wiping whatever plaintext or credentials it held. */
static void
request_free(struct request *req)
{
	if (req == NULL)
		return;
	/* A request refused for its type has no handler to clean up. */
	if (req->type != NULL && req->type->handler->cleanup != NULL)
		req->type->handler->cleanup(req);
	/* The wiping allocator cleanses every string in the tree; the
	 * handlers' cleanup has wiped what plaintext the message held. */
	cJSON_Delete(req->root);
	buf_free(&req->message, 0);
	free(req);
}

/*
 * The request decoded its ciphertext where it lay: it keeps the message's
 * block (the first `end` bytes of `in`), and what follows the message
 * moves to a fresh block for `in`, wiped where it was.
 */
static int
adopt_message(struct request *req, struct buf *in, size_t end)
{
	struct buf rest = BUF_INIT;
	size_t n = in->len - end;

	GUARD(buf_append(&rest, in->data + end, n, n));
	OPENSSL_cleanse(in->data + end, in->len - end);
	buf_truncate(in, end);
	buf_move(&req->message, in);
	buf_move(in, &rest);
	return 0;
}

/*
 * Check everything that depends only on the message (JSON, I-JSON names,
 * its type, then the handler's fields) before any state is consulted.
 */
static struct request *
parse_message(struct enclave_ctx *ctx, uint8_t *msg, size_t len,
    struct reply *reply)
{
	struct bulk_field bulk = { NULL, 0 };
	struct buf rest = BUF_INIT;
	struct request *req;
	const uint8_t *text = msg;
	const char *type;
	struct json_verdict verdict = { JSON_FAULT_SYNTAX, 0, "" };
	char why[96];
	cJSON *root;

	/*
	 * `rest` is a copy of the whole message but the ciphertext, so it is
	 * wiped when freed: it may be a configure's (F10).
	 */
	switch (bulk_field_cut(msg, len, "ciphertext", &bulk, &rest)) {
	case 1:
		text = rest.data;
		len = rest.len;
		break;
	case -1:
		reply_error(reply, WIRE_INTERNAL_ERROR, "out of memory");
		return NULL;
	default:
		break;
	}
	root = len > 0 ? json_parse_strict(text, len, 0, &verdict) : NULL;
	if (root == NULL || !cJSON_IsObject(root)) {
		buf_free(&rest, 1);
		cJSON_Delete(root);
		json_verdict_explain(&verdict, why, sizeof(why));
		if (len == 0)
			reply_error(reply, WIRE_INVALID_JSON, "empty message");
		else if (verdict.fault == JSON_FAULT_NUL_NAME ||
		    verdict.fault == JSON_FAULT_DUPLICATE)
			reply_error(reply, WIRE_INVALID_JSON, "%s (I-JSON, RFC 7493)",
			    why);
		else
			reply_error(reply, WIRE_INVALID_JSON,
			    "the message is not a JSON object");
		return NULL;
	}
	if ((type = json_string_field(root, "type")) == NULL ||
	    (req = calloc(1, sizeof(*req))) == NULL) {
		buf_free(&rest, 1);
		cJSON_Delete(root);
		if (type == NULL)
			reply_error(reply, WIRE_INVALID_JSON,
			    "the request has no string field \"type\"");
		else
			reply_error(reply, WIRE_INTERNAL_ERROR, "out of memory");
		return NULL;
	}
	req->root = root;
	req->msg = text;
	req->msg_len = len;
	req->bulk = bulk;
	req->msg_has_nul = verdict.has_nul;
	/* "ping\u0000x" is not "ping", whatever C strings say; "" is no type. */
	if (request_string_field(req, "type", &type) != FIELD_OK)
		type = "";
	if ((req->type = request_type_named(type)) == NULL) {
		reply_unknown_type(reply, type, req->msg_has_nul);
		goto fail;
	}
	reply->request = req->type->name;
	if (req->type->handler->parse(ctx, req, reply) < 0)
		goto fail;
	req->msg = NULL;
	buf_free(&rest, 1);
	return req;
fail:
	buf_free(&rest, 1);
	request_free(req);
	return NULL;
}

struct request *
request_parse(struct enclave_ctx *ctx, struct buf *in, size_t offset,
    size_t len, struct reply *reply)
{
	size_t end = offset + len;
	struct request *req;

	req = parse_message(ctx, in->data + offset, len, reply);
	if (req != NULL && req->holds_message) {
		if (adopt_message(req, in, end) == 0)
			return req;
		request_free(req);
		req = NULL;
		reply_error(reply, WIRE_INTERNAL_ERROR, "out of memory");
	}
	/* The parsed tree holds its own (wiped) copies from here on. */
	if (message_is_secret(req) && len > 0)
		OPENSSL_cleanse(in->data + offset, len);
	buf_consume(in, end);
	return req;
}

void
request_execute(struct enclave_ctx *ctx, struct request *req,
    struct reply *reply)
{
	req->type->handler->execute(ctx, req, reply);
}

/*
 * A kept message block becomes the input buffer again, so the next big
 * request reuses its pages: what the input holds is copied over, and wiped
 * where it was (buf_rehome). A block too small for it is freed with the
 * request.
 */
void
request_finish(struct request *req, struct buf *in)
{
	if (req == NULL)
		return;
	if (in != NULL && req->message.data != NULL)
		(void)buf_rehome(in, &req->message);
	request_free(req);
}
