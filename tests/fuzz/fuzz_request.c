/*
 * fuzz_request.c - the request decoder and dispatcher
 * (request_parse + request_execute + request_finish, src/enclave/request.c
 * and handlers/).
 *
 * The enclave context is the daemon's, but its KMS backend is a function
 * in this file that hands out a fixed 32-byte key (or, chosen by the first
 * character of encrypted_tsk, a failure, a timeout or a 16-byte key), so
 * configure runs whole; the keystore is emptied and the same key installed
 * as "default" (keystore_install()) before every input, so process can
 * decrypt and no input inherits another's key ids or counts. Inputs may
 * name keys (key_id, result_key_id), forget them and pass an
 * encryption_context and a kms_key_id; the backend (kmstool or native)
 * and the KMS key pins (none, one or two) are chosen per input, and the
 * fake KMS checks what reaches it: credentials in their alphabets, no
 * context for the kmstool backend, a named key from the pins. Every key
 * configure can install is that one key.
 * A second, different key is held as "other": a result may go out under
 * it only with a grant made with both keys (common/grant.h), which no
 * input can forge, so every ok result must still open under the fixed key.
 *
 * Each input is used twice:
 *  1. as one protocol message: every reply must be a JSON object with a
 *     string `status` (errors: the spec's one shape), configure's secrets
 *     never appear in it, and an `ok` process result must open under the
 *     key and aad (and, with the echo step, give back the plaintext);
 *  2. as the plaintext (and aad) of a process request this harness seals
 *     itself: it must be answered `ok` (or step_failed / key_exhausted for
 *     the reasons the spec gives) and the result must open; by the
 *     plaintext's length, a third of them ask for "other" with a grant
 *     this harness makes (the result opens under "other" only) and a
 *     third without one (grant_required, nothing sealed); with
 *     --bind-direction (half the inputs) sealed under "request\0" + aad,
 *     the result opening under "result\0" + aad and not as a request;
 *  3. when it is a JSON object, behind a long sealed "ciphertext" member
 *     (the fast path that cuts the ciphertext out before cJSON,
 *     bulk_field.h): the cut must not hide anything from the parser, so
 *     a text with a duplicate or U+0000 member name anywhere, or with a
 *     "ciphertext" of its own, is invalid_json; otherwise it is answered
 *     as its type says (ping: pong; process: the sealed text opens).
 * In phase 1, a message that is JSON but not I-JSON (a duplicate or
 * U+0000 member name) is always invalid_json.
 */
#include "fuzz_common.h"

#include <cJSON.h>

#include "common/aead.h"
#include "common/buf.h"
#include "common/direction.h"
#include "common/frame.h"
#include "common/grant.h"
#include "common/hex.h"
#include "common/json_parse.h"
#include "common/json_scan.h"
#include "common/json_text.h"
#include "common/kms_key_ref.h"
#include "common/log.h"
#include "common/secret.h"
#include "enclave/context.h"
#include "enclave/keystore.h"
#include "enclave/options.h"
#include "enclave/reply.h"
#include "enclave/request.h"

#define MAX_MESSAGE (1u << 20)

static const uint8_t fixed_key[AEAD_KEY_LEN] = {
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
	0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
};

/* The second key held, as "other": only a grant lets results reach it. */
static const uint8_t other_key[AEAD_KEY_LEN] = {
	0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
	0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};

static struct options opt;
static struct enclave_ctx ctx;
static int kms_calls;

/* The pins some inputs run with, and the seeds name (F27). */
#define FUZZ_PIN_ARN "arn:aws:kms:ap-southeast-1:111122223333:key/" \
    "1234abcd-12ab-34cd-56ef-1234567890ab"
#define FUZZ_PIN_ID  "mrk-1234abcd12ab34cd56ef1234567890ab"

/* The fake KMS: the first character of the ciphertext picks the outcome. */
static void
fake_decrypt(const struct kms_backend *kms, const struct kms_decrypt_request *req,
    struct kms_result *res)
{
	(void)kms;
	memset(res, 0, sizeof(*res));
	kms_calls++;
	FUZZ_CHECK(req->ciphertext_b64 != NULL && req->region != NULL);
	FUZZ_CHECK(req->creds->access_key_id.data != NULL);
	FUZZ_CHECK(req->creds->secret_access_key.data != NULL);
	FUZZ_CHECK(req->creds->session_token.data != NULL);
	/* Credentials reach KMS only in the alphabets AWS issues (F32). */
	FUZZ_CHECK(kms_credentials_check(
	    (const char *)req->creds->access_key_id.data,
	    (const char *)req->creds->secret_access_key.data,
	    (const char *)req->creds->session_token.data, NULL) == 0);
	/* The KMS tool cannot send a context: it never gets one (F39). */
	FUZZ_CHECK(strcmp(opt.kms_backend, "native") == 0 ||
	    req->context.n == 0);
	/* A named key is a key ARN or id, and with pins one of them (F27). */
	FUZZ_CHECK(req->key_id == NULL ||
	    kms_key_ref_check(req->key_id, NULL) == 0);
	if (opt.n_kms_key_ids > 0) {
		size_t i, pinned = 0;

		FUZZ_CHECK(req->key_id != NULL);
		for (i = 0; i < opt.n_kms_key_ids; i++)
			pinned |= strcmp(req->key_id, opt.kms_key_ids[i]) == 0;
		FUZZ_CHECK(pinned);
	}
	switch (req->ciphertext_b64[0]) {
	case 'F':
		res->status = KMS_FAILED;
		reason_fail(&res->reason,
		    "Got non-200 answer from KMS: 400");
		return;
	case 'T':
		res->status = KMS_TIMEOUT;
		reason_fail(&res->reason, "timed out");
		return;
	case 'I':
		res->status = KMS_INTERNAL;
		reason_fail(&res->reason, "cannot spawn");
		return;
	case 'S':
		res->status = KMS_OK;
		FUZZ_CHECK(secret_dup(&res->plaintext, fixed_key, 16) == 0);
		return;
	default:
		res->status = KMS_OK;
		FUZZ_CHECK(secret_dup(&res->plaintext, fixed_key,
		    sizeof(fixed_key)) == 0);
		return;
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR + 1);	/* quiet: no log line per input */
	json_use_wiping_allocator();
	FUZZ_CHECK(aead_init() == 0);
	memset(&opt, 0, sizeof(opt));
	opt.kms_backend = "kmstool";
	opt.kmstool_path = "/nonexistent/fuzz-kmstool";
	opt.region = "ap-southeast-1";
	opt.proxy_port = 8000;
	opt.kms_timeout_s = 1;
	opt.max_encryptions = (unsigned long long)1 << 32;
	opt.step = "echo";
	opt.agent_id = "fuzz-agent";
	opt.max_message = MAX_MESSAGE;
	opt.idle_timeout_s = 60;
	opt.read_timeout_s = 30;
	opt.max_connections = 16;
	opt.threads = 1;
	opt.log_level = LOG_ERROR;
	memset(&ctx, 0, sizeof(ctx));
	ctx.opt = &opt;
	ctx.kms.name = "fuzz-fake";
	ctx.kms.decrypt = fake_decrypt;
	ctx.kms.timeout_s = 1;
	ctx.step = &step_echo;
	ctx.started = 0;
	return 0;
}

static void
install_key(void)
{
	struct secret k = SECRET_INIT;

	keystore_free(ctx.keys);
	FUZZ_CHECK((ctx.keys = keystore_new(4)) != NULL);
	FUZZ_CHECK(secret_dup(&k, other_key, sizeof(other_key)) == 0);
	FUZZ_CHECK(keystore_install(ctx.keys, "other", &k) == KEYSTORE_OK);
	FUZZ_CHECK(secret_dup(&k, fixed_key, sizeof(fixed_key)) == 0);
	FUZZ_CHECK(keystore_install(ctx.keys, KEY_ID_DEFAULT, &k) ==
	    KEYSTORE_OK);
	FUZZ_CHECK(k.data == NULL);
}

/* health lists key ids and counts, never the key. */
static void
check_no_key_material(const struct reply *r)
{
	char hex[2 * AEAD_KEY_LEN];

	hex_encode(hex, fixed_key, sizeof(fixed_key));
	FUZZ_CHECK(fuzz_memmem(r->body.data, r->body.len, (const uint8_t *)hex,
	    sizeof(hex)) == NULL);
	FUZZ_CHECK(fuzz_memmem(r->body.data, r->body.len, fixed_key,
	    sizeof(fixed_key)) == NULL);
	FUZZ_CHECK(fuzz_memmem(r->body.data, r->body.len, other_key,
	    sizeof(other_key)) == NULL);
}

/* The reply body as a parsed JSON object; checks the spec's shapes. */
static cJSON *
check_reply(const struct reply *r)
{
	const uint8_t *body;
	size_t n;
	cJSON *o, *status, *msg, *details;

	FUZZ_CHECK(r->body.len > REPLY_HEADROOM);
	body = r->body.data + REPLY_HEADROOM;
	n = r->body.len - REPLY_HEADROOM;
	FUZZ_CHECK(n <= r->limit);
	FUZZ_CHECK(memchr(body, '\n', n) == NULL);	/* bare framing adds it */
	o = json_parse_exact(body, n);
	FUZZ_CHECK(o != NULL && cJSON_IsObject(o));
	status = cJSON_GetObjectItemCaseSensitive(o, "status");
	FUZZ_CHECK(cJSON_IsString(status));
	if (strcmp(status->valuestring, "error") == 0) {
		msg = cJSON_GetObjectItemCaseSensitive(o, "msg");
		details = cJSON_GetObjectItemCaseSensitive(o, "details");
		FUZZ_CHECK(cJSON_IsString(msg) && msg->valuestring[0] != '\0');
		FUZZ_CHECK(cJSON_IsString(details));
		FUZZ_CHECK(strcmp(r->outcome, msg->valuestring) == 0);
	} else {
		FUZZ_CHECK(strcmp(status->valuestring, "ok") == 0 ||
		    strcmp(status->valuestring, "healthy") == 0);
	}
	return o;
}

/* An ok process reply's result opened; NULL when it does not authenticate. */
static uint8_t *
try_open_result(const cJSON *o, const uint8_t *key, const uint8_t *aad,
    size_t aad_len, size_t *pt_len)
{
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "result");
	size_t hlen, n;
	uint8_t *raw, *pt;
	int rc;

	FUZZ_CHECK(cJSON_IsString(res));
	hlen = strlen(res->valuestring);
	FUZZ_CHECK(hlen % 2 == 0 && hlen / 2 >= AEAD_OVERHEAD);
	for (size_t i = 0; i < hlen; i++)	/* lowercase hex only */
		FUZZ_CHECK((res->valuestring[i] >= '0' && res->valuestring[i] <= '9') ||
		    (res->valuestring[i] >= 'a' && res->valuestring[i] <= 'f'));
	n = hlen / 2;
	raw = malloc(n);
	pt = malloc(n - AEAD_OVERHEAD + 1);
	FUZZ_CHECK(raw && pt);
	FUZZ_CHECK(hex_decode(raw, res->valuestring, hlen) == 0);
	rc = aead_open(key, aad, aad_len, raw, n, pt);
	*pt_len = n - AEAD_OVERHEAD;
	free(raw);
	if (rc < 0) {
		free(pt);
		return NULL;
	}
	return pt;
}

/* Open an ok process reply's result under the fixed key; returns the
 * plaintext (malloc'd). */
static uint8_t *
open_result(const cJSON *o, const uint8_t *aad, size_t aad_len, size_t *pt_len)
{
	uint8_t *pt = try_open_result(o, fixed_key, aad, aad_len, pt_len);

	FUZZ_CHECK(pt != NULL);
	return pt;
}

/* The aad the daemon opens (or seals) under for direction d, per opt. */
static void
directed_aad(struct buf *out, enum direction d, const uint8_t *aad,
    size_t len)
{
	if (opt.bind_direction)
		FUZZ_CHECK(direction_bind_aad(out, d, aad, len) == 0);
	else
		FUZZ_CHECK(buf_append(out, aad, len, SIZE_MAX) == 0);
}

/* The agent step's output is a state object carrying our agent_id. */
static void
check_agent_state(const uint8_t *pt, size_t n)
{
	cJSON *s = json_parse_exact(pt, n);
	const cJSON *id;

	FUZZ_CHECK(s != NULL && cJSON_IsObject(s));
	id = cJSON_GetObjectItemCaseSensitive(s, "agent_id");
	FUZZ_CHECK(cJSON_IsString(id) && strcmp(id->valuestring, "fuzz-agent") == 0);
	FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(s, "timestamp") != NULL);
	cJSON_Delete(s);
}

/* A string field of the request, if the message parses on its own. */
static const char *
field(const cJSON *req, const char *name)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(req, name);

	return cJSON_IsString(f) ? f->valuestring : NULL;
}

/* JSON (strict text, numbers, one value) that json_parse_exact refuses
 * only for its member names. */
static int
json_but_not_ijson(const uint8_t *data, size_t size)
{
	const char *end = NULL, *stop = (const char *)data + size;
	cJSON *loose;
	int nul, names = JSON_NAMES_OK;

	if (size == 0 || json_check_text(data, size, &nul) < 0)
		return 0;
	loose = cJSON_ParseWithLengthOpts((const char *)data, size, &end, 0);
	if (loose == NULL)
		return 0;
	while (end < stop && frame_is_space((uint8_t)*end))
		end++;
	if (end == stop && json_numbers_strict(data, size) &&
	    cJSON_IsObject(loose))
		names = json_check_names(data, size, 0, NULL);
	cJSON_Delete(loose);
	return names == JSON_NAMES_DUPLICATE || names == JSON_NAMES_NUL;
}

/* Phase 1: the input is one message off the wire. */
static void
run_message(const uint8_t *data, size_t size)
{
	struct reply reply;
	struct request *req;
	struct buf msg = BUF_INIT;
	cJSON *own = size > 0 ? json_parse_exact(data, size) : NULL;
	cJSON *o;

	/* Exactly sized (ASan sees overruns), in a buf the request may adopt. */
	msg.data = fuzz_dup(data, size);
	msg.len = msg.cap = size;
	reply_init(&reply, request_reply_limit(&opt));
	req = request_parse(&ctx, &msg, 0, size, &reply);	/* as connection.c */
	/* The message is taken out of the buffer, and whatever block the
	 * request did not keep is not referenced afterwards. */
	FUZZ_CHECK(msg.len == 0);
	if (msg.data != NULL)
		memset(msg.data, 0xa5, msg.cap);
	buf_free(&msg, 0);
	if (req != NULL)
		request_execute(&ctx, req, &reply);
	request_finish(req, &msg);	/* a kept block comes back to msg */
	buf_free(&msg, 0);
	o = check_reply(&reply);
	if (json_but_not_ijson(data, size))
		FUZZ_CHECK(strcmp(reply.outcome, "invalid_json") == 0);
	if (own != NULL && cJSON_IsObject(own)) {
		const char *type = field(own, "type");
		const char *status = field(o, "status");
		const char *secret = field(own, "aws_secret_access_key");
		const char *token = field(own, "aws_session_token");

		/* Secrets of a configure never come back (the '+' keeps
		 * the check to strings no fixed reply text contains; other
		 * types may echo a bounded prefix of themselves). */
		if (type == NULL || strcmp(type, "configure") != 0)
			secret = token = NULL;
		if (type != NULL && strcmp(type, "health") == 0)
			check_no_key_material(&reply);
		if (secret && strlen(secret) >= 12 && strchr(secret, '+'))
			FUZZ_CHECK(fuzz_memmem(reply.body.data, reply.body.len,
			    (const uint8_t *)secret, strlen(secret)) == NULL);
		if (token && strlen(token) >= 12 && strchr(token, '+'))
			FUZZ_CHECK(fuzz_memmem(reply.body.data, reply.body.len,
			    (const uint8_t *)token, strlen(token)) == NULL);
		if (type && strcmp(type, "process") == 0 && status &&
		    strcmp(status, "ok") == 0) {
			const char *aad = field(own, "aad");
			const char *ct = field(own, "ciphertext");
			size_t pt_len, in_len = ct ? strlen(ct) / 2 : 0;
			uint8_t *pt = open_result(o, (const uint8_t *)aad,
			    aad ? strlen(aad) : 0, &pt_len);

			FUZZ_CHECK(ct != NULL && in_len >= AEAD_OVERHEAD);
			if (ctx.step == &step_echo) {
				uint8_t *raw = malloc(in_len), *want = malloc(in_len);

				FUZZ_CHECK(raw && want);
				FUZZ_CHECK(hex_decode(raw, ct, in_len * 2) == 0);
				FUZZ_CHECK(aead_open(fixed_key, (const uint8_t *)aad,
				    aad ? strlen(aad) : 0, raw, in_len, want) == 0);
				FUZZ_CHECK(pt_len == in_len - AEAD_OVERHEAD);
				FUZZ_CHECK(memcmp(pt, want, pt_len) == 0);
				free(raw);
				free(want);
			} else {
				check_agent_state(pt, pt_len);
			}
			free(pt);
		}
	}
	cJSON_Delete(own);
	cJSON_Delete(o);
	reply_free(&reply);
}

/* Where phase 2 asks the result to go. */
enum sealed_mode { SAME_KEY, TO_OTHER, TO_OTHER_UNGRANTED };

/* ,"grant":"<hex>": the fixed key's holder releases results to "other",
 * whose holder accepts them. */
static void
append_grant(struct buf *msg)
{
	uint8_t commitment[GRANT_COMMITMENT_LEN], grant[GRANT_LEN];
	char hex[GRANT_HEX_LEN];

	FUZZ_CHECK(grant_commitment(other_key, commitment) == 0);
	FUZZ_CHECK(grant_release(fixed_key, commitment, (uint64_t)time(NULL) +
	    3600, grant) == 0);
	FUZZ_CHECK(grant_accept(other_key, grant, NULL) == 0);
	hex_encode(hex, grant, sizeof(grant));
	FUZZ_CHECK(buf_append_str(msg, ",\"grant\":\"", SIZE_MAX) == 0);
	FUZZ_CHECK(buf_append(msg, hex, sizeof(hex), SIZE_MAX) == 0);
	FUZZ_CHECK(buf_append_str(msg, "\"", SIZE_MAX) == 0);
}

/*
 * Phase 2: the input is aad (byte 0 says how long) and plaintext of a
 * request sealed here, as a data owner's client would.
 */
static void
run_sealed(const uint8_t *data, size_t size)
{
	size_t aad_len = size ? data[0] % 24 : 0, pt_len, hlen, got_len;
	const uint8_t *aad, *pt;
	struct buf msg = BUF_INIT, request_aad = BUF_INIT, result_aad = BUF_INIT;
	struct reply reply;
	struct request *req;
	uint8_t *sealed, *got;
	char *hex;
	cJSON *o;
	const char *status, *code;
	int aad_has_nul;
	enum sealed_mode mode;

	if (size == 0)
		return;
	if (aad_len > size - 1)
		aad_len = size - 1;
	aad = data + 1;
	pt = data + 1 + aad_len;
	pt_len = size - 1 - aad_len;
	mode = (enum sealed_mode)(pt_len % 3);
	aad_has_nul = memchr(aad, 0, aad_len) != NULL;
	directed_aad(&request_aad, DIRECTION_REQUEST, aad, aad_len);
	directed_aad(&result_aad, DIRECTION_RESULT, aad, aad_len);

	sealed = malloc(pt_len + AEAD_OVERHEAD);
	hlen = 2 * (pt_len + AEAD_OVERHEAD);
	hex = malloc(hlen);
	FUZZ_CHECK(sealed && hex);
	FUZZ_CHECK(aead_seal(fixed_key, request_aad.data, request_aad.len, pt,
	    pt_len, sealed) == 0);
	hex_encode(hex, sealed, pt_len + AEAD_OVERHEAD);
	FUZZ_CHECK(buf_append_str(&msg, "{\"type\":\"process\",\"ciphertext\":\"",
	    SIZE_MAX) == 0);
	FUZZ_CHECK(buf_append(&msg, hex, hlen, SIZE_MAX) == 0);
	FUZZ_CHECK(buf_append_str(&msg, "\"", SIZE_MAX) == 0);
	if (aad_len > 0) {
		FUZZ_CHECK(buf_append_str(&msg, ",\"aad\":", SIZE_MAX) == 0);
		FUZZ_CHECK(json_append_string(&msg, aad, aad_len, SIZE_MAX) == 0);
	}
	if (mode != SAME_KEY)
		FUZZ_CHECK(buf_append_str(&msg, ",\"result_key_id\":\"other\"",
		    SIZE_MAX) == 0);
	if (mode == TO_OTHER)
		append_grant(&msg);
	FUZZ_CHECK(buf_append_str(&msg, "}", SIZE_MAX) == 0);
	free(sealed);
	free(hex);

	reply_init(&reply, request_reply_limit(&opt));
	req = request_parse(&ctx, &msg, 0, msg.len, &reply);
	/*
	 * A well-formed request parses, except that an aad escaping U+0000
	 * is refused (cJSON would cut it at the NUL: finding F1, fixed).
	 */
	FUZZ_CHECK(req != NULL || (aad_has_nul &&
	    (strcmp(reply.outcome, "invalid_json") == 0 ||
	    strcmp(reply.outcome, "invalid_field") == 0)));
	if (req != NULL)
		request_execute(&ctx, req, &reply);
	request_finish(req, &msg);
	o = check_reply(&reply);
	status = field(o, "status");
	code = field(o, "msg");
	if (strcmp(status, "ok") == 0) {
		/* Bound: a result never opens as a request (finding F20). */
		if (opt.bind_direction)
			FUZZ_CHECK(try_open_result(o, fixed_key, request_aad.data,
			    request_aad.len, &got_len) == NULL);
		/* Under "other" exactly when asked for with the grant. */
		FUZZ_CHECK(try_open_result(o, mode == TO_OTHER ? fixed_key :
		    other_key, result_aad.data, result_aad.len, &got_len) ==
		    NULL);
		got = try_open_result(o, mode == TO_OTHER ? other_key :
		    fixed_key, result_aad.data, result_aad.len, &got_len);
		FUZZ_CHECK(got != NULL);
		if (ctx.step == &step_echo)
			FUZZ_CHECK(got_len == pt_len && memcmp(got, pt, pt_len) == 0);
		else
			check_agent_state(got, got_len);
		free(got);
	} else if (strcmp(code, "grant_required") == 0) {
		FUZZ_CHECK(mode == TO_OTHER_UNGRANTED);
	} else if (strcmp(code, "decrypt_failed") == 0) {
		/*
		 * Finding F1 (fixed): an aad holding U+0000 was cut at the
		 * NUL by cJSON, so the daemon authenticated a different aad
		 * than the client sealed with. Never again.
		 */
		FUZZ_CHECK(0);
	} else if (strcmp(code, "invalid_json") == 0 ||
	    strcmp(code, "invalid_field") == 0) {
		FUZZ_CHECK(aad_has_nul);
	} else if (strcmp(code, "step_failed") == 0) {
		FUZZ_CHECK(ctx.step != &step_echo);
	} else {
		FUZZ_CHECK(strcmp(code, "key_exhausted") == 0 &&
		    opt.max_encryptions == 0);
	}
	(void)aad_has_nul;
	cJSON_Delete(o);
	reply_free(&reply);
	buf_free(&msg, 1);
	buf_free(&request_aad, 0);
	buf_free(&result_aad, 0);
}

/* Just past the '{' at data[i] and any whitespace after it. */
static size_t
skip_to_members(const uint8_t *data, size_t size, size_t i)
{
	for (i++; i < size && frame_is_space(data[i]); i++)
		;
	return i;
}

/* The top-level string `type` of the text is exactly `want`. */
static int
type_is(const uint8_t *data, size_t size, const char *want)
{
	struct buf b = BUF_INIT;
	int yes = json_string_exact(data, size, "type", &b) == 0 &&
	    b.len == strlen(want) && memcmp(b.data, want, b.len) == 0;

	buf_free(&b, 0);
	return yes;
}

/* Phase 3: the input object behind a long ciphertext (the cut path). */
static void
run_spliced(const uint8_t *data, size_t size)
{
	static const uint8_t pt[100] = "spliced";
	uint8_t sealed[sizeof(pt) + AEAD_OVERHEAD];
	char hex[2 * sizeof(sealed)];
	struct buf msg = BUF_INIT;
	struct reply reply;
	struct request *req;
	cJSON *own, *o;
	const char *type;
	size_t i = 0;
	int bad_names;

	while (i < size && frame_is_space(data[i]))
		i++;
	if (i == size || data[i] != '{')
		return;
	bad_names = json_but_not_ijson(data, size);
	own = json_parse_exact(data, size);
	if (own == NULL && !bad_names)
		return;		/* not JSON at all: phase 1 covers it */
	FUZZ_CHECK(aead_seal(fixed_key, NULL, 0, pt, sizeof(pt), sealed) == 0);
	hex_encode(hex, sealed, sizeof(sealed));
	FUZZ_CHECK(buf_append_str(&msg, "{\"ciphertext\":\"", SIZE_MAX) == 0);
	FUZZ_CHECK(buf_append(&msg, hex, sizeof(hex), SIZE_MAX) == 0);
	FUZZ_CHECK(buf_append_str(&msg, "\"", SIZE_MAX) == 0);
	/* ,<the input's members>  or nothing for {} */
	i = skip_to_members(data, size, i);
	if (i < size && data[i] != '}')
		FUZZ_CHECK(buf_append_str(&msg, ",", SIZE_MAX) == 0);
	FUZZ_CHECK(buf_append(&msg, data + i, size - i, SIZE_MAX) == 0);

	reply_init(&reply, request_reply_limit(&opt));
	req = request_parse(&ctx, &msg, 0, msg.len, &reply);
	if (req != NULL)
		request_execute(&ctx, req, &reply);
	request_finish(req, &msg);
	o = check_reply(&reply);
	type = own != NULL ? field(own, "type") : NULL;
	if (bad_names || (own != NULL &&
	    json_member(own, "ciphertext") != NULL)) {
		FUZZ_CHECK(strcmp(reply.outcome, "invalid_json") == 0);
	} else if (type != NULL && type_is(data, size, "ping")) {
		FUZZ_CHECK(strcmp(reply.outcome, "ok") == 0);
	} else if (type != NULL && strcmp(type, "process") == 0 &&
	    strcmp(reply.outcome, "ok") == 0 && ctx.step == &step_echo) {
		const cJSON *aad = json_member(own, "aad");
		size_t got_len;
		uint8_t *got;

		/* sealed without aad: only an absent, null or "" aad opens */
		FUZZ_CHECK(aad == NULL || cJSON_IsNull(aad) ||
		    (cJSON_IsString(aad) && aad->valuestring[0] == '\0'));
		got = open_result(o, NULL, 0, &got_len);
		FUZZ_CHECK(got_len == sizeof(pt) && memcmp(got, pt, got_len) == 0);
		free(got);
	}
	cJSON_Delete(o);
	cJSON_Delete(own);
	reply_free(&reply);
	buf_free(&msg, 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = fuzz_seed(data, size);

	if (size > MAX_MESSAGE)
		return 0;
	/* Input-derived, so a crash replays: the step and the key budget. */
	ctx.step = (h & 1) ? &step_agent : &step_echo;
	/* The backend and the KMS key pins (none, one, two): configure's checks. */
	opt.kms_backend = (h >> 9) & 1 ? "native" : "kmstool";
	opt.kms_key_ids[0] = FUZZ_PIN_ARN;
	opt.kms_key_ids[1] = FUZZ_PIN_ID;
	opt.n_kms_key_ids = (size_t)((h >> 10) % 3);
	opt.max_encryptions = (h & 0x70) == 0 ? 0 : (unsigned long long)1 << 32;
	install_key();
	run_message(data, size);
	install_key();
	opt.bind_direction = (h >> 8) & 1;
	run_sealed(data, size);
	opt.bind_direction = 0;
	install_key();
	run_spliced(data, size);
	return 0;
}
