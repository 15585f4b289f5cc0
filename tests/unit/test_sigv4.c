/*
 * test_sigv4.c - SigV4 against every case of the AWS signing test suite in
 * $VECTORS/sigv4 (default tests/vectors/sigv4), plus the verifier.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "common/sigv4.h"
#include "verify/sigv4_verify.h"
#include "common/timefmt.h"

#define MAX_HEADERS 32

static const char *
vectors_dir(void)
{
	const char *v = getenv("VECTORS");

	return (v != NULL && *v != '\0') ? v : "tests/vectors";
}

/* Whole file, NUL-terminated; NULL when it does not exist. */
static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	char *data;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	assert_true(n >= 0);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return data;
}

/* A parsed request.txt: pointers into the (modified) file text. */
struct http_req {
	char   *text;
	char   *method;
	char   *path;
	char   *query;
	struct sigv4_header headers[MAX_HEADERS];
	size_t  nheaders;
	char   *body;
	size_t  body_len;
};

/* Request line, "Name:value" lines up to an empty line, then the body. */
static void
parse_http(char *text, size_t len, struct http_req *r)
{
	char *p = text, *nl, *sp, *q;

	memset(r, 0, sizeof(*r));
	r->text = text;
	nl = strchr(p, '\n');
	assert_non_null(nl);
	*nl = '\0';
	r->method = p;
	sp = strchr(p, ' ');
	assert_non_null(sp);
	*sp = '\0';
	r->path = sp + 1;
	sp = strrchr(r->path, ' ');	/* " HTTP/1.1" */
	assert_non_null(sp);
	*sp = '\0';
	if ((q = strchr(r->path, '?')) != NULL) {
		*q = '\0';
		r->query = q + 1;
	}
	p = nl + 1;
	while (*p != '\0' && *p != '\n') {
		char *colon;

		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		colon = strchr(p, ':');
		assert_non_null(colon);
		*colon = '\0';
		assert_true(r->nheaders < MAX_HEADERS);
		r->headers[r->nheaders].name = p;
		r->headers[r->nheaders].value = colon + 1;
		r->nheaders++;
		if (nl == NULL) {
			p += strlen(p);
			break;
		}
		p = nl + 1;
	}
	if (*p == '\n') {
		r->body = p + 1;
		r->body_len = len - (size_t)(r->body - text);
	} else {
		r->body = p;
		r->body_len = 0;
	}
}

struct vector_ctx {
	cJSON *json;
	struct sigv4_credentials creds;
	struct sigv4_params params;
};

static void
load_context(const char *dir, struct vector_ctx *c)
{
	char *text = slurp(dir, "context.json", NULL);
	cJSON *cr, *tok, *omit, *sb;
	time_t t;

	assert_non_null(text);
	c->json = cJSON_Parse(text);
	free(text);
	assert_non_null(c->json);
	cr = cJSON_GetObjectItemCaseSensitive(c->json, "credentials");
	assert_non_null(cr);
	memset(&c->creds, 0, sizeof(c->creds));
	memset(&c->params, 0, sizeof(c->params));
	c->creds.access_key_id = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(cr, "access_key_id"));
	c->creds.secret_access_key = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(cr, "secret_access_key"));
	tok = cJSON_GetObjectItemCaseSensitive(cr, "token");
	c->creds.session_token = tok ? cJSON_GetStringValue(tok) : NULL;
	c->params.region = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(c->json, "region"));
	c->params.service = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(c->json, "service"));
	assert_int_equal(timefmt_parse_rfc3339(cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(c->json, "timestamp")), &t), 0);
	c->params.when = t;
	sb = cJSON_GetObjectItemCaseSensitive(c->json, "sign_body");
	if (cJSON_IsTrue(sb))
		c->params.flags |= SIGV4_SIGN_BODY_HASH;
	omit = cJSON_GetObjectItemCaseSensitive(c->json, "omit_session_token");
	if (cJSON_IsTrue(omit))
		c->params.flags |= SIGV4_TOKEN_UNSIGNED;
	assert_non_null(c->creds.access_key_id);
	assert_non_null(c->creds.secret_access_key);
	assert_non_null(c->params.region);
	assert_non_null(c->params.service);
}

static void
expect_file(const char *dir, const char *name, const char *got)
{
	char *want = slurp(dir, name, NULL);

	assert_non_null(want);
	if (strcmp(want, got) != 0)
		fprintf(stderr, "%s/%s differs:\n--- want\n%s\n--- got\n%s\n",
		    dir, name, want, got);
	assert_string_equal(want, got);
	free(want);
}

/* The Authorization line of header-signed-request.txt. */
static void
expect_authorization(const char *dir, const char *got)
{
	size_t len;
	char *text = slurp(dir, "header-signed-request.txt", &len);
	char *p, *nl;

	if (text == NULL)
		return;
	p = strstr(text, "\nAuthorization:");
	assert_non_null(p);
	p += strlen("\nAuthorization:");
	if ((nl = strchr(p, '\n')) != NULL)
		*nl = '\0';
	assert_string_equal(p, got);
	free(text);
}

/* The signed request as AWS sends it must pass the verifier. */
static void
verify_signed_request(const char *dir, const struct vector_ctx *c)
{
	struct http_req r;
	struct sigv4_request req;
	struct reason reason;
	char *text;
	size_t len;

	text = slurp(dir, "header-signed-request.txt", &len);
	if (text == NULL)
		return;
	parse_http(text, len, &r);
	memset(&req, 0, sizeof(req));
	req.method = r.method;
	req.path = r.path;
	req.query = r.query;
	req.headers = r.headers;
	req.nheaders = r.nheaders;
	req.body = (const uint8_t *)r.body;
	req.body_len = r.body_len;
	if (sigv4_verify(&req, &c->creds, c->params.region, c->params.service,
	    c->params.when + 60, 300, &reason) != 0)
		fail_msg("%s: verify: %s", dir, reason.text);
	/* Too far in the future: clock skew. */
	assert_int_equal(sigv4_verify(&req, &c->creds, c->params.region,
	    c->params.service, c->params.when + 3600, 300, &reason), -1);
	assert_non_null(strstr(reason.text, "skew"));
	free(text);
}

static void
run_case(const char *dir)
{
	struct vector_ctx c;
	struct http_req r;
	struct sigv4_request req;
	struct sigv4_signed out;
	char *text, *sig;
	size_t len;

	load_context(dir, &c);
	text = slurp(dir, "request.txt", &len);
	assert_non_null(text);
	parse_http(text, len, &r);
	memset(&req, 0, sizeof(req));
	req.method = r.method;
	req.path = r.path;
	req.query = r.query;
	req.headers = r.headers;
	req.nheaders = r.nheaders;
	req.body = (const uint8_t *)r.body;
	req.body_len = r.body_len;

	assert_int_equal(sigv4_sign(&req, &c.creds, &c.params, &out), 0);
	expect_file(dir, "header-canonical-request.txt", out.canonical_request);
	expect_file(dir, "header-string-to-sign.txt", out.string_to_sign);
	sig = slurp(dir, "header-signature.txt", NULL);
	assert_non_null(sig);
	sig[strcspn(sig, "\r\n")] = '\0';
	assert_string_equal(sig, out.signature);
	expect_authorization(dir, out.authorization);
	assert_string_equal(out.amz_date, "20150830T123600Z");
	free(sig);
	sigv4_signed_free(&out);
	free(text);

	verify_signed_request(dir, &c);
	cJSON_Delete(c.json);
}

static void
test_all_vectors(void **state)
{
	char base[1024], dir[1400], probe[1500];
	struct dirent **names;
	struct stat st;
	int n, i, ran = 0;

	(void)state;
	snprintf(base, sizeof(base), "%s/sigv4", vectors_dir());
	n = scandir(base, &names, NULL, alphasort);
	if (n < 0)
		fail_msg("no SigV4 vectors at %s (set VECTORS)", base);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			snprintf(dir, sizeof(dir), "%s/%s", base,
			    names[i]->d_name);
			snprintf(probe, sizeof(probe), "%s/context.json", dir);
			if (stat(probe, &st) == 0) {
				print_message("sigv4 vector %s\n",
				    names[i]->d_name);
				run_case(dir);
				ran++;
			}
		}
		free(names[i]);
	}
	free(names);
	print_message("%d SigV4 vectors passed\n", ran);
	assert_true(ran >= 9);
}

/* A KMS request as kmstool signs it; then the verifier's negative paths. */
static void
test_kms_roundtrip(void **state)
{
	static const char body[] = "{\"CiphertextBlob\":\"AAAA\"}";
	struct sigv4_header h[8];
	struct sigv4_request req;
	struct sigv4_credentials creds = { "AKIDEXAMPLE",
	    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "TOKEN123" };
	struct sigv4_credentials other = creds;
	struct sigv4_params params = { "eu-west-1", "kms", 1700000000,
	    SIGV4_SIGN_BODY_HASH };
	struct sigv4_signed out;
	struct reason reason;
	size_t n = 0;

	(void)state;
	h[n++] = (struct sigv4_header){ "Host", "kms.eu-west-1.amazonaws.com" };
	h[n++] = (struct sigv4_header){ "Content-Type",
	    "application/x-amz-json-1.1" };
	h[n++] = (struct sigv4_header){ "X-Amz-Target",
	    "TrentService.Decrypt" };
	h[n++] = (struct sigv4_header){ "Content-Length", "25" };
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/";
	req.headers = h;
	req.nheaders = n;
	req.body = (const uint8_t *)body;
	req.body_len = strlen(body);
	assert_int_equal(sigv4_sign(&req, &creds, &params, &out), 0);
	assert_string_equal(out.signed_headers, "content-length;content-type;"
	    "host;x-amz-content-sha256;x-amz-date;x-amz-security-token;"
	    "x-amz-target");
	assert_string_equal(out.credential_scope,
	    "20231114/eu-west-1/kms/aws4_request");
	assert_string_equal(out.amz_date, "20231114T221320Z");

	/* The request as sent. */
	h[n++] = (struct sigv4_header){ "X-Amz-Date", out.amz_date };
	h[n++] = (struct sigv4_header){ "X-Amz-Security-Token", "TOKEN123" };
	h[n++] = (struct sigv4_header){ "X-Amz-Content-Sha256",
	    out.content_sha256 };
	h[n++] = (struct sigv4_header){ "Authorization", out.authorization };
	req.nheaders = n;
	assert_int_equal(sigv4_verify(&req, &creds, "eu-west-1", "kms",
	    1700000000, 300, &reason), 0);

	/* Wrong secret. */
	other.secret_access_key = "not-the-secret";
	assert_int_equal(sigv4_verify(&req, &other, "eu-west-1", "kms",
	    1700000000, 300, &reason), -1);
	assert_string_equal(reason.text, "signature does not match");
	/* Wrong region. */
	assert_int_equal(sigv4_verify(&req, &creds, "us-east-1", "kms",
	    1700000000, 300, &reason), -1);
	assert_non_null(strstr(reason.text, "scope"));
	/* Wrong token. */
	other = creds;
	other.session_token = "TOKEN999";
	assert_int_equal(sigv4_verify(&req, &other, "eu-west-1", "kms",
	    1700000000, 300, &reason), -1);
	assert_non_null(strstr(reason.text, "token"));
	/* A changed body: the content hash no longer matches. */
	req.body = (const uint8_t *)"{\"CiphertextBlob\":\"AAAB\"}";
	assert_int_equal(sigv4_verify(&req, &creds, "eu-west-1", "kms",
	    1700000000, 300, &reason), -1);
	assert_non_null(strstr(reason.text, "x-amz-content-sha256"));
	req.body = (const uint8_t *)body;
	/* A changed signed header. */
	h[2].value = "TrentService.GenerateDataKey";
	assert_int_equal(sigv4_verify(&req, &creds, "eu-west-1", "kms",
	    1700000000, 300, &reason), -1);
	assert_string_equal(reason.text, "signature does not match");
	h[2].value = "TrentService.Decrypt";
	/* No Authorization header at all. */
	req.nheaders = n - 1;
	assert_int_equal(sigv4_verify(&req, &creds, "eu-west-1", "kms",
	    1700000000, 300, &reason), -1);
	assert_non_null(strstr(reason.text, "Authorization"));
	sigv4_signed_free(&out);
}

/* Query encoding, path normalization, value trimming, repeated headers. */
static void
test_canonical_forms(void **state)
{
	struct sigv4_header h[4] = {
		{ "Host", "example.amazonaws.com" },
		{ "My-Header", "  a \t  b  " },
		{ "my-header", "c" },
		{ "ZZ", "" },
	};
	struct sigv4_request req = { "GET", "/foo/./bar/../a b/",
	    "b=2&a=x y&a=%41&c", h, 4, NULL, 0 };
	struct sigv4_credentials creds = { "AKID", "SECRET", NULL };
	struct sigv4_params params = { "us-east-1", "service", 0, 0 };
	struct sigv4_signed out;
	struct sigv4_header bad = { "X-Evil", "a\r\nInjected: 1" };

	(void)state;
	assert_int_equal(sigv4_sign(&req, &creds, &params, &out), 0);
	assert_string_equal(out.canonical_request,
	    "GET\n"
	    "/foo/a%20b/\n"
	    "a=A&a=x%20y&b=2&c=\n"
	    "host:example.amazonaws.com\n"
	    "my-header:a b,c\n"
	    "x-amz-date:19700101T000000Z\n"
	    "zz:\n"
	    "\n"
	    "host;my-header;x-amz-date;zz\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sigv4_signed_free(&out);

	/*
	 * Non-ASCII and reserved characters in the query are percent-encoded
	 * (uppercase hex); an escape already in the path is encoded again, as
	 * AWS does for every service but S3; '+' is a literal plus.
	 */
	req.path = "/a%20b";
	req.query = "\xe1\x88\xb4=bar&x=a+b&y=%zz";
	req.nheaders = 1;
	assert_int_equal(sigv4_sign(&req, &creds, &params, &out), 0);
	{
		static const char want[] =
		    "GET\n/a%2520b\n%E1%88%B4=bar&x=a%2Bb&y=%25zz\n"
		    "host:example.amazonaws.com\n";

		assert_memory_equal(out.canonical_request, want,
		    sizeof(want) - 1);
	}
	sigv4_signed_free(&out);

	/* Header injection is refused. */
	req.headers = &bad;
	req.nheaders = 1;
	assert_int_equal(sigv4_sign(&req, &creds, &params, &out), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_vectors),
		cmocka_unit_test(test_kms_roundtrip),
		cmocka_unit_test(test_canonical_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
