/*
 * test_native_retry.c - when the native KMS backend asks again (issue
 * 14): which error answers are clock skew, transient or final; the HTTP
 * Date header KMS's clock is read from; the jittered backoff; and the
 * clock offset every later call (a fresh process) signs with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/timefmt.h"
#include "enclave/kms/native/native_internal.h"

#define S(x) (const uint8_t *)(x), strlen(x)

static int
http_date(const char *s, time_t *t)
{
	return timefmt_parse_http_date(s, strlen(s), t);
}

static void
test_http_date_accepted(void **state)
{
	time_t t;

	(void)state;
	/* RFC 9110's own example. */
	assert_int_equal(http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
	assert_int_equal((long long)t, 784111777LL);
	assert_int_equal(http_date("Thu, 01 Jan 2026 00:00:01 GMT", &t), 0);
	assert_int_equal((long long)t, 1767225601LL);
	assert_int_equal(http_date("Thu, 01 Jan 1970 00:00:00 GMT", &t), 0);
	assert_int_equal((long long)t, 0);
	assert_int_equal(http_date("Thu, 29 Feb 2024 23:59:59 GMT", &t), 0);
	assert_int_equal((long long)t, 1709251199LL);
	/* A leap second reads as the minute's last second. */
	assert_int_equal(http_date("Sat, 31 Dec 2016 23:59:60 GMT", &t), 0);
	assert_int_equal((long long)t, 1483228799LL);
	assert_int_equal(http_date("Fri, 31 Dec 9999 23:59:59 GMT", &t), 0);
	assert_int_equal((long long)t, 253402300799LL);
	/* Not NUL-terminated: exactly the 29 bytes given. */
	assert_int_equal(timefmt_parse_http_date("Sun, 06 Nov 1994 08:49:37 "
	    "GMTxyz", 29, &t), 0);
	assert_int_equal((long long)t, 784111777LL);
}

static void
test_http_date_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"Sun, 06 Nov 1994 08:49:37 GM",
		"Sun, 06 Nov 1994 08:49:37 GMT ",
		"Sun, 6 Nov 1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT",	/* RFC 850 */
		"Sun Nov  6 08:49:37 1994",		/* asctime */
		"sun, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 nov 1994 08:49:37 GMT",
		"Xyz, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nox 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"Sun, 06 Nov 1994 08:49:37 +000",
		"Sun; 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08-49-37 GMT",
		"Sun, 00 Nov 1994 08:49:37 GMT",
		"Sun, 31 Nov 1994 08:49:37 GMT",
		"Tue, 29 Feb 2023 08:49:37 GMT",
		"Sun, 31 Feb 2024 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT",
		"Sun, 06 Nov 1994 08:60:37 GMT",
		"Sun, 06 Nov 1994 08:49:61 GMT",
		"Wed, 31 Dec 1969 23:59:59 GMT",
		"Sun, 06 Nov 19a4 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:4 :37 GMT",
		"Sun, -6 Nov 1994 08:49:37 GMT",
	};
	time_t t = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (http_date(bad[i], &t) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal((long long)t, 42);
	}
}

static int
parse(const char *text, struct http_response *r)
{
	struct reason reason;

	return http_response_parse(S(text), NATIVE_HTTP_BODY_MAX, r, &reason);
}

static void
test_response_date_header(void **state)
{
	struct http_response r;

	(void)state;
	assert_int_equal(parse("HTTP/1.1 400 Bad Request\r\nContent-Length: 2"
	    "\r\nDate: Thu, 01 Jan 2026 00:00:01 GMT\r\n\r\n{}", &r), 1);
	assert_int_equal(r.has_date, 1);
	assert_int_equal((long long)r.date, 1767225601LL);
	/* Any case for the name, spaces around the value. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\ndate:   Sun, 06 Nov 1994 "
	    "08:49:37 GMT  \r\nContent-Length: 0\r\n\r\n", &r), 1);
	assert_int_equal(r.has_date, 1);
	assert_int_equal((long long)r.date, 784111777LL);
	/* None, unreadable or two: no date, and the answer still stands. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	    &r), 1);
	assert_int_equal(r.has_date, 0);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nDate: yesterday\r\n"
	    "Content-Length: 0\r\n\r\n", &r), 1);
	assert_int_equal(r.has_date, 0);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n"
	    "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "Content-Length: 0\r\n\r\n", &r), 1);
	assert_int_equal(r.has_date, 0);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nDate: x\r\n"
	    "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "Content-Length: 0\r\n\r\n", &r), 1);
	assert_int_equal(r.has_date, 0);
	/* Only a header named Date counts. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nX-Date: Sun, 06 Nov 1994 "
	    "08:49:37 GMT\r\nContent-Length: 0\r\n\r\n", &r), 1);
	assert_int_equal(r.has_date, 0);
}

static enum kms_answer
classify(int status, const char *body)
{
	return kms_answer_classify(status, S(body));
}

static void
test_clock_skew_answers(void **state)
{
	(void)state;
	/* KMS's words, as AWS SDK users quote them. */
	assert_int_equal(classify(400, "{\"__type\":\"InvalidSignatureException"
	    "\",\"message\":\"Signature expired: 20240820T230143Z is now "
	    "earlier than 20240820T230302Z (20240820T230802Z - 5 min.)\"}"),
	    KMS_ANSWER_CLOCK_SKEW);
	assert_int_equal(classify(400, "{\"__type\":\"InvalidSignatureException"
	    "\",\"message\":\"Signature not yet current: 20181002T170509Z is "
	    "still later than 20181002T170312Z (20181002T165812Z + 5 min.)\"}"),
	    KMS_ANSWER_CLOCK_SKEW);
	assert_int_equal(classify(400, "{\"__type\":\"com.amazon.coral.service#"
	    "InvalidSignatureException\",\"Message\":\"Signature expired: "
	    "x\"}"), KMS_ANSWER_CLOCK_SKEW);
	assert_int_equal(classify(403, "{\"__type\":\"InvalidSignatureException"
	    "\",\"message\":\"Signature expired: x\"}"), KMS_ANSWER_CLOCK_SKEW);
	/* A wrong secret is another InvalidSignatureException: final. */
	assert_int_equal(classify(400, "{\"__type\":\"InvalidSignatureException"
	    "\",\"message\":\"The request signature we calculated does not "
	    "match the signature you provided.\"}"), KMS_ANSWER_PERMANENT);
	assert_int_equal(classify(400, "{\"__type\":\"InvalidSignatureException"
	    "\"}"), KMS_ANSWER_PERMANENT);
	/* The words alone, under another type, are not skew. */
	assert_int_equal(classify(400, "{\"__type\":\"AccessDeniedException\","
	    "\"message\":\"Signature expired: x\"}"), KMS_ANSWER_PERMANENT);
	assert_int_equal(classify(400, "{\"__type\":\"InvalidSignatureException"
	    "\",\"message\":\"signature expired\"}"), KMS_ANSWER_PERMANENT);
}

static void
test_transient_answers(void **state)
{
	static const char *const types_500[] = {
		"KMSInternalException", "DependencyTimeoutException",
		"KeyUnavailableException",
	};
	char body[128];
	size_t i;

	(void)state;
	assert_int_equal(classify(400, "{\"__type\":\"ThrottlingException\","
	    "\"message\":\"Rate exceeded\"}"), KMS_ANSWER_TRANSIENT);
	assert_int_equal(classify(400, "{\"__type\":\"aws#ThrottlingException\""
	    "}"), KMS_ANSWER_TRANSIENT);
	for (i = 0; i < sizeof(types_500) / sizeof(types_500[0]); i++) {
		snprintf(body, sizeof(body), "{\"__type\":\"%s\",\"message\":"
		    "\"x\"}", types_500[i]);
		assert_int_equal(classify(500, body), KMS_ANSWER_TRANSIENT);
	}
	/* A proxy's or load balancer's answer, without KMS's JSON. */
	assert_int_equal(classify(502, "<html>Bad Gateway</html>"),
	    KMS_ANSWER_TRANSIENT);
	assert_int_equal(classify(503, ""), KMS_ANSWER_TRANSIENT);
	assert_int_equal(classify(504, "{}"), KMS_ANSWER_TRANSIENT);
	assert_int_equal(classify(429, ""), KMS_ANSWER_TRANSIENT);
}

static void
test_permanent_answers(void **state)
{
	static const char *const types[] = {
		"AccessDeniedException", "InvalidCiphertextException",
		"IncorrectKeyException", "NotFoundException",
		"DisabledException", "KMSInvalidStateException",
		"ValidationException", "UnrecognizedClientException",
		"InvalidKeyUsageException", "LimitExceededException",
	};
	char body[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(body, sizeof(body), "{\"__type\":\"%s\",\"message\":"
		    "\"x\"}", types[i]);
		if (classify(400, body) != KMS_ANSWER_PERMANENT)
			fail_msg("%s is not final", types[i]);
	}
	assert_int_equal(classify(400, "not json"), KMS_ANSWER_PERMANENT);
	assert_int_equal(classify(404, ""), KMS_ANSWER_PERMANENT);
	assert_int_equal(classify(400, "{\"__type\":5}"), KMS_ANSWER_PERMANENT);
}

static void
test_backoff_grows_with_jitter(void **state)
{
	static const uint32_t randoms[] = { 1, 7, 12345, 0x7fffffff,
	    UINT32_MAX };
	unsigned retry, lo, hi, prev_hi = 0, w;
	size_t i;

	(void)state;
	for (retry = 1; retry <= 8; retry++) {
		/* Half fixed (random 0), half random (up to twice that). */
		lo = retry_backoff_ms(retry, 0);
		hi = retry_backoff_ms(retry, lo);
		assert_true(lo >= 1 && hi == 2 * lo && hi <= KMS_BACKOFF_CAP_MS);
		for (i = 0; i < sizeof(randoms) / sizeof(randoms[0]); i++) {
			w = retry_backoff_ms(retry, randoms[i]);
			assert_true(w >= lo && w <= hi);
		}
		assert_true(hi >= prev_hi);
		prev_hi = hi;
	}
	assert_int_equal(retry_backoff_ms(1, 0), KMS_BACKOFF_BASE_MS / 2);
	assert_int_equal(retry_backoff_ms(1, KMS_BACKOFF_BASE_MS / 2),
	    KMS_BACKOFF_BASE_MS);
	assert_int_equal(retry_backoff_ms(2, 0), KMS_BACKOFF_BASE_MS);
	assert_int_equal(retry_backoff_ms(3, 0), KMS_BACKOFF_BASE_MS * 2);
	assert_int_equal(retry_backoff_ms(3, KMS_BACKOFF_BASE_MS * 2),
	    KMS_BACKOFF_BASE_MS * 4);
	assert_int_equal(retry_backoff_ms(1000000, UINT32_MAX) <=
	    KMS_BACKOFF_CAP_MS, 1);
	assert_int_equal(retry_backoff_ms(1000000, 0), KMS_BACKOFF_CAP_MS / 2);
	/* With the real generator, two waits of one retry differ sometimes. */
	for (lo = retry_backoff_next_ms(3), hi = 0, retry = 0; retry < 64;
	    retry++)
		if (retry_backoff_next_ms(3) != lo)
			hi = 1;
	assert_int_equal(hi, 1);
}

/* The offset as the native backend's configuration holds it. */
static struct clock_offset offset;

static void
test_offset_shared_with_children(void **state)
{
	pid_t pid;
	int status;
	time_t before, now;

	(void)state;
	assert_int_equal(clock_offset_init(&offset), 0);
	assert_int_equal(clock_offset_init(&offset), 0);	/* idempotent */
	clock_offset_set(&offset, 0);
	/* A child (as the broker's per-call children) measures a skew... */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		clock_offset_set(&offset, -754);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* ... and the parent, and every later child, sign with it. */
	assert_int_equal(clock_offset_get(&offset), -754);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(clock_offset_get(&offset) == -754 ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	before = time(NULL);
	now = clock_offset_now(&offset);
	assert_true(now >= before - 754 && now <= time(NULL) - 754);
	clock_offset_set(&offset, 3600);
	assert_true(clock_offset_now(&offset) >= time(NULL) + 3599);
	clock_offset_set(&offset, 0);
}

/*
 * F31: a Date far from our clock never becomes the offset. Before the
 * bound, `Fri, 31 Dec 9999 23:59:59 GMT` left an offset after which no
 * request could be signed. Within the bound the correction is taken.
 */
static void
test_offset_bounded(void **state)
{
	static const char *const far[] = {
		"Fri, 31 Dec 9999 23:59:59 GMT",
		"Thu, 01 Jan 1970 00:00:00 GMT",
	};
	struct kms_credentials creds;
	struct buf body = BUF_INIT, http = BUF_INIT;
	struct reason why;
	long long skew = 12345;
	time_t t;
	size_t i;

	(void)state;
	memset(&creds, 0, sizeof(creds));
	assert_int_equal(clock_offset_init(&offset), 0);
	assert_int_equal(clock_offset_set(&offset, -754), 0);
	for (i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
		assert_int_equal(http_date(far[i], &t), 0);
		assert_int_equal(clock_offset_correct(&offset, t, &skew, &why), -1);
		assert_non_null(strstr(why.text, "ignored"));
		assert_int_equal(skew, 12345);
		assert_int_equal(clock_offset_get(&offset), -754);
	}
	/* The edges: a day either way is taken, a second more is not. */
	assert_int_equal(clock_offset_set(&offset, CLOCK_OFFSET_MAX_S + 1), -1);
	assert_int_equal(clock_offset_set(&offset, -CLOCK_OFFSET_MAX_S - 1), -1);
	assert_int_equal(clock_offset_get(&offset), -754);
	assert_int_equal(clock_offset_correct(&offset, time(NULL) + 600, &skew, &why),
	    0);
	assert_true(skew >= 599 && skew <= 600);
	assert_true(clock_offset_get(&offset) == skew);
	assert_int_equal(clock_offset_correct(&offset, time(NULL) -
	    CLOCK_OFFSET_MAX_S + 5, &skew, &why), 0);
	/* Whatever was offered, a request can still be signed. */
	assert_int_equal(buf_append_str(&body, "{}", 16), 0);
	assert_int_equal(secret_dup(&creds.access_key_id,
	    "AKIDEXAMPLE", 12), 0);
	assert_int_equal(secret_dup(&creds.secret_access_key,
	    "wJalrXUtnFEMI", 14), 0);
	assert_int_equal(secret_dup(&creds.session_token,
	    "", 1), 0);
	assert_int_equal(kms_http_request("kms.us-east-1.amazonaws.com",
	    "us-east-1", "TrentService.Decrypt", &body, &creds,
	    clock_offset_now(&offset), &http), 0);
	kms_credentials_free(&creds);
	buf_free(&body, 0);
	buf_free(&http, 1);
	assert_int_equal(clock_offset_set(&offset, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_date_accepted),
		cmocka_unit_test(test_http_date_refused),
		cmocka_unit_test(test_response_date_header),
		cmocka_unit_test(test_clock_skew_answers),
		cmocka_unit_test(test_transient_answers),
		cmocka_unit_test(test_permanent_answers),
		cmocka_unit_test(test_backoff_grows_with_jitter),
		cmocka_unit_test(test_offset_shared_with_children),
		cmocka_unit_test(test_offset_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
