/*
 * process.c - decrypt, run the step, encrypt: the enclave's reason to be.
 * The ciphertext opens under "key_id" (default: the key configured
 * last) and the result is sealed under "result_key_id" (default: the
 * same key). A result goes out under another key than the input's only
 * with a "grant" made by the holders of both keys (common/grant.h),
 * checked before anything is decrypted: the host can configure keys it
 * knows, so a key id alone must never choose who reads a result, nor
 * whose key seals data the host chose.
 *
 * The ciphertext's hex is decoded in place inside the parsed request, the
 * plaintext is decrypted in place behind the nonce, and an unchanged
 * plaintext is sealed in place again; the result is hex-encoded straight
 * into the response. A 16 MiB request so needs its wire bytes, one
 * decoded copy and the response, and no more.
 */
#include "enclave/handlers/handlers.h"

#include <string.h>

#include <openssl/crypto.h>

#include "common/aead.h"
#include "common/direction.h"
#include "common/grant.h"
#include "common/guard.h"
#include "common/hex.h"
#include "enclave/keystore.h"

static const char result_head[] = "{\"status\":\"ok\",\"result\":\"";
static const char result_tail[] = "\"}";

/* Where the ciphertext's hex is: cut out of the message, or in cJSON. */
static int
ciphertext_hex(struct request *req, struct reply *reply, const char **hex,
    size_t *n)
{
	if (req->bulk.data != NULL) {
		/* Cut out before cJSON (bulk_field.h): decode it where it lies. */
		*hex = (const char *)req->bulk.data;
		*n = req->bulk.len;
		req->holds_message = 1;
		return 0;
	}
	switch (request_string_field(req, "ciphertext", hex)) {
	case FIELD_MISSING:
		reply_error(reply, WIRE_MISSING_FIELDS, "missing fields: ciphertext");
		return -1;
	case FIELD_HAS_NUL:
		reply_error(reply, WIRE_INVALID_HEX,
		    "ciphertext has a non-hex character");
		return -1;
	case FIELD_WRONG_TYPE:
		reply_error(reply, WIRE_INVALID_FIELD,
		    "ciphertext must be a hex string");
		return -1;
	case FIELD_OK:
		break;
	}
	*n = strlen(*hex);
	return 0;
}

/* The optional "grant": absent or null, or exactly GRANT_HEX_LEN hex. */
static int
grant_field(struct request *req, struct process_request *p,
    struct reply *reply)
{
	const cJSON *item = request_member(req, "grant");
	const char *hex;
	size_t n;

	if (item == NULL || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsString(item) ||
	    request_string_field(req, "grant", &hex) == FIELD_HAS_NUL) {
		reply_error(reply, WIRE_INVALID_FIELD,
		    "grant must be a hex string");
		return -1;
	}
	hex = item->valuestring;
	if ((n = strlen(hex)) != GRANT_HEX_LEN) {
		reply_error(reply, WIRE_INVALID_FIELD, "grant must be %d hex "
		    "characters (%d bytes), not %zu", GRANT_HEX_LEN, GRANT_LEN, n);
		return -1;
	}
	if (hex_decode(p->grant, hex, n) < 0) {
		reply_error(reply, WIRE_INVALID_FIELD,
		    "grant has a non-hex character");
		return -1;
	}
	p->has_grant = 1;
	return 0;
}

static int
process_parse(struct enclave_ctx *ctx, struct request *req,
    struct reply *reply)
{
	struct process_request *p = &req->u.process;
	const cJSON *aad;
	const char *hex;
	size_t n;

	(void)ctx;
	GUARD(ciphertext_hex(req, reply, &hex, &n));
	GUARD(request_key_id_field(req, "key_id", &p->key_id, reply));
	GUARD(request_key_id_field(req, "result_key_id", &p->result_key_id,
	    reply));
	GUARD(grant_field(req, p, reply));
	aad = request_member(req, "aad");
	if (aad != NULL && !cJSON_IsNull(aad) && !cJSON_IsString(aad)) {
		reply_error(reply, WIRE_INVALID_FIELD, "aad must be a string");
		return -1;
	}
	if (cJSON_IsString(aad)) {
		const char *text;

		p->aad = (const uint8_t *)aad->valuestring;
		p->aad_len = strlen(aad->valuestring);
		/* aad is the string's UTF-8 bytes, NULs included. */
		if (request_string_field(req, "aad", &text) == FIELD_HAS_NUL) {
			if (request_string_exact(req, "aad", &p->aad_exact) < 0) {
				reply_error(reply, WIRE_INVALID_FIELD,
				    "aad is not a valid string");
				return -1;
			}
			p->aad = p->aad_exact.data;
			p->aad_len = p->aad_exact.len;
		}
	}
	/* cJSON's string or the message's bytes: either is ours to overwrite. */
	p->data = (uint8_t *)(uintptr_t)hex;
	if (hex_decode(p->data, hex, n) < 0) {
		reply_error(reply, WIRE_INVALID_HEX, n % 2 ? "ciphertext has an odd "
		    "number of hex digits" : "ciphertext has a non-hex character");
		return -1;
	}
	p->len = n / 2;
	if (p->len < AEAD_OVERHEAD) {
		reply_error(reply, WIRE_INVALID_CIPHERTEXT, "ciphertext is %zu bytes; "
		    "nonce and tag alone are %d", p->len, AEAD_OVERHEAD);
		return -1;
	}
	return 0;
}

/* Write {"status":"ok","result":"<hex of sealed>"} into the reply. */
static int
reply_result(struct reply *reply, const uint8_t *sealed, size_t n)
{
	size_t hex_len, room;
	uint8_t *hex;

	GUARD(size_mul(n, 2, &hex_len));
	/* Room for the closing quote and brace too: the block grows once. */
	GUARD(size_add(hex_len, sizeof(result_tail), &room));
	GUARD(buf_append_str(&reply->body, result_head, reply->limit));
	GUARD_PTR(hex = buf_tail(&reply->body, room, reply->limit));
	hex_encode((char *)hex, sealed, n);
	GUARD(buf_commit(&reply->body, hex_len));
	return buf_append_str(&reply->body, result_tail, reply->limit);
}

/*
 * Whether the result may be sealed under `result_key`: always under the
 * input's own key (the same bytes, whatever the id), under another only
 * with a grant its two holders made (common/grant.h). A grant given is
 * always checked, so a caller's mistake shows.
 */
static int
authorize_result_key(const struct process_request *p, struct tsk *key,
    struct tsk *result_key, struct reply *reply)
{
	struct reason why = { .text = "" };
	struct grant_key in = { tsk_bytes(key), tsk_commitment(key) };
	struct grant_key out = { tsk_bytes(result_key),
	    tsk_commitment(result_key) };

	if (!p->has_grant) {
		if (CRYPTO_memcmp(in.commitment, out.commitment,
		    GRANT_COMMITMENT_LEN) == 0)
			return 0;
		reply_error(reply, WIRE_GRANT_REQUIRED, "key \"%s\" may seal the "
		    "result of data under key \"%s\" only with a grant that the "
		    "holders of both keys made (enclavectl grant)",
		    tsk_id(result_key), tsk_id(key));
		return -1;
	}
	if (grant_check(in, out, time(NULL), p->grant, &why) == GRANT_VALID)
		return 0;
	reply_error(reply, WIRE_GRANT_INVALID, "%s", why.text);
	return -1;
}

/*
 * Random 96-bit nonces stay safe for 2^32 messages per key (NIST SP
 * 800-38D 8.3); past --max-encryptions the key seals nothing more.
 */
static int
reserve_encryption(struct enclave_ctx *ctx, struct tsk *key,
    struct reply *reply)
{
	if (tsk_reserve_encryption(key, ctx->opt->max_encryptions) == 0)
		return 0;
	reply_error(reply, WIRE_KEY_EXHAUSTED, "key \"%s\" has sealed its limit "
	    "of %llu messages; configure a new TSK", tsk_id(key),
	    ctx->opt->max_encryptions);
	return -1;
}

/*
 * The associated data for one direction: the request's aad as it is, or
 * with --bind-direction its label in front (common/direction.h), built in
 * `bound`. -1 when out of memory.
 */
static int
direction_aad(const struct enclave_ctx *ctx, const struct process_request *p,
    enum direction d, struct buf *bound, struct slice *aad)
{
	if (!ctx->opt->bind_direction) {
		*aad = (struct slice){ p->aad, p->aad_len };
		return 0;
	}
	GUARD(direction_bind_aad(bound, d, p->aad, p->aad_len));
	*aad = (struct slice){ bound->data, bound->len };
	return 0;
}

/* Seal the step's output and answer; returns -1 only when out of memory. */
static int
seal_and_reply(struct tsk *key, struct process_request *p, struct slice aad,
    enum step_result r, struct buf *out, struct reply *reply)
{
	struct buf sealed = BUF_INIT;
	size_t sealed_len = out->len + AEAD_OVERHEAD;
	uint8_t *dst;
	int rc;

	if (r == STEP_SAME) {
		/* Plaintext sits at data + 12: seal it where it lies. */
		GUARD(aead_seal(tsk_bytes(key), aad.data, aad.len,
		    p->data + AEAD_NONCE_LEN, p->len - AEAD_OVERHEAD, p->data));
		return reply_result(reply, p->data, p->len);
	}
	/* out->len is at most the step's max_output: no overflow here. */
	GUARD_PTR(dst = buf_tail(&sealed, sealed_len, sealed_len));
	rc = aead_seal(tsk_bytes(key), aad.data, aad.len, out->data, out->len,
	    dst);
	if (rc == 0)
		rc = buf_commit(&sealed, sealed_len);
	if (rc == 0)
		rc = reply_result(reply, sealed.data, sealed.len);
	buf_free(&sealed, 0);
	return rc;
}

static void
process_execute(struct enclave_ctx *ctx, struct request *req,
    struct reply *reply)
{
	struct process_request *p = &req->u.process;
	size_t pt_len = p->len - AEAD_OVERHEAD;
	struct step_context sc = {
		.agent_id = ctx->opt->agent_id,
		.now = time(NULL),
		.max_output = (reply->limit - 64) / 2 - AEAD_OVERHEAD,
	};
	struct reason reason = { .text = "" };
	struct buf out = BUF_INIT, bound = BUF_INIT;
	struct slice aad;
	enum step_result r;
	enum keystore_status st;
	int sealed_in_place = 0;
	struct tsk *key, *result_key = NULL;

	/* Both keys are held for the whole request: a configure or forget
	 * meanwhile changes what later requests get, never this one. */
	if ((key = keystore_acquire(ctx->keys, p->key_id, &st)) == NULL) {
		reply_key_error(reply, st, p->key_id);
		goto done;
	}
	if (p->result_key_id == NULL) {
		result_key = key;
	} else if ((result_key = keystore_acquire(ctx->keys, p->result_key_id,
	    &st)) == NULL) {
		reply_key_error(reply, st, p->result_key_id);
		goto done;
	}
	/* Before a byte is decrypted: the input's owner decides who reads. */
	if (authorize_result_key(p, key, result_key, reply) < 0)
		goto done;
	if (direction_aad(ctx, p, DIRECTION_REQUEST, &bound, &aad) < 0) {
		reply_error(reply, WIRE_INTERNAL_ERROR, "out of memory");
		goto done;
	}
	if (aead_open(tsk_bytes(key), aad.data, aad.len,
	    p->data, p->len, p->data + AEAD_NONCE_LEN) < 0) {
		reply_error(reply, WIRE_DECRYPT_FAILED, "authentication failed: "
		    "wrong key, tampered ciphertext or wrong aad");
		goto done;
	}
	r = ctx->step->run(&sc, (struct slice){ p->data + AEAD_NONCE_LEN,
	    pt_len }, &out, &reason);
	if (r == STEP_FAILED) {
		reply_error(reply, WIRE_STEP_FAILED, "step %s: %s", ctx->step->name,
		    reason.text);
		goto done;
	}
	if (reserve_encryption(ctx, result_key, reply) < 0)
		goto done;
	if (direction_aad(ctx, p, DIRECTION_RESULT, &bound, &aad) < 0 ||
	    seal_and_reply(result_key, p, aad, r, &out, reply) < 0)
		reply_error(reply, WIRE_INTERNAL_ERROR,
		    "out of memory or encryption failure");
	else
		sealed_in_place = r == STEP_SAME;
done:
	/* Plaintext left in the request (unless sealed where it lay) or in
	 * the step's output. */
	if (!sealed_in_place)
		OPENSSL_cleanse(p->data, p->len);
	buf_free(&out, 1);
	/* Two references when result_key_id was named, even to the same key. */
	if (p->result_key_id != NULL)
		keystore_release(result_key);
	buf_free(&bound, 0);
	keystore_release(key);
}

static void
process_cleanup(struct request *req)
{
	buf_free(&req->u.process.aad_exact, 1);
}

const struct handler handler_process = {
	.parse = process_parse,
	.execute = process_execute,
	.cleanup = process_cleanup,
};
