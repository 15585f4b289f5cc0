/*
 * sigv4.c - AWS Signature Version 4, header signing (see sigv4.h).
 *
 * The algorithm follows the AWS signing test suite (tests/vectors/sigv4)
 * and aws-c-auth: path normalized (dot segments and empty segments removed)
 * and URI-encoded once more, query parameters decoded, re-encoded and
 * sorted, header names lowercased and sorted, values trimmed.
 */
#include "common/sigv4.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/buf.h"
#include "common/guard.h"
#include "common/hex.h"
#include "common/reason.h"
#include "common/timefmt.h"

#define SHA256_LEN 32

struct canon_header {
	char   *name;		/* lowercased, owned */
	char   *value;		/* trimmed, owned */
	size_t  order;		/* input position: repeats keep their order */
};

/* The buf's text as a C string the caller frees, or NULL; b is left empty. */
static char *
buf_take_str(struct buf *b)
{
	if (buf_append(b, "", 1, SIGV4_TEXT_MAX + 1) < 0) {
		buf_free(b, 0);
		return NULL;
	}
	return buf_release(b);
}

static int
sha256_hex(const void *data, size_t n, char out[SIGV4_HEX_LEN + 1])
{
	uint8_t md[SHA256_LEN];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != SHA256_LEN)
		return -1;
	hex_encode(out, md, SHA256_LEN);
	out[SIGV4_HEX_LEN] = '\0';
	return 0;
}

static int
hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t n,
    uint8_t out[SHA256_LEN])
{
	unsigned int outlen = 0;

	if (keylen > INT32_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &outlen) ==
	    NULL || outlen != SHA256_LEN)
		return -1;
	return 0;
}

/* RFC 3986 unreserved characters: the only ones SigV4 leaves unencoded. */
static int
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~';
}

static int
uri_encode(struct buf *b, const char *s, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	char pct[3];
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c)) {
			GUARD(buf_append(b, &s[i], 1, SIGV4_TEXT_MAX));
			continue;
		}
		pct[0] = '%';
		pct[1] = digits[c >> 4];
		pct[2] = digits[c & 0x0f];
		GUARD(buf_append(b, pct, 3, SIGV4_TEXT_MAX));
	}
	return 0;
}

/*
 * Decode %XX then encode canonically, so a parameter written raw and the
 * same parameter already percent-encoded sign the same way. A '%' that
 * starts no valid escape stays a literal '%'.
 */
static char *
query_component(const char *s, size_t n)
{
	struct buf raw = BUF_INIT, enc = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];
		uint8_t byte;

		if (c == '%' && i + 2 < n && hex_decode(&byte, s + i + 1, 2) == 0) {
			c = (char)byte;
			i += 2;
		}
		GUARD_GOTO(buf_append(&raw, &c, 1, SIGV4_TEXT_MAX), fail);
	}
	GUARD_GOTO(uri_encode(&enc, raw.data ? (char *)raw.data : "",
	    raw.len), fail);
	buf_free(&raw, 0);
	return buf_take_str(&enc);
fail:
	buf_free(&raw, 0);
	buf_free(&enc, 0);
	return NULL;
}

struct query_param {
	char *name;
	char *value;
};

static int
query_param_cmp(const void *a, const void *b)
{
	const struct query_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

/* The canonical query string: encoded name=value pairs sorted, '&'-joined. */
static int
canonical_query(struct buf *b, const char *query)
{
	struct query_param *params = NULL;
	size_t nparams = 0, cap = 0, i;
	const char *p = query ? query : "";
	int rc = -1;

	while (*p != '\0') {
		const char *end = strchr(p, '&');
		const char *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > 0) {
			if (nparams == cap) {
				struct query_param *np;
				size_t ncap = cap ? cap * 2 : 8, bytes;

				GUARD_GOTO(size_mul(ncap, sizeof(*np), &bytes),
				    out);
				if (bytes > SIGV4_TEXT_MAX * sizeof(*np))
					goto out;
				np = realloc(params, bytes);
				if (np == NULL)
					goto out;
				params = np;
				cap = ncap;
			}
			eq = memchr(p, '=', len);
			params[nparams].name = query_component(p,
			    eq ? (size_t)(eq - p) : len);
			params[nparams].value = eq ? query_component(eq + 1,
			    len - (size_t)(eq - p) - 1) :
			    query_component("", 0);
			nparams++;
			if (params[nparams - 1].name == NULL ||
			    params[nparams - 1].value == NULL)
				goto out;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	if (nparams > 0)
		qsort(params, nparams, sizeof(*params), query_param_cmp);
	for (i = 0; i < nparams; i++) {
		if (i > 0)
			GUARD_GOTO(buf_append(b, "&", 1, SIGV4_TEXT_MAX), out);
		GUARD_GOTO(buf_append_str(b, params[i].name, SIGV4_TEXT_MAX),
		    out);
		GUARD_GOTO(buf_append(b, "=", 1, SIGV4_TEXT_MAX), out);
		GUARD_GOTO(buf_append_str(b, params[i].value, SIGV4_TEXT_MAX),
		    out);
	}
	rc = 0;
out:
	for (i = 0; i < nparams; i++) {
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
	return rc;
}

/*
 * The canonical URI: RFC 3986 dot segments resolved, empty segments
 * dropped, each segment URI-encoded (once more: for every service but S3
 * the path on the wire is already encoded, and AWS signs it encoded twice).
 */
static int
canonical_uri(struct buf *b, const char *path)
{
	const char *segs[256];
	size_t lens[256];
	size_t nsegs = 0, i;
	const char *p = (path && *path) ? path : "/";
	size_t plen = strlen(p);
	int trailing = plen > 1 && p[plen - 1] == '/';

	while (*p != '\0') {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 0 || (len == 1 && p[0] == '.')) {
			/* empty or ".": nothing */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (nsegs > 0)
				nsegs--;
		} else {
			if (nsegs == ARRAY_LEN(segs))
				return -1;
			segs[nsegs] = p;
			lens[nsegs] = len;
			nsegs++;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	for (i = 0; i < nsegs; i++) {
		GUARD(buf_append(b, "/", 1, SIGV4_TEXT_MAX));
		GUARD(uri_encode(b, segs[i], lens[i]));
	}
	if (nsegs == 0 || trailing)
		GUARD(buf_append(b, "/", 1, SIGV4_TEXT_MAX));
	return 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Header values: outer blanks removed, inner runs collapsed to one space. */
static char *
trim_value(const char *v)
{
	struct buf b = BUF_INIT;
	const char *end;

	while (is_blank(*v))
		v++;
	end = v + strlen(v);
	while (end > v && is_blank(end[-1]))
		end--;
	for (; v < end; v++) {
		if (*v == '\r' || *v == '\n')
			goto fail;
		if (is_blank(*v)) {
			if (is_blank(v[-1]))
				continue;
			GUARD_GOTO(buf_append(&b, " ", 1, SIGV4_TEXT_MAX),
			    fail);
			continue;
		}
		GUARD_GOTO(buf_append(&b, v, 1, SIGV4_TEXT_MAX), fail);
	}
	return buf_take_str(&b);
fail:
	buf_free(&b, 0);
	return NULL;
}

/* Lowercased copy; NULL for a name that could not be an HTTP token. */
static char *
lower_name(const char *n)
{
	size_t len = strlen(n), i;
	char *s;

	if (len == 0 || len > SIGV4_TEXT_MAX)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)n[i];

		/* An HTTP token: no separators, or SignedHeaders breaks. */
		if (c <= 0x20 || c >= 0x7f ||
		    strchr("\"(),/:;<=>?@[\\]{}", c) != NULL)
			return NULL;
	}
	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i <= len; i++) {
		char c = n[i];

		s[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	return s;
}

static int
canon_header_cmp(const void *a, const void *b)
{
	const struct canon_header *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int
header_add(struct canon_header *h, size_t *n, const char *name,
    const char *value)
{
	if (*n >= SIGV4_HEADERS_MAX + 3)
		return -1;
	h[*n].name = lower_name(name);
	h[*n].value = trim_value(value);
	h[*n].order = *n;
	(*n)++;
	if (h[*n - 1].name == NULL || h[*n - 1].value == NULL)
		return -1;
	return 0;
}

const char *
sigv4_header_find(const struct sigv4_header *h, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (h[i].name != NULL && strcasecmp(h[i].name, name) == 0)
			return h[i].value;
	return NULL;
}

/*
 * Canonical headers ("name:value\n" each, repeats joined with ',') and the
 * signed header list, from the caller's headers plus those SigV4 adds.
 */
static int
canonical_headers(struct buf *canon, struct buf *names,
    const struct sigv4_request *req, const struct sigv4_credentials *creds,
    const struct sigv4_params *params, const char *amz_date,
    const char *body_hash)
{
	struct canon_header h[SIGV4_HEADERS_MAX + 3];
	size_t n = 0, i;
	int rc = -1;

	memset(h, 0, sizeof(h));
	if (req->nheaders > SIGV4_HEADERS_MAX)
		return -1;
	for (i = 0; i < req->nheaders; i++) {
		if (req->headers[i].name == NULL ||
		    req->headers[i].value == NULL)
			goto out;
		GUARD_GOTO(header_add(h, &n, req->headers[i].name,
		    req->headers[i].value), out);
	}
	if (!(params->flags & SIGV4_HEADERS_AS_GIVEN)) {
		GUARD_GOTO(header_add(h, &n, "x-amz-date", amz_date), out);
		if (creds->session_token != NULL &&
		    creds->session_token[0] != '\0' &&
		    !(params->flags & SIGV4_TOKEN_UNSIGNED))
			GUARD_GOTO(header_add(h, &n, "x-amz-security-token",
			    creds->session_token), out);
		if (params->flags & SIGV4_SIGN_BODY_HASH)
			GUARD_GOTO(header_add(h, &n, "x-amz-content-sha256",
			    body_hash), out);
	}
	qsort(h, n, sizeof(h[0]), canon_header_cmp);
	for (i = 0; i < n; i++) {
		int repeat = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;

		if (repeat) {
			/* Replace the previous "\n" with ",". */
			canon->data[canon->len - 1] = ',';
		} else {
			if (names->len > 0)
				GUARD_GOTO(buf_append(names, ";", 1,
				    SIGV4_TEXT_MAX), out);
			GUARD_GOTO(buf_append_str(names, h[i].name,
			    SIGV4_TEXT_MAX), out);
			GUARD_GOTO(buf_append_str(canon, h[i].name,
			    SIGV4_TEXT_MAX), out);
			GUARD_GOTO(buf_append(canon, ":", 1, SIGV4_TEXT_MAX),
			    out);
		}
		GUARD_GOTO(buf_append_str(canon, h[i].value, SIGV4_TEXT_MAX),
		    out);
		GUARD_GOTO(buf_append(canon, "\n", 1, SIGV4_TEXT_MAX), out);
	}
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	return rc;
}

int
sigv4_amz_date_valid(const char *s)
{
	static const char shape[] = "ddddddddTddddddZ";
	size_t i;

	if (strlen(s) != SIGV4_AMZ_DATE_LEN)
		return 0;
	for (i = 0; i < SIGV4_AMZ_DATE_LEN; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') :
		    s[i] != shape[i])
			return 0;
	}
	return 1;
}

/*
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region),
 * service), "aws4_request"), then the signature over the string to sign.
 * Every intermediate key is wiped, on failure too.
 */
static int
compute_signature(const char *secret, const char *date, const char *region,
    const char *service, const char *sts, char out[SIGV4_HEX_LEN + 1])
{
	struct buf k0 = BUF_INIT;
	uint8_t ka[SHA256_LEN], kb[SHA256_LEN], sig[SHA256_LEN];
	int rc = -1;

	/*
	 * One allocation for "AWS4" + secret (no realloc leaves a copy behind);
	 * two key buffers alternate, so no HMAC writes over the key it reads.
	 */
	GUARD_GOTO(buf_reserve(&k0, 4 + strnlen(secret, SIGV4_TEXT_MAX),
	    SIGV4_TEXT_MAX + 4), out);
	GUARD_GOTO(buf_append_str(&k0, "AWS4", SIGV4_TEXT_MAX), out);
	GUARD_GOTO(buf_append_str(&k0, secret, SIGV4_TEXT_MAX), out);
	GUARD_GOTO(hmac_sha256(k0.data, k0.len, date, strlen(date), ka), out);
	GUARD_GOTO(hmac_sha256(ka, sizeof(ka), region, strlen(region), kb),
	    out);
	GUARD_GOTO(hmac_sha256(kb, sizeof(kb), service, strlen(service), ka),
	    out);
	GUARD_GOTO(hmac_sha256(ka, sizeof(ka), "aws4_request", 12, kb), out);
	GUARD_GOTO(hmac_sha256(kb, sizeof(kb), sts, strlen(sts), sig), out);
	hex_encode(out, sig, sizeof(sig));
	out[SIGV4_HEX_LEN] = '\0';
	rc = 0;
out:
	OPENSSL_cleanse(ka, sizeof(ka));
	OPENSSL_cleanse(kb, sizeof(kb));
	OPENSSL_cleanse(sig, sizeof(sig));
	buf_free(&k0, 1);
	return rc;
}

void
sigv4_signed_free(struct sigv4_signed *s)
{
	/* The canonical request holds the session token: wipe, then free. */
	char *const parts[] = { s->canonical_request, s->string_to_sign,
		s->signed_headers, s->credential_scope, s->authorization };
	size_t i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (parts[i] != NULL)
			OPENSSL_cleanse(parts[i], strlen(parts[i]));
		free(parts[i]);
	}
	memset(s, 0, sizeof(*s));
}

int
sigv4_sign(const struct sigv4_request *req,
    const struct sigv4_credentials *creds, const struct sigv4_params *params,
    struct sigv4_signed *out)
{
	struct buf creq = BUF_INIT, canon = BUF_INIT, names = BUF_INIT;
	struct buf tmp = BUF_INIT;
	char creq_hash[SIGV4_HEX_LEN + 1], date[9];
	struct tm tm;

	memset(out, 0, sizeof(*out));
	if (req->method == NULL || req->method[0] == '\0' ||
	    creds->access_key_id == NULL || creds->secret_access_key == NULL ||
	    params->region == NULL || params->service == NULL ||
	    (req->body == NULL && req->body_len > 0))
		return -1;

	if (params->flags & SIGV4_HEADERS_AS_GIVEN) {
		const char *d = sigv4_header_find(req->headers, req->nheaders,
		    "x-amz-date");

		if (d == NULL || !sigv4_amz_date_valid(d))
			return -1;
		memcpy(out->amz_date, d, SIGV4_AMZ_DATE_LEN + 1);
	} else {
		if (gmtime_r(&params->when, &tm) == NULL ||
		    strftime(out->amz_date, sizeof(out->amz_date),
		    "%Y%m%dT%H%M%SZ", &tm) != SIGV4_AMZ_DATE_LEN)
			return -1;
	}
	memcpy(date, out->amz_date, 8);
	date[8] = '\0';
	GUARD_GOTO(sha256_hex(req->body ? (const void *)req->body : "",
	    req->body_len, out->content_sha256), fail);

	/* Canonical request. */
	GUARD_GOTO(buf_printf(&creq, SIGV4_TEXT_MAX, "%s\n", req->method),
	    fail);
	GUARD_GOTO(canonical_uri(&creq, req->path), fail);
	GUARD_GOTO(buf_append(&creq, "\n", 1, SIGV4_TEXT_MAX), fail);
	GUARD_GOTO(canonical_query(&creq, req->query), fail);
	GUARD_GOTO(buf_append(&creq, "\n", 1, SIGV4_TEXT_MAX), fail);
	GUARD_GOTO(canonical_headers(&canon, &names, req, creds, params,
	    out->amz_date, out->content_sha256), fail);
	GUARD_GOTO(buf_append(&creq, canon.data, canon.len, SIGV4_TEXT_MAX),
	    fail);
	GUARD_GOTO(buf_append(&creq, "\n", 1, SIGV4_TEXT_MAX), fail);
	GUARD_GOTO(buf_append(&creq, names.data, names.len, SIGV4_TEXT_MAX),
	    fail);
	GUARD_GOTO(buf_printf(&creq, SIGV4_TEXT_MAX, "\n%s",
	    out->content_sha256), fail);
	buf_free(&canon, 1);
	if ((out->signed_headers = buf_take_str(&names)) == NULL ||
	    (out->canonical_request = buf_take_str(&creq)) == NULL)
		goto fail;

	/* Scope and string to sign. */
	GUARD_GOTO(buf_printf(&tmp, SIGV4_TEXT_MAX, "%s/%s/%s/aws4_request", date,
	    params->region, params->service), fail);
	if ((out->credential_scope = buf_take_str(&tmp)) == NULL)
		goto fail;
	GUARD_GOTO(sha256_hex(out->canonical_request,
	    strlen(out->canonical_request), creq_hash), fail);
	GUARD_GOTO(buf_printf(&tmp, SIGV4_TEXT_MAX, "AWS4-HMAC-SHA256\n%s\n%s\n%s",
	    out->amz_date, out->credential_scope, creq_hash), fail);
	if ((out->string_to_sign = buf_take_str(&tmp)) == NULL)
		goto fail;

	GUARD_GOTO(compute_signature(creds->secret_access_key, date,
	    params->region, params->service, out->string_to_sign,
	    out->signature), fail);
	GUARD_GOTO(buf_printf(&tmp, SIGV4_TEXT_MAX, "AWS4-HMAC-SHA256 Credential=%s/%s, "
	    "SignedHeaders=%s, Signature=%s", creds->access_key_id,
	    out->credential_scope, out->signed_headers, out->signature), fail);
	if ((out->authorization = buf_take_str(&tmp)) == NULL)
		goto fail;
	return 0;
fail:
	buf_free(&creq, 1);
	buf_free(&canon, 1);
	buf_free(&names, 0);
	buf_free(&tmp, 1);
	sigv4_signed_free(out);
	return -1;
}
