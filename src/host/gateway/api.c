/*
 * api.c - POST /v1/process, GET /healthz, GET /metrics (see api.h and
 * errors.h for the statuses).
 *
 * The body's ciphertext is handed to the pool as it is (the enclave judges
 * hex and length, so callers hear the protocol's own codes); only the
 * body's shape is checked here, with the daemon's own strictness: I-JSON
 * (no duplicate member names, none holding U+0000) and strings forwarded
 * whole or not at all.
 */
#include "host/gateway/api.h"

#include <stdio.h>
#include <string.h>

#include "common/guard.h"
#include "common/json_parse.h"
#include "common/json_scan.h"
#include "common/json_text.h"
#include "common/key_id.h"
#include "enclaveclient/client.h"
#include "host/gateway/errors.h"
#include "host/gateway/metrics.h"
#include "host/gateway/pool.h"

#define REPLY_MAX ((size_t)1 << 31)

static const char json_type[] = "application/json";

void
api_reply_init(struct api_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 500;
	r->content_type = json_type;
	r->enclave = -1;
}

void
api_reply_free(struct api_reply *r)
{
	buf_free(&r->body, 0);
}

void
api_error(struct api_reply *r, int status, const char *code,
    const char *details)
{
	buf_truncate(&r->body, 0);
	r->status = status;
	r->content_type = json_type;
	snprintf(r->error, sizeof(r->error), "%s", code);
	if (gateway_status_retryable(status))
		r->retry_after = 1;
	if (buf_append_str(&r->body, "{\"error\":", REPLY_MAX) < 0 ||
	    json_append_cstring(&r->body, code, REPLY_MAX) < 0 ||
	    buf_append_str(&r->body, ",\"details\":", REPLY_MAX) < 0 ||
	    json_append_cstring(&r->body, details, REPLY_MAX) < 0 ||
	    buf_append_str(&r->body, "}\n", REPLY_MAX) < 0) {
		buf_truncate(&r->body, 0);
		r->status = 500;
	}
}

void
api_wire_error(struct api_reply *r, enum wire_error code, const char *details)
{
	api_error(r, wire_error_http_status(code), wire_error_code(code),
	    details);
}

/* The gateway's own failure: 500, not the 502 of an enclave's. */
static void
out_of_memory(struct api_reply *r)
{
	api_error(r, 500, wire_error_code(WIRE_INTERNAL_ERROR),
	    "out of memory");
}

static void
pool_failure(struct api_reply *r, enum pool_status st,
    const struct pool_outcome *o)
{
	switch (st) {
	case POOL_REMOTE:
		api_error(r, gateway_status_for_code(o->code), o->code,
		    o->details);
		return;
	case POOL_UNAVAILABLE:
		api_error(r, 503, "unavailable", "no enclave is available");
		return;
	case POOL_OVERLOADED:
		api_error(r, 503, "overloaded", "every enclave connection is "
		    "busy and the queue is full");
		return;
	case POOL_TIMEOUT:
		api_error(r, 504, "timeout", "the request did not finish in "
		    "time");
		return;
	case POOL_FAILED:
		api_error(r, 502, "enclave_failed", "the enclave connection "
		    "broke on every attempt");
		return;
	case POOL_SHUTDOWN:
		api_error(r, 503, "shutting_down", "the gateway is stopping");
		return;
	default:
		out_of_memory(r);
		return;
	}
}

/*
 * A string member's bytes must reach the enclave as they came. cJSON's C
 * string stops at U+0000 ("abc\u0000x" would go on as "abc"), and the
 * client library carries C strings, so such a string is refused here:
 * ciphertext as the daemon would (a NUL is no hex digit), aad because it
 * cannot be forwarded whole. -1 with the reply written.
 */
static int
refuse_nul(const char *body, size_t len, const char *name,
    const cJSON *item, struct api_reply *r)
{
	struct buf exact = BUF_INIT;
	int rc, nul;

	if (!cJSON_IsString(item))
		return 0;
	rc = json_string_exact(body, len, name, &exact);
	nul = exact.len > 0 && memchr(exact.data, '\0', exact.len) != NULL;
	buf_free(&exact, 1);
	if (rc < 0) {
		out_of_memory(r);
		return -1;
	}
	if (!nul)
		return 0;
	if (strcmp(name, "ciphertext") == 0)
		api_wire_error(r, WIRE_INVALID_HEX, "ciphertext has a non-hex "
		    "character");
	else
		api_wire_error(r, WIRE_INVALID_FIELD, "aad holds U+0000, which "
		    "the gateway cannot forward");
	return -1;
}

/* cJSON cuts "a\u0000b" to "a": the member's own bytes say if it was. */
static int
member_has_nul(const char *body, size_t len, const char *name)
{
	struct buf exact = BUF_INIT;
	int nul;

	if (json_string_exact(body, len, name, &exact) < 0) {
		buf_free(&exact, 0);
		return 1;
	}
	nul = exact.len > 0 && memchr(exact.data, '\0', exact.len) != NULL;
	buf_free(&exact, 0);
	return nul;
}

/*
 * An optional key id member: absent or null is NULL; anything but a key
 * id (common/key_id.h) is answered here, before any enclave is asked.
 * has_nul: the body escapes U+0000 somewhere (json_parse_strict's verdict).
 */
static int
key_id_member(const cJSON *root, const char *body, size_t len, int has_nul,
    const char *name, const char **out, struct api_reply *r)
{
	const cJSON *v = json_member(root, name);
	char why[96];

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) ||
	    !key_id_valid(v->valuestring, strlen(v->valuestring)) ||
	    (has_nul && member_has_nul(body, len, name))) {
		snprintf(why, sizeof(why), "%s must be 1 to %d characters from "
		    "A-Z a-z 0-9 . _ -", name, KEY_ID_MAX);
		api_wire_error(r, WIRE_INVALID_FIELD, why);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

/*
 * The optional "grant": a string goes to the enclave as it is, which
 * alone judges it (common/grant.h); one cJSON would cut at U+0000 is
 * refused, since the gateway forwards strings whole or not at all.
 */
static int
grant_member(const cJSON *root, const char *body, size_t len, int has_nul,
    const char **out, struct api_reply *r)
{
	const cJSON *v = json_member(root, "grant");

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0' ||
	    (has_nul && member_has_nul(body, len, "grant"))) {
		api_wire_error(r, WIRE_INVALID_FIELD, "grant must be a hex "
		    "string (enclavectl grant)");
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

void
api_process(struct gateway_ctx *g, const char *body, size_t len,
    struct api_reply *r)
{
	struct json_verdict verdict;
	struct pool_outcome o;
	enum pool_status st;
	struct enclave_process_options req = { 0 };
	const cJSON *ct, *aad;
	char why[96];
	cJSON *root;

	if ((root = json_parse_strict(body, len, 0, &verdict)) == NULL ||
	    !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		json_verdict_explain(&verdict, why, sizeof(why));
		api_wire_error(r, WIRE_INVALID_JSON, verdict.fault ==
		    JSON_FAULT_NUL_NAME || verdict.fault == JSON_FAULT_DUPLICATE ?
		    why : "the body is not a JSON object");
		return;
	}
	ct = json_member(root, "ciphertext");
	aad = json_member(root, "aad");
	if (ct == NULL || cJSON_IsNull(ct)) {
		api_wire_error(r, WIRE_MISSING_FIELDS, "ciphertext");
		goto done;
	}
	if (!cJSON_IsString(ct)) {
		api_wire_error(r, WIRE_INVALID_FIELD,
		    "ciphertext must be a string");
		goto done;
	}
	if (aad != NULL && !cJSON_IsNull(aad) && !cJSON_IsString(aad)) {
		api_wire_error(r, WIRE_INVALID_FIELD, "aad must be a string");
		goto done;
	}
	if (verdict.has_nul && (refuse_nul(body, len, "ciphertext", ct, r) < 0 ||
	    refuse_nul(body, len, "aad", aad, r) < 0))
		goto done;
	if (ct->valuestring[0] == '\0') {
		api_wire_error(r, WIRE_MISSING_FIELDS, "ciphertext");
		goto done;
	}
	if (key_id_member(root, body, len, verdict.has_nul, "key_id",
	    &req.key_id, r) < 0 || key_id_member(root, body, len,
	    verdict.has_nul, "result_key_id", &req.result_key_id, r) < 0 ||
	    grant_member(root, body, len, verdict.has_nul, &req.grant, r) < 0)
		goto done;
	req.aad = cJSON_IsString(aad) ? aad->valuestring : NULL;
	st = pool_process(g->pool, ct->valuestring, strlen(ct->valuestring),
	    &req, &o);
	r->enclave = o.enclave;
	if (o.key_id[0] != '\0')
		metrics_key_request(g->metrics, o.key_id, st == POOL_OK);
	if (st != POOL_OK) {
		pool_failure(r, st, &o);
		goto done;
	}
	r->status = 200;
	if (buf_reserve(&r->body, o.result_len + 16, REPLY_MAX) < 0 ||
	    buf_append_str(&r->body, "{\"result\":\"", REPLY_MAX) < 0 ||
	    buf_append(&r->body, o.result, o.result_len, REPLY_MAX) < 0 ||
	    buf_append_str(&r->body, "\"}\n", REPLY_MAX) < 0)
		out_of_memory(r);
	enclave_free(o.result);
done:
	cJSON_Delete(root);
}

/*
 * ,"failing_keys":[{"key_id":ID,"error":CODE,"failures":N}...] for the
 * keys enclave i refused: a held id and a wire code, nothing the enclave
 * or KMS said (no credential, no blob can reach a caller: F35).
 */
static int
failing_keys(struct gateway_ctx *g, size_t i, struct buf *out)
{
	struct pool_key_trouble t[GATEWAY_MAX_KEYS];
	size_t n, k;

	n = pool_key_troubles(g->pool, i, t, GATEWAY_MAX_KEYS);
	if (n == 0)
		return 0;
	GUARD(buf_append_str(out, ",\"failing_keys\":[", REPLY_MAX));
	for (k = 0; k < n; k++) {
		GUARD(buf_append_str(out, k ? ",{\"key_id\":" : "{\"key_id\":",
		    REPLY_MAX));
		GUARD(json_append_cstring(out, t[k].key_id, REPLY_MAX));
		GUARD(buf_append_str(out, ",\"error\":", REPLY_MAX));
		GUARD(json_append_cstring(out, t[k].code, REPLY_MAX));
		GUARD(buf_printf(out, REPLY_MAX, ",\"failures\":%llu}",
		    (unsigned long long)t[k].failures));
	}
	return buf_append_str(out, "]", REPLY_MAX);
}

void
api_attestation(struct gateway_ctx *g, const char *nonce,
    const char *user_data, const char *query_error, struct api_reply *r)
{
	struct pool_outcome o;
	enum pool_status st;

	if (query_error != NULL) {
		api_wire_error(r, WIRE_INVALID_FIELD, query_error);
		return;
	}
	if (nonce == NULL || nonce[0] == '\0') {
		api_wire_error(r, WIRE_MISSING_FIELDS, "nonce (hex, in the query)");
		return;
	}
	/* The enclave checks the hex and the sizes: one rule, its own. */
	st = pool_attest(g->pool, nonce, user_data, &o);
	r->enclave = o.enclave;
	if (st != POOL_OK) {
		pool_failure(r, st, &o);
		return;
	}
	r->status = 200;
	if (buf_append_str(&r->body, "{\"document\":\"", REPLY_MAX) < 0 ||
	    buf_append(&r->body, o.result, o.result_len, REPLY_MAX) < 0 ||
	    buf_append_str(&r->body, "\"}\n", REPLY_MAX) < 0)
		out_of_memory(r);
	enclave_free(o.result);
}

void
api_healthz(struct gateway_ctx *g, struct api_reply *r)
{
	static const char *const names[] = { "down", "unconfigured", "up" };
	struct metrics_enclave enc[GATEWAY_MAX_ENCLAVES];
	size_t n, i;
	int up = 0;

	n = pool_snapshot(g->pool, enc, GATEWAY_MAX_ENCLAVES, NULL);
	for (i = 0; i < n; i++)
		up += enc[i].state == ENCLAVE_UP;
	r->status = up > 0 && !atomic_load(&g->draining) ? 200 : 503;
	if (r->status == 503) {
		r->retry_after = 1;
		snprintf(r->error, sizeof(r->error), "unavailable");
	}
	if (buf_append_str(&r->body, r->status == 200 ?
	    "{\"status\":\"ok\",\"enclaves\":[" :
	    "{\"status\":\"unavailable\",\"enclaves\":[", REPLY_MAX) < 0)
		goto nomem;
	for (i = 0; i < n; i++)
		if (buf_append_str(&r->body, i ? ",{\"endpoint\":" :
		    "{\"endpoint\":", REPLY_MAX) < 0 ||
		    json_append_cstring(&r->body, enc[i].endpoint,
		    REPLY_MAX) < 0 ||
		    buf_append_str(&r->body, ",\"state\":\"", REPLY_MAX) < 0 ||
		    buf_append_str(&r->body, names[enc[i].state],
		    REPLY_MAX) < 0 ||
		    buf_append_str(&r->body, "\"", REPLY_MAX) < 0 ||
		    failing_keys(g, i, &r->body) < 0 ||
		    buf_append_str(&r->body, "}", REPLY_MAX) < 0)
			goto nomem;
	if (buf_append_str(&r->body, "]}\n", REPLY_MAX) == 0)
		return;
nomem:
	out_of_memory(r);
}

void
api_metrics(struct gateway_ctx *g, struct api_reply *r)
{
	struct metrics_enclave enc[GATEWAY_MAX_ENCLAVES];
	struct metrics_queue q;
	size_t n;

	n = pool_snapshot(g->pool, enc, GATEWAY_MAX_ENCLAVES, &q);
	if (metrics_format(g->metrics, enc, n, &q, &r->body) < 0) {
		out_of_memory(r);
		return;
	}
	r->status = 200;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
