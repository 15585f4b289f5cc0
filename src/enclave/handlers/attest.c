/*
 * attest.c - {"type":"attest","nonce":hex,"user_data":hex?} ->
 * {"status":"ok","document":base64}: a fresh attestation document from the
 * NSM binding the client's nonce, so a host or an auditor can check which
 * image is running (enclavectl attest --verify).
 *
 * The NSM is opened once at startup (main.c, into the daemon's context),
 * before the sandbox forbids open(2); the sandbox then allows only the
 * NSM's one ioctl (or, for the test simulator, a Unix-socket connect). Where there is no NSM
 * every attest request is answered `attestation_unavailable` with the
 * reason: nothing here ever makes a document up.
 */
#include "enclave/handlers/handlers.h"

#include <stdio.h>
#include <string.h>

#include "common/base64.h"
#include "common/guard.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/nsm_cbor.h"
#include "enclave/nsm/nsm.h"

/* The NSM's own limit is 120 s; a simulator that hangs gets less. */
#define ATTEST_TIMEOUT_MS 30000

/* An optional or required hex field of at most ATTEST_FIELD_MAX bytes. */
static int
hex_field(struct request *req, struct reply *reply, const char *name,
    int required, uint8_t *dst, size_t *len, int *present)
{
	const char *hex;
	size_t n;

	*present = 0;
	switch (request_string_field(req, name, &hex)) {
	case FIELD_HAS_NUL:
		reply_error(reply, WIRE_INVALID_HEX, "%s has a non-hex character",
		    name);
		return -1;
	case FIELD_WRONG_TYPE:
		reply_error(reply, WIRE_INVALID_FIELD, "%s must be a hex string",
		    name);
		return -1;
	case FIELD_MISSING:
		if (required) {
			reply_error(reply, WIRE_MISSING_FIELDS,
			    "missing fields: %s", name);
			return -1;
		}
		return 0;
	case FIELD_OK:
		break;
	}
	n = strlen(hex);
	if (n % 2 != 0) {
		reply_error(reply, WIRE_INVALID_HEX,
		    "%s has an odd number of hex digits", name);
		return -1;
	}
	if (n / 2 > ATTEST_FIELD_MAX) {
		reply_error(reply, WIRE_INVALID_FIELD, "%s is %zu bytes; at most "
		    "%d", name, n / 2, ATTEST_FIELD_MAX);
		return -1;
	}
	if (hex_decode(dst, hex, n) < 0) {
		reply_error(reply, WIRE_INVALID_HEX,
		    "%s has a non-hex character", name);
		return -1;
	}
	*len = n / 2;
	*present = 1;
	return 0;
}

static int
attest_parse(struct enclave_ctx *ctx, struct request *req,
    struct reply *reply)
{
	struct attest_request *a = &req->u.attest;
	int present;

	(void)ctx;
	/*
	 * KMS encrypts a Recipient's plaintext to the public key inside the
	 * attestation document: a document carrying a caller's key would
	 * hand that caller every TSK. The enclave's own KMS calls put their
	 * fresh key in themselves; no request may name one.
	 */
	if (request_member(req, "public_key") != NULL) {
		reply_error(reply, WIRE_INVALID_FIELD, "public_key: no caller may "
		    "choose the document's public key (KMS would encrypt to it)");
		return -1;
	}
	GUARD(hex_field(req, reply, "nonce", 1, a->nonce, &a->nonce_len,
	    &present));
	GUARD(hex_field(req, reply, "user_data", 0, a->user_data,
	    &a->user_data_len, &a->has_user_data));
	return 0;
}

/* {"status":"ok","document":"<base64>"} */
static int
reply_document(struct reply *reply, const struct buf *doc)
{
	static const char tail[] = "\"}";
	size_t n = base64_encoded_len(doc->len);
	uint8_t *b64;

	GUARD(buf_append_str(&reply->body,
	    "{\"status\":\"ok\",\"document\":\"", reply->limit));
	/* Encoded in place; its NUL lands where the closing quote goes. */
	GUARD_PTR(b64 = buf_tail(&reply->body, n + sizeof(tail), reply->limit));
	base64_encode((char *)b64, doc->data, doc->len);
	GUARD(buf_commit(&reply->body, n));
	return buf_append_str(&reply->body, tail, reply->limit);
}

static void
attest_execute(struct enclave_ctx *ctx, struct request *req,
    struct reply *reply)
{
	struct attest_request *a = &req->u.attest;
	struct slice nonce = { a->nonce, a->nonce_len };
	struct slice user_data = { a->user_data, a->user_data_len };
	struct buf doc = BUF_INIT;
	struct reason reason;

	if (ctx->nsm == NULL) {
		reply_error_reason(reply, WIRE_ATTESTATION_UNAVAILABLE,
		    &ctx->nsm_unavailable);
		return;
	}
	if (nsm_get_attestation(ctx->nsm, a->has_user_data ? &user_data :
	    NULL, &nonce, NULL, ATTEST_TIMEOUT_MS, &doc, &reason) < 0) {
		log_warn("attest: %s", reason.text);
		reply_error_reason(reply, WIRE_ATTESTATION_UNAVAILABLE,
		    &reason);
		buf_free(&doc, 0);
		return;
	}
	if (base64_encoded_len(doc.len) + 64 > reply->limit)
		reply_error(reply, WIRE_INTERNAL_ERROR, "the %zu-byte document "
		    "does not fit in a response under --max-message", doc.len);
	else if (reply_document(reply, &doc) < 0)
		reply_error(reply, WIRE_INTERNAL_ERROR, "out of memory");
	buf_free(&doc, 0);
}

const struct handler handler_attest = {
	.parse = attest_parse,
	.execute = attest_execute,
};
