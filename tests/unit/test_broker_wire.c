/*
 * test_broker_wire.c - messages between the daemon and the KMS broker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "enclave/kms/broker_wire.h"

static void
make_creds(struct kms_credentials *c)
{
	assert_int_equal(secret_dup(&c->access_key_id, "AKID", 5), 0);
	assert_int_equal(secret_dup(&c->secret_access_key, "SECRET", 7), 0);
	assert_int_equal(secret_dup(&c->session_token, "TOKEN", 6), 0);
}

static void
test_request_round_trip(void **state)
{
	struct kms_credentials creds, got_creds;
	struct kms_decrypt_request req = { .ciphertext_b64 = "QUJD",
	    .region = "eu-west-1", .creds = &creds }, got;
	struct buf wire = BUF_INIT;

	(void)state;
	make_creds(&creds);
	assert_int_equal(broker_encode_request(&wire, &req), 0);
	assert_int_equal(broker_decode_request(wire.data, wire.len, &got,
	    &got_creds), 0);
	assert_string_equal(got.ciphertext_b64, "QUJD");
	assert_string_equal(got.region, "eu-west-1");
	assert_string_equal((char *)got_creds.access_key_id.data, "AKID");
	assert_string_equal((char *)got_creds.secret_access_key.data, "SECRET");
	assert_string_equal((char *)got_creds.session_token.data, "TOKEN");
	kms_credentials_free(&creds);
	kms_credentials_free(&got_creds);
	buf_free(&wire, 1);
}

static void
test_request_truncations_and_lies_rejected(void **state)
{
	struct kms_credentials creds, got_creds;
	struct kms_decrypt_request req = { .ciphertext_b64 = "QUJD",
	    .region = "eu-west-1", .creds = &creds }, got;
	struct buf wire = BUF_INIT;
	uint8_t copy[512];
	size_t cut;

	(void)state;
	make_creds(&creds);
	assert_int_equal(broker_encode_request(&wire, &req), 0);
	for (cut = 0; cut < wire.len; cut++) {
		memcpy(copy, wire.data, wire.len);
		assert_int_equal(broker_decode_request(copy, cut, &got,
		    &got_creds), -1);
		kms_credentials_free(&got_creds);
	}
	/* A length prefix claiming more than is there. */
	memcpy(copy, wire.data, wire.len);
	store_u32be(copy, 0xffffff00);
	assert_int_equal(broker_decode_request(copy, wire.len, &got,
	    &got_creds), -1);
	kms_credentials_free(&got_creds);
	kms_credentials_free(&creds);
	buf_free(&wire, 1);
}

static void
test_request_context_round_trip(void **state)
{
	struct kms_credentials creds, got_creds;
	struct kms_decrypt_request req = { .ciphertext_b64 = "QUJD",
	    .region = "eu-west-1", .creds = &creds, .context =
	    { 2, { { "tenant", "acme" }, { "path", "a=b" } } } }, got;
	struct buf wire = BUF_INIT;
	uint8_t copy[512];

	(void)state;
	make_creds(&creds);
	assert_int_equal(broker_encode_request(&wire, &req), 0);
	memcpy(copy, wire.data, wire.len);
	assert_int_equal(broker_decode_request(copy, wire.len, &got,
	    &got_creds), 0);
	assert_int_equal(got.context.n, 2);
	assert_string_equal(got.context.pair[0].key, "tenant");
	assert_string_equal(got.context.pair[0].value, "acme");
	assert_string_equal(got.context.pair[1].key, "path");
	assert_string_equal(got.context.pair[1].value, "a=b");
	assert_string_equal((char *)got_creds.session_token.data, "TOKEN");
	kms_credentials_free(&got_creds);
	buf_free(&wire, 1);
	/* A key holding '=' would change meaning on the tool's command line. */
	req.context.pair[0].key = "ten=ant";
	assert_int_equal(broker_encode_request(&wire, &req), 0);
	assert_int_equal(broker_decode_request(wire.data, wire.len, &got,
	    &got_creds), -1);
	assert_null(got_creds.access_key_id.data);
	kms_credentials_free(&creds);
	buf_free(&wire, 1);
}

/* The pinned KMS key travels; anything but a key ARN or id is refused. */
static void
test_request_key_id(void **state)
{
	static const char arn[] = "arn:aws:kms:eu-west-1:111122223333:key/"
	    "1234abcd-12ab-34cd-56ef-1234567890ab";
	struct kms_credentials creds, got_creds;
	struct kms_decrypt_request req = { .ciphertext_b64 = "QUJD",
	    .region = "eu-west-1", .key_id = arn, .creds = &creds }, got;
	struct buf wire = BUF_INIT;

	(void)state;
	make_creds(&creds);
	assert_int_equal(broker_encode_request(&wire, &req), 0);
	assert_int_equal(broker_decode_request(wire.data, wire.len, &got,
	    &got_creds), 0);
	assert_string_equal(got.key_id, arn);
	kms_credentials_free(&got_creds);
	buf_free(&wire, 1);
	req.key_id = NULL;
	assert_int_equal(broker_encode_request(&wire, &req), 0);
	assert_int_equal(broker_decode_request(wire.data, wire.len, &got,
	    &got_creds), 0);
	assert_null(got.key_id);
	kms_credentials_free(&got_creds);
	buf_free(&wire, 1);
	/* An option-looking or alias key never reaches a command line. */
	req.key_id = "--encryption-context";
	assert_int_equal(broker_encode_request(&wire, &req), 0);
	assert_int_equal(broker_decode_request(wire.data, wire.len, &got,
	    &got_creds), -1);
	assert_null(got_creds.access_key_id.data);
	buf_free(&wire, 1);
	req.key_id = "alias/tsk";
	assert_int_equal(broker_encode_request(&wire, &req), 0);
	assert_int_equal(broker_decode_request(wire.data, wire.len, &got,
	    &got_creds), -1);
	kms_credentials_free(&creds);
	buf_free(&wire, 1);
}

static void
test_reply_round_trip(void **state)
{
	struct kms_result res = { .status = KMS_OK }, got;
	struct buf wire = BUF_INIT;
	uint8_t key[32];

	(void)state;
	memset(key, 0x5a, sizeof(key));
	assert_int_equal(secret_dup(&res.plaintext, key, sizeof(key)), 0);
	assert_int_equal(broker_encode_reply(&wire, &res), 0);
	assert_int_equal(broker_decode_reply(wire.data, wire.len, &got), 0);
	assert_int_equal(got.status, KMS_OK);
	assert_int_equal(got.plaintext.len, 32);
	assert_memory_equal(got.plaintext.data, key, 32);
	secret_free(&got.plaintext);
	secret_free(&res.plaintext);
	buf_free(&wire, 1);

	memset(&res, 0, sizeof(res));
	res.status = KMS_TIMEOUT;
	strcpy(res.reason.text, "slow");
	assert_int_equal(broker_encode_reply(&wire, &res), 0);
	assert_int_equal(broker_decode_reply(wire.data, wire.len, &got), 0);
	assert_int_equal(got.status, KMS_TIMEOUT);
	assert_string_equal(got.reason.text, "slow");
	assert_null(got.plaintext.data);
	/* An unknown status byte is refused. */
	wire.data[0] = 99;
	assert_int_equal(broker_decode_reply(wire.data, wire.len, &got), -1);
	buf_free(&wire, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_truncations_and_lies_rejected),
		cmocka_unit_test(test_request_context_round_trip),
		cmocka_unit_test(test_request_key_id),
		cmocka_unit_test(test_reply_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
