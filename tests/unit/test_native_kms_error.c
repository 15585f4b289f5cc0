/*
 * test_native_kms_error.c - what KMS's JSON answers become: the error
 * mapping ("AccessDeniedException: ..." with the __type prefix stripped,
 * credentials redacted, bounded), CiphertextForRecipient extraction, and
 * the KMS host name per region.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "enclave/kms/native/native_internal.h"

#define S(x) (const uint8_t *)(x), strlen(x)

static const char *const no_redact[] = { NULL };

static void
reason_of(int status, const char *body, const char *const *redact,
    char *out, size_t size)
{
	kms_error_reason(status, S(body), redact, out, size);
}

static void
test_type_and_message(void **state)
{
	char r[REASON_MAX];

	(void)state;
	reason_of(400, "{\"__type\":\"AccessDeniedException\",\"message\":"
	    "\"User is not authorized\"}", no_redact, r, sizeof(r));
	assert_string_equal(r, "AccessDeniedException: User is not authorized");
	reason_of(400, "{\"__type\":\"com.amazonaws.kms#InvalidCiphertext"
	    "Exception\",\"Message\":\"bad\"}", no_redact, r, sizeof(r));
	assert_string_equal(r, "InvalidCiphertextException: bad");
	reason_of(400, "{\"__type\":\"a#b#KMSInvalidStateException\"}",
	    no_redact, r, sizeof(r));
	assert_string_equal(r, "KMSInvalidStateException");
	/* An empty message still names the type (KMS sends "" for some). */
	reason_of(400, "{\"__type\":\"InvalidCiphertextException\","
	    "\"message\":\"\"}", no_redact, r, sizeof(r));
	assert_string_equal(r, "InvalidCiphertextException");
}

static void
test_without_json(void **state)
{
	char r[REASON_MAX];

	(void)state;
	reason_of(502, "<html>Bad Gateway</html>", no_redact, r, sizeof(r));
	assert_string_equal(r, "KMS answered HTTP 502");
	reason_of(400, "", no_redact, r, sizeof(r));
	assert_string_equal(r, "KMS answered HTTP 400");
	reason_of(500, "{\"message\":\"internal\"}", no_redact, r, sizeof(r));
	assert_string_equal(r, "KMS answered HTTP 500: internal");
	reason_of(400, "[1,2]", no_redact, r, sizeof(r));
	assert_string_equal(r, "KMS answered HTTP 400");
}

static void
test_redacted_printable_bounded(void **state)
{
	const char *redact[] = { "AKIASECRETID", "s3cr3t/key", NULL };
	char r[REASON_MAX], small[16];
	char body[2048];

	(void)state;
	reason_of(400, "{\"__type\":\"InvalidSignatureException\",\"message\":"
	    "\"key AKIASECRETID with s3cr3t/key\\nline two\\u0001\"}", redact,
	    r, sizeof(r));
	assert_string_equal(r, "InvalidSignatureException: key [redacted] "
	    "with [redacted] line two?");
	snprintf(body, sizeof(body), "{\"__type\":\"X\",\"message\":\"%01000d\"}",
	    0);
	reason_of(400, body, no_redact, r, sizeof(r));
	assert_int_equal(strlen(r), sizeof(r) - 1);
	reason_of(400, "{\"__type\":\"AccessDeniedException\"}", no_redact,
	    small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void
test_recipient_ciphertext(void **state)
{
	struct buf cms = BUF_INIT;
	struct reason reason;

	(void)state;
	assert_int_equal(kms_recipient_ciphertext(S("{\"KeyId\":\"k\","
	    "\"CiphertextForRecipient\":\"AAECAw==\",\"Plaintext\":null}"),
	    &cms, &reason), 0);
	assert_int_equal(cms.len, 4);
	assert_memory_equal(cms.data, "\x00\x01\x02\x03", 4);
	buf_free(&cms, 0);
	assert_int_equal(kms_recipient_ciphertext(S("{\"Plaintext\":"
	    "\"AAECAw==\"}"), &cms, &reason), -1);
	assert_non_null(strstr(reason.text, "no CiphertextForRecipient"));
	assert_int_equal(kms_recipient_ciphertext(S("{\"CiphertextFor"
	    "Recipient\":\"***\"}"), &cms, &reason), -1);
	assert_non_null(strstr(reason.text, "not base64"));
	assert_int_equal(kms_recipient_ciphertext(S("not json"), &cms, &reason),
	    -1);
	assert_int_equal(kms_recipient_ciphertext(S("{\"CiphertextFor"
	    "Recipient\":5}"), &cms, &reason), -1);
	buf_free(&cms, 0);
}

/* F27: the answer's KeyId must be the pinned key (ARN or its bare id). */
static void
test_answer_key_check(void **state)
{
#define K_ID  "1234abcd-12ab-34cd-56ef-1234567890ab"
#define K_ARN "arn:aws:kms:eu-west-1:111122223333:key/" K_ID
#define ANSWER(kid) S("{\"KeyId\":\"" kid "\",\"CiphertextForRecipient\":\"AA==\"}")
	struct reason reason;

	(void)state;
	assert_int_equal(kms_answer_key_check(ANSWER(K_ARN), K_ARN, &reason), 0);
	assert_int_equal(kms_answer_key_check(ANSWER(K_ARN), K_ID, &reason), 0);
	assert_int_equal(kms_answer_key_check(ANSWER(
	    "arn:aws:kms:eu-west-1:444455556666:key/" K_ID), K_ARN, &reason),
	    -1);
	assert_non_null(strstr(reason.text, "not the pinned key"));
	assert_int_equal(kms_answer_key_check(ANSWER(
	    "arn:aws:kms:eu-west-1:111122223333:key/"
	    "ffffffff-12ab-34cd-56ef-1234567890ab"), K_ID, &reason), -1);
	assert_non_null(strstr(reason.text, "not the pinned key"));
	/* A bare id or junk where KMS writes the ARN; no KeyId at all. */
	assert_int_equal(kms_answer_key_check(ANSWER(K_ID), K_ID, &reason), -1);
	assert_non_null(strstr(reason.text, "not a key ARN"));
	assert_int_equal(kms_answer_key_check(S("{\"CiphertextForRecipient\":"
	    "\"AA==\"}"), K_ID, &reason), -1);
	assert_non_null(strstr(reason.text, "no KeyId"));
	assert_int_equal(kms_answer_key_check(S("{\"KeyId\":7}"), K_ID,
	    &reason), -1);
	assert_int_equal(kms_answer_key_check(S("not json"), K_ID, &reason), -1);
#undef ANSWER
#undef K_ARN
#undef K_ID
}

static void
test_host_for_region(void **state)
{
	char host[NATIVE_HOST_MAX];

	(void)state;
	assert_int_equal(kms_host_for_region("ap-southeast-1", host,
	    sizeof(host)), 0);
	assert_string_equal(host, "kms.ap-southeast-1.amazonaws.com");
	assert_int_equal(kms_host_for_region("cn-north-1", host,
	    sizeof(host)), 0);
	assert_string_equal(host, "kms.cn-north-1.amazonaws.com.cn");
	assert_int_equal(kms_host_for_region("us-east-1", host, 10), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_and_message),
		cmocka_unit_test(test_without_json),
		cmocka_unit_test(test_redacted_printable_bounded),
		cmocka_unit_test(test_recipient_ciphertext),
		cmocka_unit_test(test_answer_key_check),
		cmocka_unit_test(test_host_for_region),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
