/*
 * test_request.c - the request owns its message (request.h).
 *
 * request_parse takes the message out of the connection's input buffer,
 * whatever the outcome, and leaves what follows it at the front; a
 * configure's bytes, and those of a message that did not parse, are wiped
 * where they were (finding F10); a process request whose ciphertext was
 * cut out and decoded in place keeps the block, the input getting a fresh
 * one, and request_finish gives the block back with the input's bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/aead.h"
#include "common/buf.h"
#include "common/hex.h"
#include "common/json_parse.h"
#include "common/log.h"
#include "common/secret.h"
#include "enclave/context.h"
#include "enclave/keystore.h"
#include "enclave/options.h"
#include "enclave/reply.h"
#include "enclave/request.h"
#include "enclave/steps/step.h"

#define SECRET  "wJalrXUtnFEMI+K7MDENG+bPxRfiCYEXAMPLEKEY"
#define PING    "{\"type\":\"ping\"}"

static const uint8_t tsk[AEAD_KEY_LEN] = { 7, 7, 7, 7 };
static struct options opt;
static struct enclave_ctx ctx;

static int
setup(void **state)
{
	struct secret k = SECRET_INIT;

	(void)state;
	log_set_level(LOG_ERROR + 1);
	json_use_wiping_allocator();
	assert_int_equal(aead_init(), 0);
	opt.region = "ap-southeast-1";
	opt.max_message = 1 << 20;
	opt.max_encryptions = (unsigned long long)1 << 32;
	opt.step = "echo";
	ctx.opt = &opt;
	ctx.step = &step_echo;
	assert_non_null(ctx.keys = keystore_new(4));
	assert_int_equal(secret_dup(&k, tsk, sizeof(tsk)), 0);
	assert_int_equal(keystore_install(ctx.keys, KEY_ID_DEFAULT, &k),
	    KEYSTORE_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	keystore_free(ctx.keys);
	ctx.keys = NULL;
	return 0;
}

/* An input buffer holding `text`, as a connection's would. */
static void
input(struct buf *in, const char *text)
{
	assert_int_equal(buf_append_str(in, text, 1 << 20), 0);
}

static int
holds(const uint8_t *p, size_t n, const char *s)
{
	size_t i, k = strlen(s);

	for (i = 0; i + k <= n; i++)
		if (memcmp(p + i, s, k) == 0)
			return 1;
	return 0;
}

/* The reply's JSON without its headroom, NUL-terminated in `out`. */
static void
body(const struct reply *r, char *out, size_t size)
{
	size_t n = r->body.len - REPLY_HEADROOM;

	assert_true(r->body.len > REPLY_HEADROOM && n < size);
	memcpy(out, r->body.data + REPLY_HEADROOM, n);
	out[n] = '\0';
}

/* Parsed or not, a configure leaves no copy of its credentials behind. */
static void
test_configure_message_wiped(void **state)
{
	static const char *msgs[] = {
		"{\"type\":\"configure\",\"encrypted_tsk\":\"AQID\","
		"\"aws_access_key_id\":\"AKID\",\"aws_secret_access_key\":\""
		SECRET "\",\"aws_session_token\":\"tok\"}",
		/* refused by configure: no encrypted_tsk */
		"{\"type\":\"configure\",\"aws_secret_access_key\":\"" SECRET "\"}",
		/* no JSON at all: what it holds is unknown */
		"{\"type\":\"configure\",\"aws_secret_access_key\":\"" SECRET "\",}",
	};
	/* the last message in the buffer, or one with another behind it */
	static const char *after[] = { "", PING };
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]) * 2; i++) {
		const char *next = after[i % 2];
		struct buf in = BUF_INIT;
		struct reply reply;
		struct request *req;
		uint8_t *block;

		j = i / 2;
		input(&in, msgs[j]);
		input(&in, next);
		block = in.data;
		reply_init(&reply, request_reply_limit(&opt));
		req = request_parse(&ctx, &in, 0, strlen(msgs[j]), &reply);
		assert_true((req != NULL) == (j == 0));
		/* the next message is at the front, the block not moved */
		assert_ptr_equal(in.data, block);
		assert_int_equal(in.len, strlen(next));
		assert_memory_equal(in.data, next, strlen(next));
		assert_false(holds(in.data, in.cap, SECRET));
		request_finish(req, &in);
		assert_false(holds(in.data, in.cap, SECRET));
		reply_free(&reply);
		buf_free(&in, 0);
	}
}

/* A message holding no secret is taken out of the buffer all the same. */
static void
test_ping_consumed(void **state)
{
	struct buf in = BUF_INIT;
	struct reply reply;
	struct request *req;
	char text[128];

	(void)state;
	/* length framed: the prefix goes too */
	assert_int_equal(buf_append_u32be(&in, strlen(PING), 1 << 20), 0);
	input(&in, PING);
	input(&in, "{\"type\":\"health\"}");
	reply_init(&reply, request_reply_limit(&opt));
	req = request_parse(&ctx, &in, 4, strlen(PING), &reply);
	assert_non_null(req);
	assert_false(request_blocks(req));
	assert_int_equal(in.len, strlen("{\"type\":\"health\"}"));
	assert_memory_equal(in.data, "{\"type\":\"health\"}", in.len);
	request_execute(&ctx, req, &reply);
	request_finish(req, &in);
	body(&reply, text, sizeof(text));
	assert_string_equal(text, "{\"status\":\"ok\",\"msg\":\"pong\"}");
	reply_free(&reply);
	buf_free(&in, 0);
}

/* "{"type":"process","ciphertext":"<hex of a sealed plaintext>"}" */
static void
process_message(struct buf *in, const char *plaintext)
{
	size_t n = strlen(plaintext);
	uint8_t sealed[512];
	char hex[1024];

	assert_true(n + AEAD_OVERHEAD <= sizeof(sealed));
	assert_int_equal(aead_seal(tsk, NULL, 0, (const uint8_t *)plaintext, n,
	    sealed), 0);
	hex_encode(hex, sealed, n + AEAD_OVERHEAD);
	input(in, "{\"type\":\"process\",\"ciphertext\":\"");
	assert_int_equal(buf_append(in, hex, 2 * (n + AEAD_OVERHEAD), 1 << 20),
	    0);
	input(in, "\"}");
}

/*
 * Decoded where it lay: the request keeps the block, the input gets what
 * follows in a fresh one (no copy left in the old), and finishing gives
 * the block back holding the input's bytes.
 */
static void
test_process_keeps_block_and_gives_it_back(void **state)
{
	static const char pt[] = "a plaintext long enough for its hex to be "
	    "cut out of the message before cJSON sees it (bulk_field.h)";
	const char *next = "{\"type\":\"ping\",\"x\":\"" SECRET "\"}";
	struct buf in = BUF_INIT;
	struct reply reply;
	struct request *req;
	uint8_t *block;
	size_t len;

	(void)state;
	process_message(&in, pt);
	len = in.len;
	input(&in, next);
	block = in.data;
	reply_init(&reply, request_reply_limit(&opt));
	req = request_parse(&ctx, &in, 0, len, &reply);
	assert_non_null(req);
	assert_true(in.data != block);
	assert_int_equal(in.len, strlen(next));
	assert_memory_equal(in.data, next, in.len);
	/* the block the request kept no longer holds what followed */
	assert_false(holds(block, len + strlen(next), SECRET));
	request_execute(&ctx, req, &reply);
	assert_string_equal(reply.outcome, "ok");
	request_finish(req, &in);
	assert_ptr_equal(in.data, block);
	assert_int_equal(in.len, strlen(next));
	assert_memory_equal(in.data, next, in.len);
	/* the plaintext was wiped where it was opened */
	assert_false(holds(in.data, in.cap, "a plaintext"));
	reply_free(&reply);
	buf_free(&in, 0);
}

/* Off the connection's thread there is no input to give back to. */
static void
test_finish_without_input_frees_the_block(void **state)
{
	static const char pt[] = "another plaintext long enough for the bulk "
	    "field cut to take its hex out of the message, as above";
	struct buf in = BUF_INIT;
	struct reply reply;
	struct request *req;
	uint8_t *block;

	(void)state;
	process_message(&in, pt);
	block = in.data;
	reply_init(&reply, request_reply_limit(&opt));
	req = request_parse(&ctx, &in, 0, in.len, &reply);
	assert_non_null(req);
	assert_true(in.data != block);
	assert_int_equal(in.len, 0);
	request_execute(&ctx, req, &reply);
	request_finish(req, NULL);	/* LeakSanitizer: the block is freed */
	assert_int_equal(in.len, 0);
	reply_free(&reply);
	buf_free(&in, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_configure_message_wiped),
		cmocka_unit_test(test_ping_consumed),
		cmocka_unit_test(test_process_keeps_block_and_gives_it_back),
		cmocka_unit_test(test_finish_without_input_frees_the_block),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
