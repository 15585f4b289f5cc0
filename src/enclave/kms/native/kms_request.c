/*
 * kms_request.c - the bytes of one KMS call: JSON body, SigV4, HTTP/1.1.
 *
 * Signed headers are kmstool's (reference section 4): content-length,
 * content-type, host, x-amz-content-sha256, x-amz-date,
 * x-amz-security-token, x-amz-target. common/sigv4.c signs; this file
 * only lays the request out around its result.
 */
#include "enclave/kms/native/native_internal.h"

#include <stdio.h>
#include <string.h>

#include <cJSON.h>
#include <openssl/crypto.h>

#include "common/base64.h"
#include "common/guard.h"
#include "common/sigv4.h"

/* The whole request, headers and a Decrypt body with a ~5 KB document. */
#define REQUEST_MAX (64 * 1024)

int
kms_host_for_region(const char *region, char *host, size_t size)
{
	int n;

	n = snprintf(host, size, "kms.%s.amazonaws.com%s", region,
	    strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* {"KEY":"VALUE",...} for the body's EncryptionContext. */
static cJSON *
context_object(const struct kms_context *context)
{
	cJSON *ec = cJSON_CreateObject();
	size_t i;

	for (i = 0; ec != NULL && i < context->n; i++)
		if (!cJSON_AddStringToObject(ec, context->pair[i].key,
		    context->pair[i].value)) {
			cJSON_Delete(ec);
			ec = NULL;
		}
	return ec;
}

int
kms_decrypt_body(const char *ciphertext_b64, const char *key_id,
    const struct kms_context *context, const struct buf *att_doc,
    struct buf *body)
{
	cJSON *o = cJSON_CreateObject(), *r = NULL, *ec;
	char *doc_b64 = NULL, *text = NULL;
	int rc = -1;

	if (o == NULL || (r = cJSON_CreateObject()) == NULL)
		goto out;
	if ((doc_b64 = OPENSSL_malloc(base64_encoded_len(att_doc->len) + 1)) ==
	    NULL)
		goto out;
	base64_encode(doc_b64, att_doc->data, att_doc->len);
	if (!cJSON_AddStringToObject(r, "KeyEncryptionAlgorithm",
	    "RSAES_OAEP_SHA_256") ||
	    !cJSON_AddStringToObject(r, "AttestationDocument", doc_b64) ||
	    !cJSON_AddStringToObject(o, "CiphertextBlob", ciphertext_b64))
		goto out;
	cJSON_AddItemToObject(o, "Recipient", r);
	r = NULL;
	/* The pinned key: KMS refuses a blob of any other (F27). */
	if (key_id != NULL && !cJSON_AddStringToObject(o, "KeyId", key_id))
		goto out;
	/* KMS compares it as given: sent only when the configure had one. */
	if (context->n > 0) {
		if ((ec = context_object(context)) == NULL)
			goto out;
		cJSON_AddItemToObject(o, "EncryptionContext", ec);
	}
	if ((text = cJSON_PrintUnformatted(o)) == NULL)
		goto out;
	rc = buf_append_str(body, text, REQUEST_MAX);
out:
	cJSON_free(text);
	OPENSSL_free(doc_b64);
	cJSON_Delete(r);
	cJSON_Delete(o);
	return rc;
}

static int
append_header(struct buf *out, const char *name, const char *value)
{
	GUARD(buf_append_str(out, name, REQUEST_MAX));
	GUARD(buf_append_str(out, ": ", REQUEST_MAX));
	GUARD(buf_append_str(out, value, REQUEST_MAX));
	return buf_append_str(out, "\r\n", REQUEST_MAX);
}

int
kms_http_request(const char *host, const char *region, const char *target,
    const struct buf *body, const struct kms_credentials *creds, time_t when,
    struct buf *out)
{
	char length[24];
	const struct sigv4_header headers[] = {
		{ "host", host },
		{ "content-type", "application/x-amz-json-1.1" },
		{ "content-length", length },
		{ "x-amz-target", target },
	};
	const struct sigv4_request req = {
		.method = "POST", .path = "/", .query = NULL,
		.headers = headers, .nheaders = ARRAY_LEN(headers),
		.body = body->data, .body_len = body->len,
	};
	const struct sigv4_credentials sc = {
		.access_key_id = (const char *)creds->access_key_id.data,
		.secret_access_key = (const char *)creds->secret_access_key.data,
		.session_token = (const char *)creds->session_token.data,
	};
	const struct sigv4_params params = {
		.region = region, .service = "kms", .when = when,
		.flags = SIGV4_SIGN_BODY_HASH,
	};
	struct sigv4_signed s;
	int rc = -1;

	snprintf(length, sizeof(length), "%zu", body->len);
	if (sigv4_sign(&req, &sc, &params, &s) < 0)
		return -1;
	/*
	 * The request carries the session token: size it once so no
	 * realloc leaves a copy behind in freed memory (the caller wipes
	 * this buffer). Headers other than these fit in 1 KiB.
	 */
	if (buf_reserve(out, body->len + strlen(s.authorization) +
	    (sc.session_token ? strlen(sc.session_token) : 0) + strlen(host) +
	    strlen(target) + 1024, REQUEST_MAX) < 0)
		goto done;
	GUARD_GOTO(buf_append_str(out, "POST / HTTP/1.1\r\n", REQUEST_MAX), done);
	GUARD_GOTO(append_header(out, "Host", host), done);
	GUARD_GOTO(append_header(out, "Content-Type",
	    "application/x-amz-json-1.1"), done);
	GUARD_GOTO(append_header(out, "Content-Length", length), done);
	GUARD_GOTO(append_header(out, "X-Amz-Target", target), done);
	GUARD_GOTO(append_header(out, "X-Amz-Date", s.amz_date), done);
	if (sc.session_token != NULL && sc.session_token[0] != '\0')
		GUARD_GOTO(append_header(out, "X-Amz-Security-Token",
		    sc.session_token), done);
	GUARD_GOTO(append_header(out, "X-Amz-Content-Sha256",
	    s.content_sha256), done);
	GUARD_GOTO(append_header(out, "Authorization", s.authorization), done);
	/* One request per connection: the reader stops at Content-Length. */
	GUARD_GOTO(append_header(out, "Connection", "close"), done);
	GUARD_GOTO(buf_append_str(out, "\r\n", REQUEST_MAX), done);
	GUARD_GOTO(buf_append(out, body->data, body->len, REQUEST_MAX), done);
	rc = 0;
done:
	/* The canonical request holds the signed session token. */
	if (s.canonical_request != NULL)
		OPENSSL_cleanse(s.canonical_request, strlen(s.canonical_request));
	sigv4_signed_free(&s);
	return rc;
}
