/*
 * sigv4.h - AWS Signature Version 4 for requests signed in headers.
 *
 * The signer builds the canonical request, the string to sign, the
 * signature and the Authorization header value; the caller then adds to
 * its HTTP request the headers the signer signed but could not add itself:
 * `x-amz-date` (out->amz_date), `x-amz-security-token` (the session token),
 * `x-amz-content-sha256` (out->content_sha256, with SIGV4_SIGN_BODY_HASH)
 * and `authorization` (out->authorization).
 *
 * The verifier, the other side, is sigv4_verify.h: the tests run it; no
 * daemon does.
 *
 * OpenSSL does all hashing and HMAC. The secret key and every derived key
 * are wiped (OPENSSL_cleanse) before the functions return.
 */
#ifndef COMMON_SIGV4_H
#define COMMON_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/reason.h"

/* Upper bound for each text the signer builds (canonical request, ...). */
#define SIGV4_TEXT_MAX      (64 * 1024)
/* Upper bound for the number of headers in one request. */
#define SIGV4_HEADERS_MAX   64
#define SIGV4_AMZ_DATE_LEN  16	/* 20150830T123600Z */
#define SIGV4_HEX_LEN       64	/* SHA-256 / HMAC-SHA256 in hex */

struct sigv4_header {
	const char *name;	/* any case; lowercased for signing */
	const char *value;	/* trimmed, inner runs of blanks collapsed */
};

struct sigv4_request {
	const char *method;	/* "POST" */
	const char *path;	/* as on the request line, without '?': "/" */
	const char *query;	/* after '?'; NULL or "" for none */
	const struct sigv4_header *headers;
	size_t      nheaders;
	const uint8_t *body;
	size_t      body_len;
};

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* NULL or "" for long-term keys */
};

/* Sign x-amz-content-sha256 (kmstool does; the header must then be sent). */
#define SIGV4_SIGN_BODY_HASH     0x1
/* Leave the session token out of the signature (it is still sent). */
#define SIGV4_TOKEN_UNSIGNED     0x2
/*
 * The headers are exactly those to sign, x-amz-date among them (the
 * verifier's mode): nothing is added and `when` is not used.
 */
#define SIGV4_HEADERS_AS_GIVEN   0x4

struct sigv4_params {
	const char *region;	/* "us-east-1" */
	const char *service;	/* "kms" */
	time_t      when;	/* signing time, UTC */
	unsigned    flags;	/* SIGV4_* */
};

struct sigv4_signed {
	char  amz_date[SIGV4_AMZ_DATE_LEN + 1];
	char  content_sha256[SIGV4_HEX_LEN + 1];	/* of the body */
	char  signature[SIGV4_HEX_LEN + 1];
	char *canonical_request;
	char *string_to_sign;
	char *signed_headers;	/* "host;x-amz-date" */
	char *credential_scope;	/* "20150830/us-east-1/kms/aws4_request" */
	char *authorization;	/* the Authorization header's value */
};

/*
 * Sign `req`. On success every field of `out` is set and the caller frees
 * it with sigv4_signed_free(); on failure (bad input: CR/LF in a header,
 * an empty header name, a text past SIGV4_TEXT_MAX, ...) `out` holds
 * nothing to free.
 */
int  sigv4_sign(const struct sigv4_request *req,
    const struct sigv4_credentials *creds, const struct sigv4_params *params,
    struct sigv4_signed *out);
void sigv4_signed_free(struct sigv4_signed *s);

/* The value of the header called `name` (any case) in h[0..n), or NULL. */
const char *sigv4_header_find(const struct sigv4_header *h, size_t n,
    const char *name);
/* 1 when s has x-amz-date's shape, "20150830T123600Z"; else 0. */
int  sigv4_amz_date_valid(const char *s);

#endif
