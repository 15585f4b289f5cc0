/*
 * native_internal.h - the pieces of the native KMS backend, one concept
 * per file:
 *
 *   native.c          the Decrypt call, start to end, and its deadline
 *   recipient_key.c   the ephemeral RSA-2048 key and its DER SPKI
 *   kms_request.c     the JSON body, the SigV4 signature, the HTTP bytes
 *   http_response.c   a bounded HTTP/1.1 response parser (Content-Length)
 *   kms_response.c    KMS's JSON answer: CiphertextForRecipient or error
 *   kms_conn.c        socket (vsock-proxy or TCP) + TLS with deadlines
 *   ca_bundle.c       which CA bundle verifies KMS
 *   cms_unwrap.c      CMS EnvelopedData -> plaintext with the private key
 */
#ifndef ENCLAVE_KMS_NATIVE_INTERNAL_H
#define ENCLAVE_KMS_NATIVE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

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

/* Return codes of the I/O steps: -1 failure, -2 the deadline passed. */
#define NATIVE_ERR      (-1)
#define NATIVE_TIMEOUT  (-2)

/* recipient_key.c */
EVP_PKEY *recipient_key_new(void);
/* DER SubjectPublicKeyInfo of `key`, appended to `out`. */
int  recipient_key_spki(EVP_PKEY *key, struct buf *out);

/* kms_request.c */
/* "kms.<region>.amazonaws.com" (".com.cn" for cn- regions). */
int  kms_host_for_region(const char *region, char *host, size_t size);
/* The Decrypt JSON body with its Recipient. */
int  kms_decrypt_body(const char *ciphertext_b64, const struct buf *att_doc,
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
};
/*
 * Parse what has arrived so far. 1: complete (out set; bytes past the
 * body are ignored); 0: more is needed; -1: malformed, chunked, without
 * Content-Length, or larger than the bounds, with a reason.
 */
int  http_response_parse(const uint8_t *data, size_t len, size_t body_max,
    struct http_response *out, char *reason, size_t reason_len);

/* kms_response.c */
/*
 * A 200 answer to Decrypt with a Recipient: CiphertextForRecipient,
 * base64-decoded into `cms`. -1 with a reason otherwise.
 */
int  kms_recipient_ciphertext(const uint8_t *body, size_t len,
    struct buf *cms, char *reason, size_t reason_len);
/*
 * Any other status: "<Type>: <message>" from {"__type", "message" or
 * "Message"} with the __type's prefix up to '#' stripped; without JSON,
 * "KMS answered HTTP <status>". Printable ASCII, bounded, and every
 * `redact` string (NULL-terminated list) replaced.
 */
void kms_error_reason(int status, const uint8_t *body, size_t len,
    const char *const *redact, char *reason, size_t reason_len);

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
    unsigned proxy_port, const char *host, long long deadline, char *reason,
    size_t reason_len);
int  kms_conn_write(struct kms_conn *c, const uint8_t *p, size_t n,
    char *reason, size_t reason_len);
/* One response, bounded, read until http_response_parse() says complete. */
int  kms_conn_read_response(struct kms_conn *c, struct buf *in,
    struct http_response *resp, char *reason, size_t reason_len);
void kms_conn_close(struct kms_conn *c);

/* cms_unwrap.c: open CiphertextForRecipient with the recipient's key. */
int  cms_unwrap(const uint8_t *der, size_t len, EVP_PKEY *key,
    struct secret *plaintext, char *reason, size_t reason_len);

#endif
