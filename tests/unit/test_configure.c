/*
 * test_configure.c - configure's credentials and the locked heap (F17).
 *
 * The daemon's request path (request_parse, request_execute,
 * request_finish) on a secure heap of the size enclaved gives itself by
 * default, with a KMS backend in this file that hands out a key. Credentials are bounded by what AWS
 * issues; every configure that may run at once fits in the heap with the
 * longest ones; and when the heap is used up anyway, configure is `busy`,
 * never `internal_error`, and works again once memory is back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cJSON.h>
#include <openssl/crypto.h>

#include "common/aead.h"
#include "common/json_parse.h"
#include "common/log.h"
#include "common/secret.h"
#include "enclave/context.h"
#include "enclave/keystore.h"
#include "enclave/kms/kms.h"
#include "enclave/locked_heap.h"
#include "enclave/options.h"
#include "enclave/reply.h"
#include "enclave/request.h"
#include "enclave/server.h"

static struct options opt;
static struct enclave_ctx ctx;
static int kms_calls;
static size_t seen_len[3];	/* credential lengths the backend was given */

/* The KMS: any ciphertext gives a fresh 32-byte key. */
static void
fake_decrypt(const struct kms_backend *kms, const struct kms_decrypt_request *req,
    struct kms_result *res)
{
	static const uint8_t key[AEAD_KEY_LEN] = { 1, 2, 3, 4 };

	(void)kms;
	memset(res, 0, sizeof(*res));
	kms_calls++;
	seen_len[0] = strlen((const char *)req->creds->access_key_id.data);
	seen_len[1] = strlen((const char *)req->creds->secret_access_key.data);
	seen_len[2] = strlen((const char *)req->creds->session_token.data);
	if (secret_dup(&res->plaintext, key, sizeof(key)) < 0) {
		res->status = KMS_INTERNAL;
		reason_fail(&res->reason, "no memory");
		return;
	}
	res->status = KMS_OK;
}

/* The daemon's defaults where the heap's size depends on them. */
static int
setup(void **state)
{
	(void)state;
	log_set_level(LOG_ERROR + 1);
	json_use_wiping_allocator();
	memset(&opt, 0, sizeof(opt));
	opt.region = "ap-southeast-1";
	opt.max_message = 1 << 20;
	opt.max_connections = 1024;
	opt.threads = 2;
	opt.max_keys = 16;
	opt.max_encryptions = (unsigned long long)1 << 32;
	memset(&ctx, 0, sizeof(ctx));
	ctx.opt = &opt;
	ctx.kms.name = "test-fake";
	ctx.kms.decrypt = fake_decrypt;
	ctx.kms.timeout_s = 1;
	assert_int_equal(secret_heap_init(locked_heap_size(&opt)), 0);
	assert_true(CRYPTO_secure_malloc_initialized());
	assert_non_null(ctx.keys = keystore_new(opt.max_keys));
	return 0;
}

/* A string of n copies of c (malloc'd). */
static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Run one configure with these credentials (JSON string contents). */
static char *
configure_text(const char *akid, const char *secret, const char *token)
{
	char *msg, *body;
	struct buf in = BUF_INIT;
	struct request *req;
	struct reply reply;
	size_t n = strlen(akid) + strlen(secret) + strlen(token) + 256;

	msg = malloc(n);
	assert_non_null(msg);
	snprintf(msg, n, "{\"type\":\"configure\",\"encrypted_tsk\":\"AQID\","
	    "\"aws_access_key_id\":\"%s\",\"aws_secret_access_key\":\"%s\","
	    "\"aws_session_token\":\"%s\"}", akid, secret, token);
	in.data = (uint8_t *)msg;
	in.len = strlen(msg);
	in.cap = n;
	reply_init(&reply, request_reply_limit(&opt));
	req = request_parse(&ctx, &in, 0, in.len, &reply);
	if (req != NULL)
		request_execute(&ctx, req, &reply);
	request_finish(req, &in);
	assert_true(reply.body.len > REPLY_HEADROOM);
	body = strndup((const char *)reply.body.data + REPLY_HEADROOM,
	    reply.body.len - REPLY_HEADROOM);
	assert_non_null(body);
	/* Whatever the answer, no credential is in it. */
	assert_null(strstr(body, "AAAA"));
	assert_null(strstr(body, "ssss"));
	assert_null(strstr(body, "tttt"));
	reply_free(&reply);
	buf_free(&in, 0);
	return body;
}

/* Run one configure with credentials of these lengths. */
static char *
configure(size_t akid_len, size_t secret_len, size_t token_len)
{
	char *akid = repeat('A', akid_len), *secret = repeat('s', secret_len);
	char *token = repeat('t', token_len), *body;

	body = configure_text(akid, secret, token);
	free(akid);
	free(secret);
	free(token);
	return body;
}

static void
expect_msg(char *body, const char *status, const char *msg)
{
	cJSON *o = cJSON_Parse(body);

	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring,
	    status);
	assert_string_equal(cJSON_GetObjectItem(o, "msg")->valuestring, msg);
	cJSON_Delete(o);
	free(body);
}

/* The longest credentials AWS issues (and then some) are accepted whole. */
static void
test_longest_credentials_accepted(void **state)
{
	(void)state;
	kms_calls = 0;
	expect_msg(configure(KMS_ACCESS_KEY_ID_MAX, KMS_SECRET_ACCESS_KEY_MAX,
	    KMS_SESSION_TOKEN_MAX), "ok", "configured");
	assert_int_equal(kms_calls, 1);
	assert_int_equal(seen_len[0], KMS_ACCESS_KEY_ID_MAX);
	assert_int_equal(seen_len[1], KMS_SECRET_ACCESS_KEY_MAX);
	assert_int_equal(seen_len[2], KMS_SESSION_TOKEN_MAX);
	/* Real ones: a 20-character id, a 40-character key, a 1 KiB token. */
	expect_msg(configure(20, 40, 1024), "ok", "configured");
	assert_int_equal(kms_calls, 2);
}

/* One character more than the bound: invalid_field naming the field. */
static void
test_longer_credential_is_invalid_field(void **state)
{
	static const struct {
		size_t      len[3];
		const char *field;
	} cases[] = {
		{ { KMS_ACCESS_KEY_ID_MAX + 1, 40, 100 }, "aws_access_key_id" },
		{ { 20, KMS_SECRET_ACCESS_KEY_MAX + 1, 100 },
		  "aws_secret_access_key" },
		{ { 20, 40, KMS_SESSION_TOKEN_MAX + 1 }, "aws_session_token" },
		{ { 8192, 8192, 8192 }, "aws_access_key_id" },	/* the issue's */
	};
	size_t i;

	(void)state;
	kms_calls = 0;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = configure(cases[i].len[0], cases[i].len[1],
		    cases[i].len[2]);

		assert_non_null(strstr(body, cases[i].field));
		assert_non_null(strstr(body, "longer than"));
		expect_msg(body, "error", "invalid_field");
	}
	assert_int_equal(kms_calls, 0);
}

/*
 * F32: each credential in the alphabet AWS issues it in. A CR/LF in the
 * access key id reached the Authorization header (header injection), in
 * the token it gave internal_error; now every such value is
 * invalid_field naming the field, its value never echoed, KMS never asked.
 */
static void
test_credential_alphabet(void **state)
{
	static const struct {
		const char *akid, *secret, *token, *field;
	} bad[] = {
		{ "AKIAXX\\r\\nX-Evil: 1", "ssss", "tttt", "aws_access_key_id" },
		{ "AKIAXX\\nXX", "ssss", "tttt", "aws_access_key_id" },
		{ "AKIA XX", "ssss", "tttt", "aws_access_key_id" },
		{ "AKIA/XX", "ssss", "tttt", "aws_access_key_id" },
		{ "AKIA,XX", "ssss", "tttt", "aws_access_key_id" },
		{ "akiaxx", "ssss", "tttt", "aws_access_key_id" },
		{ "AKIAXX", "ss\\r\\nss", "tttt", "aws_secret_access_key" },
		{ "AKIAXX", "ss ss", "tttt", "aws_secret_access_key" },
		{ "AKIAXX", "ssss", "tt\\r\\nX-Evil: 1", "aws_session_token" },
		{ "AKIAXX", "ssss", "tt\\ttt", "aws_session_token" },
		{ "AKIAXX", "ssss", "tt;tt", "aws_session_token" },
		{ "AKIAXX", "ssss", "tt\\u00e9tt", "aws_session_token" },
	};
	size_t i;

	(void)state;
	kms_calls = 0;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *body = configure_text(bad[i].akid, bad[i].secret,
		    bad[i].token);

		assert_non_null(strstr(body, bad[i].field));
		assert_null(strstr(body, "Evil"));
		assert_null(strstr(body, "AKIAXX"));
		expect_msg(body, "error", "invalid_field");
	}
	assert_int_equal(kms_calls, 0);
	/* What AWS issues passes. */
	expect_msg(configure_text("ASIAQNZGKIQY56JQ7WML",
	    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH+/A=="),
	    "ok", "configured");
	assert_int_equal(kms_calls, 1);
}

/*
 * Every configure that may run at once holds the longest credentials and
 * its key, with every key the keystore may hold: all fit, with room left.
 */
static void
test_heap_fits_every_running_configure(void **state)
{
	enum { N = SERVER_MAX_RUNNING_JOBS };
	static struct kms_credentials held[N];
	static struct secret keys[1025], got[N];
	size_t i;

	(void)state;
	assert_true(locked_heap_size(&opt) >= LOCKED_HEAP_MIN);
	for (i = 0; i < N; i++) {
		assert_int_equal(secret_alloc(&held[i].access_key_id,
		    KMS_ACCESS_KEY_ID_MAX + 1), 0);
		assert_int_equal(secret_alloc(&held[i].secret_access_key,
		    KMS_SECRET_ACCESS_KEY_MAX + 1), 0);
		assert_int_equal(secret_alloc(&held[i].session_token,
		    KMS_SESSION_TOKEN_MAX + 1), 0);
		assert_int_equal(secret_alloc(&got[i], AEAD_KEY_LEN), 0);
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(secret_alloc(&keys[i], AEAD_KEY_LEN), 0);
	/* And one more configure on top, for OpenSSL's own use. */
	expect_msg(configure(KMS_ACCESS_KEY_ID_MAX, KMS_SECRET_ACCESS_KEY_MAX,
	    KMS_SESSION_TOKEN_MAX), "ok", "configured");
	for (i = 0; i < N; i++) {
		kms_credentials_free(&held[i]);
		secret_free(&got[i]);
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		secret_free(&keys[i]);
}

/* Used up anyway: `busy`, KMS not asked; memory back, configure works. */
static void
test_heap_used_up_is_busy(void **state)
{
	static struct secret filler[4096];
	size_t n = 0, i, size;

	(void)state;
	/* Take every block there is, the largest first. */
	for (size = locked_heap_size(&opt); size >= 16; size >>= 1)
		while (n < sizeof(filler) / sizeof(filler[0]) &&
		    secret_alloc(&filler[n], size) == 0)
			n++;
	assert_true(n < sizeof(filler) / sizeof(filler[0]));
	kms_calls = 0;
	expect_msg(configure(20, 40, 1024), "error", "busy");
	expect_msg(configure(KMS_ACCESS_KEY_ID_MAX, KMS_SECRET_ACCESS_KEY_MAX,
	    KMS_SESSION_TOKEN_MAX), "error", "busy");
	assert_int_equal(kms_calls, 0);
	/* Half the credentials fit: none is left behind in the heap. */
	secret_free(&filler[n - 1]);	/* a 16-byte block */
	expect_msg(configure(4, 4, 1024), "error", "busy");
	assert_int_equal(secret_alloc(&filler[n - 1], 16), 0);
	for (i = 0; i < n; i++)
		secret_free(&filler[i]);
	expect_msg(configure(20, 40, 1024), "ok", "configured");
	assert_int_equal(kms_calls, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_longest_credentials_accepted),
		cmocka_unit_test(test_longer_credential_is_invalid_field),
		cmocka_unit_test(test_credential_alphabet),
		cmocka_unit_test(test_heap_fits_every_running_configure),
		cmocka_unit_test(test_heap_used_up_is_busy),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
