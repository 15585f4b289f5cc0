/*
 * native_internal.h - the pieces of the native KMS backend, one concept
 * per file:
 *
 *   native.c          the Decrypt call, start to end, and its deadline
 *   recipient_key.c   the ephemeral RSA-2048 key and its DER SPKI
 *   kms_request.c     the JSON body, the SigV4 signature, the HTTP bytes
 *   http_response.c   a bounded HTTP/1.1 response parser (Content-Length)
 *   kms_response.c    KMS's JSON answer: CiphertextForRecipient or error,
 *                     and whether an error is worth another attempt
 *   retry_backoff.c   how long to wait before the next attempt
 *   clock_offset.c    KMS's clock minus ours, kept for every later call
 *   kms_conn.c        socket (vsock-proxy or TCP) + TLS with deadlines
 *   ca_bundle.c       which CA bundle verifies KMS
 *   cms_unwrap.c      CMS EnvelopedData -> plaintext with the private key
 */
#ifndef ENCLAVE_KMS_NATIVE_INTERNAL_H
#define ENCLAVE_KMS_NATIVE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "common/buf.h"
#include "common/secret.h"
#include "enclave/kms/kms.h"
#include "enclave/kms/native/native.h"

/* The largest KMS answer accepted: a CMS envelope of a 4 KiB plaintext, or an error. */
#define NATIVE_HTTP_HEADERS_MAX (16 * 1024)
#define NATIVE_HTTP_BODY_MAX    (64 * 1024)
/* KMS plaintexts are at most 4096 bytes. */
#define NATIVE_PLAINTEXT_MAX    4096
#define NATIVE_HOST_MAX         96

/*
 * Return codes of the I/O steps: -1 failure, -2 the deadline passed, -3 a
 * transient failure another attempt may not meet (connection refused or
 * reset, the connection ended before a whole response).
 */
#define NATIVE_ERR      (-1)
#define NATIVE_TIMEOUT  (-2)
#define NATIVE_RETRY    (-3)

/* recipient_key.c */
EVP_PKEY *recipient_key_new(void);
/* DER SubjectPublicKeyInfo of `key`, appended to `out`. */
int  recipient_key_spki(EVP_PKEY *key, struct buf *out);

/* kms_request.c */
/* "kms.<region>.amazonaws.com" (".com.cn" for cn- regions). */
int  kms_host_for_region(const char *region, char *host, size_t size);
/*
 * The Decrypt JSON body with its Recipient, and KeyId and
 * EncryptionContext when given (key_id NULL, context->n 0: none).
 */
int  kms_decrypt_body(const char *ciphertext_b64, const char *key_id,
    const struct kms_context *context, const struct buf *att_doc,
    struct buf *body);
/*
 * The whole signed HTTP request (headers and body) into `out`, which then
 * holds the session token: the caller frees it with buf_free(out, 1).
 */
int  kms_http_request(const char *host, const char *region,
    const char *target, const struct buf *body,
    const struct kms_credentials *creds, time_t when, struct buf *out);

/* http_response.c */
struct http_response {
	int          status;		/* 200, 400, ... */
	size_t       header_len;	/* through the blank line */
	size_t       content_length;
	struct slice body;
	int          has_date;		/* one well-formed Date header came */
	time_t       date;		/* its time, when has_date */
};
/*
 * Parse what has arrived so far. 1: complete (out set; bytes past the
 * body are ignored); 0: more is needed; -1: malformed, chunked, without
 * Content-Length, or larger than the bounds, with a reason.
 */
int  http_response_parse(const uint8_t *data, size_t len, size_t body_max,
    struct http_response *out, struct reason *reason);

/* kms_response.c */
/*
 * A 200 answer to Decrypt with a Recipient: CiphertextForRecipient,
 * base64-decoded into `cms`. -1 with a reason otherwise.
 */
int  kms_recipient_ciphertext(const uint8_t *body, size_t len,
    struct buf *cms, struct reason *reason);
/*
 * A 200 answer's KeyId names the pinned key `pin` (a key ARN: equal; a
 * bare key id: the ARN's key/ID). -1 with a reason otherwise (F27).
 */
int  kms_answer_key_check(const uint8_t *body, size_t len, const char *pin,
    struct reason *reason);
/*
 * Any other status: "<Type>: <message>" from {"__type", "message" or
 * "Message"} with the __type's prefix up to '#' stripped; without JSON,
 * "KMS answered HTTP <status>". Printable ASCII, bounded by out_size
 * (a text writer like kmstool_failure_reason, not a failure: callers
 * put it into their struct reason), and every `redact` string
 * (NULL-terminated list) replaced.
 */
void kms_error_reason(int status, const uint8_t *body, size_t len,
    const char *const *redact, char *out, size_t out_size);

/* What an answer other than 200 calls for. */
enum kms_answer {
	KMS_ANSWER_PERMANENT,	/* AccessDenied, InvalidCiphertext, ...: final */
	KMS_ANSWER_TRANSIENT,	/* ThrottlingException, HTTP 429 or 5xx */
	KMS_ANSWER_CLOCK_SKEW,	/* signed too far from KMS's clock */
};
/*
 * Classify an error answer: InvalidSignatureException whose message says
 * "Signature expired" or "Signature not yet current" is clock skew;
 * ThrottlingException, 429 and every 5xx (KMSInternalException,
 * DependencyTimeoutException, KeyUnavailableException, a proxy's 502)
 * are transient; everything else is permanent.
 */
enum kms_answer kms_answer_classify(int status, const uint8_t *body,
    size_t len);

/* retry_backoff.c */
/* Transient failures are retried at most this often: 4 attempts in all. */
#define KMS_RETRIES_MAX      3
#define KMS_BACKOFF_BASE_MS  500
#define KMS_BACKOFF_CAP_MS   8000
/*
 * The wait before retry `retry` (1, 2, ...): exponential with jitter,
 * d = min(cap, base * 2^(retry-1)), then d/2 plus `random` mod (d/2 + 1).
 */
unsigned retry_backoff_ms(unsigned retry, uint32_t random);
/* retry_backoff_ms() with a random value from OpenSSL's generator. */
unsigned retry_backoff_next_ms(unsigned retry);

/* clock_offset.c */
/*
 * Map the offset where every process forked afterwards shares it (the
 * broker and its per-call children); before that, or without it, the
 * offset is this process's own. -1 when the shared page cannot be had.
 */
int    clock_offset_init(struct clock_offset *co);
/* The largest correction taken, either way: a day (clock_offset.c says why). */
#define CLOCK_OFFSET_MAX_S (24 * 3600)
/* KMS's clock minus ours in seconds, as last measured; 0 until then. */
long long clock_offset_get(const struct clock_offset *co);
/* -1 (the offset unchanged) beyond CLOCK_OFFSET_MAX_S either way. */
int    clock_offset_set(const struct clock_offset *co, long long seconds);
/*
 * Take KMS's clock from an answer's Date: the offset kept and 0, with
 * `skew` set; -1 with a reason, the kept offset untouched, when the Date
 * is more than CLOCK_OFFSET_MAX_S from our clock.
 */
int    clock_offset_correct(const struct clock_offset *co, time_t kms_date,
    long long *skew, struct reason *why);
/* Our clock corrected by the offset: the time to sign with. */
time_t clock_offset_now(const struct clock_offset *co);

/* ca_bundle.c: --kms-ca-file, else the first of the usual bundles. NULL: none. */
const char *ca_bundle_path(const char *configured);

/* kms_conn.c */
struct kms_conn {
	int       fd;
	SSL_CTX  *ctx;
	SSL      *ssl;
	long long deadline;	/* monotonic ms */
};
int  kms_conn_open(struct kms_conn *c, const struct kms_native_config *cfg,
    unsigned proxy_port, const char *host, long long deadline,
    struct reason *reason);
int  kms_conn_write(struct kms_conn *c, const uint8_t *p, size_t n,
    struct reason *reason);
/* One response, bounded, read until http_response_parse() says complete. */
int  kms_conn_read_response(struct kms_conn *c, struct buf *in,
    struct http_response *resp, struct reason *reason);
void kms_conn_close(struct kms_conn *c);

/*
 * cms_unwrap.c: open CiphertextForRecipient (BER, definite or indefinite,
 * content whole or chunked) with the recipient's key. 0 with the plaintext
 * in locked memory; otherwise the step that failed, with a reason.
 */
enum cms_unwrap_result {
	CMS_UNWRAP_OK      = 0,
	CMS_UNWRAP_NOT_CMS = -1,	/* not BER of a CMS ContentInfo */
	CMS_UNWRAP_SHAPE   = -2,	/* not one RSAES-OAEP key transport */
	CMS_UNWRAP_KEY     = -3,	/* our key does not open the CEK */
	CMS_UNWRAP_CONTENT = -4,	/* the content does not decrypt or fit */
};
int  cms_unwrap(const uint8_t *der, size_t len, EVP_PKEY *key,
    struct secret *plaintext, struct reason *reason);

#endif
