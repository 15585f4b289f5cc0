/*
 * fuzz_kms_native.c - the parsers of the native KMS backend
 * (src/enclave/kms/native/): what comes back from KMS over a TLS
 * connection the host's vsock-proxy carries. TLS authenticates KMS, but
 * these parsers must hold even against a KMS-shaped peer.
 *
 * Input: byte 0 (mod 8) picks the part; the rest is
 *   0: an HTTP/1.1 response (http_response_parse), fed whole and in
 *      growing prefixes: a prefix never completes where the whole does
 *      not, the complete result (Date header included) is the same from
 *      every prefix that has it, and the body lies inside the input;
 *   1: a 200 Decrypt answer body (kms_recipient_ciphertext), then its
 *      CMS opened with the harness's fixed recipient key (cms_unwrap);
 *   2: raw CMS for cms_unwrap;
 *   3, 5-7: an error answer (kms_error_reason): a printable, bounded
 *      reason that never contains a credential; and its class
 *      (kms_answer_classify) agrees with that reason: clock skew only for
 *      a 4xx "InvalidSignatureException: Signature expired|not yet
 *      current", transient only for 429, 5xx or ThrottlingException;
 *   4: an HTTP Date value (timefmt_parse_http_date): what is accepted is
 *      29 bytes and prints back to the same text (weekday aside, a leap
 *      second as :59).
 * The seeds (tests/fuzz/corpus/kms_native/) hold a real envelope to the
 * key below, so the fuzzer starts from a CMS that opens.
 */
#include "fuzz_common.h"

#include <openssl/pem.h>

#include "common/buf.h"
#include "common/timefmt.h"
#include "enclave/kms/native/native_internal.h"

/* A fixed RSA-2048 recipient key: test data, never a secret. */
static const char recipient_pem[] =
"-----BEGIN PRIVATE KEY-----\n"
"MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQClqr7bmMdqoKns\n"
"wxlxYctmUP50kAOZistLghejAKGrOkHXvBGasOCMTf/SfP0/SiOimVljzB60dSsk\n"
"goFNAvsfmB9eTIiHEQvrmRyhQBYOw30Tetetkut/cjozZ+d/BmDePy91P5lA2twv\n"
"7Z4ewa07nPy7os13Y26maydYc88xFYqt9lAPw7nJ9kqESGKvt6Uy98lZq6XeoJ9/\n"
"oFsUBJ8EZeVciZSSgr+xTlJlsN6C7k4obJk/Be2HiU73t6fLjHcAsOBHBlBG5ymr\n"
"kU0KZ9/dlmIWRsXJ/7647e+mH/QZ0jmotP7LogezfVAuJ6tz9YI52pNXs1eizh6P\n"
"RgNP2KIZAgMBAAECggEAHpJZ0jBpbHXlpbmDMnc3j9QWgPAqmeURCwgg0IXHT8/a\n"
"YrNkFEXbykiCkxdZrJpD5TejVVVPvUF6CqzCq7GHIhdygnZhI3uz1XBV5jPrXiIZ\n"
"LMUYlAFu0AAGWYItKDXHHnxOh7aK03sP8xBIg6h+DWg1A3NRs1x4COHxStNkQsxI\n"
"1VKq+LyxiOI8/LOkLVdIM43Qupt7Qp9hAhGSQpOqYV2hZIn+Q+CvWLPYYN8vj4dR\n"
"CEoQ9NYvZX6NTozH50DWtdLD76ElsGUIVyGxEa6IRTwwURWE6Ldy77QtL3Jkzu/W\n"
"qhL9jqFjfSuDVuAxWD0x0cwQUnHMYJDL0LIzahuWYQKBgQDUn5oi7BFaaxj5OwDi\n"
"83TY3k2Fxxzlk/Yx/7M7dchGLcnisbZFN1l+YZjOln2+trBwtliG5x3Ifok/cjW+\n"
"RPzNLIfqQUKhyrorslnUsM48tqfqbycGrSgZiMD9vWHJdv/6U55BJa2cQzIbjTfA\n"
"bcVxlV+gp5U4betSBL5FnijhPQKBgQDHds+o+2ahIDalrrNkc2ns6TfpOHbVqy0U\n"
"3KCzqR4OpT8cfPJ+b3Y8lTKtPX3g9R5l8S/xrxfEQ5fQlpvldfM8dpxUQICjJiK7\n"
"QAAMnt5j82ZpfGlTMhZEIcISjrSCPcvSJvNw8ffuU6dxXwgLW+eg5jqjd+To7OQ6\n"
"9jAa6MkaDQKBgBqXKyua4kCwjBr/Kgk38TD9/CvyzsZXTr7J/5w8CqPcLhdPqj/V\n"
"wDdx9S5A29Dx//bYlxGn7a2ZRYjNu7Lj5cmy+/xr1O1u8QFt+JYE1oX5Qd6rr/HB\n"
"zfYDiD8zY/tSCok/09bJ44BbVvTjIEnMcJjX2XG6A4tfE8LaHQGP2gTxAoGAfZ8z\n"
"W+6xjUrXf/OOIfaaQM4FG4onNZywMNJfF6esOXcTT2LV6pFSewdQOlFfBR37fiKv\n"
"mlw28LHNXF5uYs6tWWguPtW87oOnHh1Jqqkn0PVLi6YCQ5Zo9ZH5Q2zC/L/krT9A\n"
"1OJfzqa67yj1zQmd0PUO+0MYVSZU+1lvpJL1jMUCgYABR44jVDeE9SoGyKhPHz7t\n"
"7e5NwPYC7+ezRfportdv+aF5RmRuCKWfVHJtuGjOp3fWL1gvPHV4LKAHEgUUU93F\n"
"6Iq5BzS9NryUCT570DazVtNWzEjowotKWv0gfrVANP+DYSONOhl97Q/djXOA/dZ4\n"
"MZLV1WZbMzgy+FDq62X0vw==\n"
"-----END PRIVATE KEY-----\n"
;

static EVP_PKEY *recipient;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	BIO *b = BIO_new_mem_buf(recipient_pem, -1);

	(void)argc;
	(void)argv;
	FUZZ_CHECK(b != NULL);
	recipient = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	FUZZ_CHECK(recipient != NULL);
	BIO_free(b);
	return 0;
}

static void
check_reason(const char *reason, size_t size)
{
	size_t n = strnlen(reason, size);

	FUZZ_CHECK(n < size);
}

static void
http(const uint8_t *d, size_t n)
{
	struct http_response whole, part;
	struct reason reason;
	int rc, prc;
	size_t i, step;

	memset(reason.text, 'X', sizeof(reason.text));
	rc = http_response_parse(d, n, NATIVE_HTTP_BODY_MAX, &whole, &reason);
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	if (rc < 0)
		check_reason(reason.text, sizeof(reason.text));
	if (rc == 1) {
		FUZZ_CHECK(whole.header_len <= n);
		FUZZ_CHECK(whole.body.len == whole.content_length);
		FUZZ_CHECK(whole.body.len <= NATIVE_HTTP_BODY_MAX);
		FUZZ_CHECK(whole.body.len == 0 || (whole.body.data >= d &&
		    whole.body.data + whole.body.len <= d + n));
		/* A Date, if any, is 1970..9999 and came from the headers. */
		FUZZ_CHECK(whole.has_date == 0 || whole.has_date == 1);
		FUZZ_CHECK(whole.has_date ? whole.date >= 0 &&
		    whole.date <= 253402300799LL : whole.date == 0);
		FUZZ_CHECK(!whole.has_date || memmem(d, whole.header_len,
		    " GMT", 4) != NULL);
	}
	/* Prefixes, as the bytes arrive (every byte near the ends). */
	step = n > 256 ? n / 64 : 1;
	for (i = 0; i < n; i += (i < 64 || n - i < 64) ? 1 : step) {
		uint8_t *p = fuzz_dup(d, i);

		memset(reason.text, 'X', sizeof(reason.text));
		prc = http_response_parse(p, i, NATIVE_HTTP_BODY_MAX, &part,
		    &reason);
		if (prc < 0)
			check_reason(reason.text, sizeof(reason.text));
		/* Refusing early is fine; completing early only with the same
		 * response the whole input gives. */
		if (prc == 1) {
			FUZZ_CHECK(rc == 1);
			FUZZ_CHECK(part.status == whole.status);
			FUZZ_CHECK(part.header_len == whole.header_len);
			FUZZ_CHECK(part.body.len == whole.body.len);
			FUZZ_CHECK(part.body.len == 0 ||
			    memcmp(part.body.data, whole.body.data, part.body.len) == 0);
			FUZZ_CHECK(part.has_date == whole.has_date);
			FUZZ_CHECK(part.date == whole.date);
		}
		free(p);
	}
}

static void
unwrap(const uint8_t *der, size_t n)
{
	struct secret pt = SECRET_INIT;
	struct reason reason;

	memset(reason.text, 'X', sizeof(reason.text));
	if (cms_unwrap(der, n, recipient, &pt, &reason) == 0) {
		FUZZ_CHECK(pt.len >= 1 && pt.len <= NATIVE_PLAINTEXT_MAX);
		secret_free(&pt);
	} else {
		check_reason(reason.text, sizeof(reason.text));
		FUZZ_CHECK(pt.data == NULL);
	}
}

static void
answer(const uint8_t *d, size_t n)
{
	struct buf cms = BUF_INIT;
	struct reason reason;

	/* The pin check (F27) reads the same body: it must hold its bounds. */
	memset(reason.text, 'X', sizeof(reason.text));
	if (kms_answer_key_check(d, n, "1234abcd-12ab-34cd-56ef-1234567890ab",
	    &reason) < 0)
		check_reason(reason.text, sizeof(reason.text));
	memset(reason.text, 'X', sizeof(reason.text));
	if (kms_recipient_ciphertext(d, n, &cms, &reason) == 0)
		unwrap(cms.data, cms.len);
	else
		check_reason(reason.text, sizeof(reason.text));
	buf_free(&cms, 1);
}

static void classify(int status, const uint8_t *d, size_t n,
    const char *reason);

static void
error_reason(const uint8_t *d, size_t n)
{
	static const char *const redact[] = {
		"AKIAFUZZKEY", "fuzz+secret/KEY==", "fuzz+session/token=", NULL,
	};
	char reason[REASON_MAX];
	size_t i, len;
	int status = n ? 400 + d[0] % 200 : 500;

	memset(reason, 'X', sizeof(reason));
	kms_error_reason(status, d, n, redact, reason, sizeof(reason));
	len = strnlen(reason, sizeof(reason));
	FUZZ_CHECK(len < sizeof(reason));
	for (i = 0; i < len; i++)
		FUZZ_CHECK(reason[i] >= 0x20 && reason[i] < 0x7f);
	for (i = 0; redact[i] != NULL; i++)
		FUZZ_CHECK(strstr(reason, redact[i]) == NULL);
	classify(status, d, n, reason);
}

/* The class of an error answer agrees with what its reason says. */
static void
classify(int status, const uint8_t *d, size_t n, const char *reason)
{
	static const char skew[] = "InvalidSignatureException: Signature ";

	switch (kms_answer_classify(status, d, n)) {
	case KMS_ANSWER_CLOCK_SKEW:
		FUZZ_CHECK(status >= 400 && status < 500);
		FUZZ_CHECK(strncmp(reason, skew, sizeof(skew) - 1) == 0);
		FUZZ_CHECK(strncmp(reason + sizeof(skew) - 1, "expired", 7) ==
		    0 || strncmp(reason + sizeof(skew) - 1, "not yet current",
		    15) == 0);
		break;
	case KMS_ANSWER_TRANSIENT:
		FUZZ_CHECK(status == 429 || (status >= 500 && status < 600) ||
		    strncmp(reason, "ThrottlingException", 19) == 0);
		break;
	case KMS_ANSWER_PERMANENT:
		FUZZ_CHECK(status != 429 && (status < 500 || status >= 600));
		FUZZ_CHECK(strcmp(reason, "ThrottlingException") != 0 &&
		    strncmp(reason, "ThrottlingException: ", 21) != 0);
		break;
	default:
		FUZZ_CHECK(0);
	}
}

/* IMF-fixdate for t, as a server would print it. */
static void
http_date_format(time_t t, char out[30])
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec",
	};
	struct tm tm;

	FUZZ_CHECK(gmtime_r(&t, &tm) != NULL);
	snprintf(out, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
http_date(const uint8_t *d, size_t n)
{
	char back[30];
	time_t t = -7;

	if (timefmt_parse_http_date((const char *)d, n, &t) < 0) {
		FUZZ_CHECK(t == -7);
		return;
	}
	FUZZ_CHECK(n == 29 && t >= 0 && t <= 253402300799LL);
	http_date_format(t, back);
	if (memcmp(d + 23, "60", 2) == 0) {
		FUZZ_CHECK(memcmp(back + 5, d + 5, 18) == 0);
		FUZZ_CHECK(memcmp(back + 23, "59", 2) == 0);
	} else {
		FUZZ_CHECK(memcmp(back + 5, d + 5, 24) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 1 || size > NATIVE_HTTP_HEADERS_MAX + NATIVE_HTTP_BODY_MAX)
		return 0;
	copy = fuzz_dup(data + 1, size - 1);
	switch (data[0] % 8) {
	case 0:
		http(copy, size - 1);
		break;
	case 1:
		answer(copy, size - 1);
		break;
	case 2:
		unwrap(copy, size - 1);
		break;
	case 4:
		http_date(copy, size - 1);
		break;
	default:
		error_reason(copy, size - 1);
		break;
	}
	free(copy);
	return 0;
}
