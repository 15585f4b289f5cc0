/*
 * sigv4_verify.c - checking a SigV4-signed request as KMS would (see
 * sigv4_verify.h): the signature is recomputed with sigv4_sign over the
 * headers SignedHeaders names and compared in constant time.
 */
#include "verify/sigv4_verify.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/reason.h"
#include "common/timefmt.h"

/* Is `name` one of the ';'-separated names in `list`? (exact, lowercase) */
static int
list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p != '\0') {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncasecmp(p, name, n) == 0)
			return 1;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

/*
 * Split "AWS4-HMAC-SHA256 Credential=A/d/r/s/aws4_request,
 * SignedHeaders=a;b, Signature=hex" into its three values (copied into
 * the caller's arrays, bounded).
 */
static int
parse_authorization(const char *auth, char *cred, size_t credsz,
    char *signed_hdrs, size_t shsz, char *sig, size_t sigsz)
{
	static const char scheme[] = "AWS4-HMAC-SHA256 ";
	const char *p;
	int got = 0;

	if (strncmp(auth, scheme, sizeof(scheme) - 1) != 0)
		return -1;
	p = auth + sizeof(scheme) - 1;
	while (*p != '\0') {
		const char *end, *eq;
		char *dst;
		size_t dstsz, len;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		while (len > 0 && p[len - 1] == ' ')
			len--;
		eq = memchr(p, '=', len);
		if (eq == NULL)
			return -1;
		if ((size_t)(eq - p) == 10 &&
		    strncmp(p, "Credential", 10) == 0) {
			dst = cred;
			dstsz = credsz;
			got |= 1;
		} else if ((size_t)(eq - p) == 13 &&
		    strncmp(p, "SignedHeaders", 13) == 0) {
			dst = signed_hdrs;
			dstsz = shsz;
			got |= 2;
		} else if ((size_t)(eq - p) == 9 &&
		    strncmp(p, "Signature", 9) == 0) {
			dst = sig;
			dstsz = sigsz;
			got |= 4;
		} else {
			return -1;
		}
		len -= (size_t)(eq - p) + 1;
		if (len + 1 > dstsz)
			return -1;
		memcpy(dst, eq + 1, len);
		dst[len] = '\0';
		if (end == NULL)
			break;
		p = end + 1;
	}
	return got == 7 ? 0 : -1;
}

int
sigv4_verify(const struct sigv4_request *req,
    const struct sigv4_credentials *creds, const char *region,
    const char *service, time_t now, long max_skew_s,
    struct reason *reason)
{
	char cred[512], shdrs[2048], sig[SIGV4_HEX_LEN + 2], scope[256];
	struct sigv4_header picked[SIGV4_HEADERS_MAX];
	struct sigv4_request sreq;
	struct sigv4_params params;
	struct sigv4_signed out;
	const char *auth, *amz_date, *token, *hash, *p;
	char iso[TIMEFMT_RFC3339_LEN + 1];
	size_t npicked = 0, i, akid_len;
	time_t t;
	int ok;

	if (req->nheaders > SIGV4_HEADERS_MAX)
		return reason_fail(reason, "too many headers");
	auth = sigv4_header_find(req->headers, req->nheaders, "authorization");
	if (auth == NULL)
		return reason_fail(reason, "missing Authorization header");
	if (parse_authorization(auth, cred, sizeof(cred), shdrs, sizeof(shdrs),
	    sig, sizeof(sig)) < 0)
		return reason_fail(reason, "malformed Authorization header");

	/* Credential = AKID/scope; compare the AKID, then the scope. */
	if ((p = strchr(cred, '/')) == NULL)
		return reason_fail(reason, "malformed Credential");
	akid_len = (size_t)(p - cred);
	if (akid_len != strlen(creds->access_key_id) ||
	    memcmp(cred, creds->access_key_id, akid_len) != 0)
		return reason_fail(reason, "unknown access key id");
	amz_date = sigv4_header_find(req->headers, req->nheaders, "x-amz-date");
	if (amz_date == NULL || !sigv4_amz_date_valid(amz_date))
		return reason_fail(reason, "missing or malformed x-amz-date");
	if ((size_t)snprintf(scope, sizeof(scope), "%.8s/%s/%s/aws4_request",
	    amz_date, region, service) >= sizeof(scope) ||
	    strcmp(p + 1, scope) != 0)
		return reason_fail(reason,
		    "credential scope does not match (want %s)", scope);
	if (!list_has(shdrs, "host") || !list_has(shdrs, "x-amz-date"))
		return reason_fail(reason,
		    "host and x-amz-date must be signed");

	if (max_skew_s > 0) {
		snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ",
		    amz_date, amz_date + 4, amz_date + 6, amz_date + 9,
		    amz_date + 11, amz_date + 13);
		if (timefmt_parse_rfc3339(iso, &t) < 0)
			return reason_fail(reason, "malformed x-amz-date");
		if ((t > now ? t - now : now - t) > max_skew_s)
			return reason_fail(reason,
			    "signature expired or not yet valid (clock skew)");
	}
	if (creds->session_token != NULL && creds->session_token[0] != '\0') {
		token = sigv4_header_find(req->headers, req->nheaders,
		    "x-amz-security-token");
		if (token == NULL || strcmp(token, creds->session_token) != 0)
			return reason_fail(reason,
			    "security token missing or invalid");
	}

	/* Every header SignedHeaders names, in received order. */
	for (i = 0; i < req->nheaders; i++)
		if (req->headers[i].name != NULL &&
		    list_has(shdrs, req->headers[i].name))
			picked[npicked++] = req->headers[i];
	sreq = *req;
	sreq.headers = picked;
	sreq.nheaders = npicked;
	memset(&params, 0, sizeof(params));
	params.region = region;
	params.service = service;
	params.flags = SIGV4_HEADERS_AS_GIVEN;
	if (sigv4_sign(&sreq, creds, &params, &out) < 0)
		return reason_fail(reason, "request cannot be canonicalized");
	if (strcmp(out.signed_headers, shdrs) != 0) {
		sigv4_signed_free(&out);
		return reason_fail(reason, "a signed header is missing");
	}
	hash = sigv4_header_find(req->headers, req->nheaders,
	    "x-amz-content-sha256");
	if (hash != NULL && strcmp(hash, out.content_sha256) != 0) {
		sigv4_signed_free(&out);
		return reason_fail(reason,
		    "x-amz-content-sha256 does not match the body");
	}
	ok = strlen(sig) == SIGV4_HEX_LEN &&
	    CRYPTO_memcmp(sig, out.signature, SIGV4_HEX_LEN) == 0;
	sigv4_signed_free(&out);
	if (!ok)
		return reason_fail(reason, "signature does not match");
	reason_clear(reason);
	return 0;
}
