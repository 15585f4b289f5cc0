/*
 * imds_fetch.c - the three IMDSv2 exchanges, with libcurl.
 *
 * libcurl rather than a request written by hand on common/endpoint: the
 * answers are HTTP/1.1 from a service we do not control (chunked bodies,
 * redirects, keep-alive), and reading HTTP correctly is exactly the parser
 * this project refuses to hand-write. Proxies are turned off (IMDS must
 * never be asked through one), only http:// is allowed, redirects are not
 * followed, and every answer is bounded.
 *
 * Secrets: the credentials document and the IMDS session token are
 * received into buffers that are wiped when freed. libcurl's own receive
 * buffer and the token's header line are its memory and are not wiped;
 * the session token only lets this host read its own metadata.
 */
#include "host/credentials/imds.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "common/buf.h"

#define IMDS_TOKEN_TTL_HEADER "X-aws-ec2-metadata-token-ttl-seconds: 21600"
#define IMDS_TOKEN_HEADER     "X-aws-ec2-metadata-token: "
#define IMDS_CREDS_PATH       "/latest/meta-data/iam/security-credentials/"
#define IMDS_URL_MAX          512
#define IMDS_ROLE_MAX         128

int
imds_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

struct sink {
	struct buf b;
	int        overflow;
};

/* Bounded: an answer past the limit stops the transfer. */
static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	if (buf_append(&s->b, ptr, n, IMDS_MAX_RESPONSE) < 0) {
		s->overflow = 1;
		return 0;
	}
	return n;
}

/*
 * One exchange: method PUT (with an empty body) or GET, a header or none.
 * On success `out` holds the body, NUL-terminated (len excludes it).
 */
static int
exchange(const char *url, int put, const char *header, int timeout_ms,
    struct sink *out, struct reason *why)
{
	struct curl_slist *hdrs = NULL;
	CURL *h;
	CURLcode cc;
	long status = 0;
	uint8_t *nul;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((h = curl_easy_init()) == NULL) {
		reason_fail(why, "cannot start an HTTP client");
		return -1;
	}
	if (header != NULL && (hdrs = curl_slist_append(NULL, header)) == NULL) {
		reason_fail(why, "out of memory");
		goto done;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	if (hdrs != NULL)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (put) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		reason_fail(why, "metadata service: %s",
		    out->overflow ? "answer too large" : curl_easy_strerror(cc));
		goto done;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		reason_fail(why, "metadata service answered HTTP %ld",
		    status);
		goto done;
	}
	/* A terminator past len, written but not committed. */
	if ((nul = buf_tail(&out->b, 1, IMDS_MAX_RESPONSE + 1)) == NULL) {
		reason_fail(why, "out of memory");
		goto done;
	}
	*nul = '\0';
	rc = 0;
done:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (rc < 0)
		buf_free(&out->b, 1);
	return rc;
}

/* The session token's header line, in a buffer wiped when freed. */
static int
token_header(const struct sink *token, struct buf *hdr, struct reason *why)
{
	size_t i;

	for (i = 0; i < token->b.len; i++)
		if (token->b.data[i] < 0x21 || token->b.data[i] > 0x7e) {
			reason_fail(why, "the metadata service's token "
			    "is not printable text");
			return -1;
		}
	if (token->b.len == 0 ||
	    buf_append_str(hdr, IMDS_TOKEN_HEADER, 1024) < 0 ||
	    buf_append(hdr, token->b.data, token->b.len, 8192) < 0 ||
	    buf_append(hdr, "", 1, 8193) < 0) {
		reason_fail(why, "the metadata service's token is empty "
		    "or too long");
		return -1;
	}
	return 0;
}

int
host_credentials_from_imds(struct host_credentials *out,
    const char *endpoint, int timeout_ms, struct reason *why)
{
	char base[IMDS_URL_MAX], url[IMDS_URL_MAX + IMDS_ROLE_MAX + 64];
	char role[IMDS_ROLE_MAX];
	struct sink token, listing, doc;
	struct buf hdr = BUF_INIT;
	int rc = -1;

	host_credentials_clear(out);
	memset(&listing, 0, sizeof(listing));
	memset(&doc, 0, sizeof(doc));
	imds_endpoint(endpoint, base, sizeof(base));
	snprintf(url, sizeof(url), "%s/latest/api/token", base);
	if (exchange(url, 1, IMDS_TOKEN_TTL_HEADER, timeout_ms, &token,
	    why) < 0)
		return -1;
	if (token_header(&token, &hdr, why) < 0)
		goto done;
	snprintf(url, sizeof(url), "%s%s", base, IMDS_CREDS_PATH);
	if (exchange(url, 0, (const char *)hdr.data, timeout_ms, &listing,
	    why) < 0 ||
	    imds_parse_role((const char *)listing.b.data, listing.b.len, role,
	    sizeof(role), why) < 0)
		goto done;
	snprintf(url, sizeof(url), "%s%s%s", base, IMDS_CREDS_PATH, role);
	if (exchange(url, 0, (const char *)hdr.data, timeout_ms, &doc, why) < 0)
		goto done;
	rc = imds_parse_credentials((const char *)doc.b.data, doc.b.len, out,
	    why);
done:
	buf_free(&token.b, 1);
	buf_free(&listing.b, 1);
	buf_free(&doc.b, 1);
	buf_free(&hdr, 1);
	OPENSSL_cleanse(url, sizeof(url));
	return rc;
}
