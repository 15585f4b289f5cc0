/*
 * fuzz_broker_wire.c - the messages between enclaved and its KMS broker
 * (src/enclave/kms/broker_wire.c). Each side decodes what the other sent,
 * and neither trusts the other's lengths.
 *
 * Checks: decoding never reads past the datagram; a decoded request or
 * reply encodes and decodes again to the same fields, encryption context
 * pairs included (no key with '=' gets through to the KMS tool).
 */
#include "fuzz_common.h"

#include "common/buf.h"
#include "common/kms_key_ref.h"
#include "enclave/kms/broker_wire.h"

static void
request_roundtrip(uint8_t *msg, size_t n)
{
	struct kms_decrypt_request req, again;
	struct kms_credentials creds, creds2;
	struct buf enc = BUF_INIT;

	memset(&req, 0, sizeof(req));
	memset(&creds, 0, sizeof(creds));
	if (broker_decode_request(msg, n, &req, &creds) != 0) {
		kms_credentials_free(&creds);
		return;
	}
	FUZZ_CHECK(req.ciphertext_b64 != NULL && req.region != NULL);
	req.creds = &creds;
	if (broker_encode_request(&enc, &req) == 0) {
		memset(&again, 0, sizeof(again));
		memset(&creds2, 0, sizeof(creds2));
		FUZZ_CHECK(broker_decode_request(enc.data, enc.len, &again,
		    &creds2) == 0);
		FUZZ_CHECK(strcmp(again.ciphertext_b64, req.ciphertext_b64) == 0);
		FUZZ_CHECK(strcmp(again.region, req.region) == 0);
		FUZZ_CHECK((again.key_id == NULL) == (req.key_id == NULL));
		FUZZ_CHECK(req.key_id == NULL ||
		    (strcmp(again.key_id, req.key_id) == 0 &&
		    kms_key_ref_check(req.key_id, NULL) == 0));
		FUZZ_CHECK(again.context.n == req.context.n);
		for (size_t i = 0; i < req.context.n; i++) {
			FUZZ_CHECK(strcmp(again.context.pair[i].key,
			    req.context.pair[i].key) == 0);
			FUZZ_CHECK(strcmp(again.context.pair[i].value,
			    req.context.pair[i].value) == 0);
			FUZZ_CHECK(strchr(req.context.pair[i].key, '=') == NULL);
		}
		FUZZ_CHECK(strcmp((char *)creds2.secret_access_key.data,
		    (char *)creds.secret_access_key.data) == 0);
		kms_credentials_free(&creds2);
	}
	buf_free(&enc, 1);
	kms_credentials_free(&creds);
}

static void
reply_roundtrip(const uint8_t *msg, size_t n)
{
	struct kms_result res, again;
	struct buf enc = BUF_INIT;

	memset(&res, 0, sizeof(res));
	if (broker_decode_reply(msg, n, &res) != 0) {
		secret_free(&res.plaintext);
		return;
	}
	FUZZ_CHECK(memchr(res.reason.text, '\0',
	    sizeof(res.reason.text)) != NULL);
	if (broker_encode_reply(&enc, &res) == 0) {
		memset(&again, 0, sizeof(again));
		FUZZ_CHECK(broker_decode_reply(enc.data, enc.len, &again) == 0);
		FUZZ_CHECK(again.status == res.status);
		FUZZ_CHECK(strcmp(again.reason.text, res.reason.text) == 0);
		FUZZ_CHECK(again.plaintext.len == res.plaintext.len);
		FUZZ_CHECK(res.plaintext.len == 0 || memcmp(again.plaintext.data,
		    res.plaintext.data, res.plaintext.len) == 0);
		secret_free(&again.plaintext);
	}
	buf_free(&enc, 1);
	secret_free(&res.plaintext);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size > BROKER_MESSAGE_MAX)
		return 0;
	copy = fuzz_dup(data, size);
	request_roundtrip(copy, size);
	free(copy);
	copy = fuzz_dup(data, size);
	reply_roundtrip(copy, size);
	free(copy);
	return 0;
}
