/*
 * fuzz_sigv4.c - AWS SigV4 (src/common/sigv4.c): the verifier reads a
 * request as received (a KMS simulator's input), the signer canonicalizes
 * whatever headers and path it is given.
 *
 * Input: an HTTP/1.1 request as in the AWS test suite's *.txt files
 * (tests/vectors/sigv4): "METHOD path?query HTTP/1.1", "Name:value"
 * lines, a blank line, the body. Checks:
 *  1. sigv4_verify under the suite's credentials never crashes, and a
 *     failure leaves a NUL-terminated reason;
 *  2. the request without its Authorization/x-amz-* headers, signed with
 *     sigv4_sign and given the headers the signer asks for, verifies.
 */
#include "fuzz_common.h"

#include <strings.h>

#include "common/sigv4.h"
#include "verify/sigv4_verify.h"

#define NOW 1440938160	/* 2015-08-30T12:36:00Z, the suite's moment */

static const struct sigv4_credentials creds_token = {
	"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	"6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
};
static const struct sigv4_credentials creds_plain = {
	"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL,
};

struct parsed {
	char *text;			/* the input, NUL-terminated, cut up */
	char *text_copy;		/* the input, NUL-terminated, whole */
	char *method, *path, *query;
	struct sigv4_header h[SIGV4_HEADERS_MAX + 8];
	size_t nh;
	const uint8_t *body;
	size_t body_len;
};

/* Split the input in place; -1 when it is not request-shaped at all. */
static int
parse(const uint8_t *data, size_t size, struct parsed *p)
{
	char *s, *nl, *sp;

	memset(p, 0, sizeof(*p));
	p->text = fuzz_strndup(data, size);
	p->text_copy = fuzz_strndup(data, size);
	s = p->text;
	if ((nl = strchr(s, '\n')) == NULL)
		return -1;
	*nl = '\0';
	p->method = s;
	if ((sp = strchr(s, ' ')) == NULL)
		return -1;
	*sp = '\0';
	p->path = sp + 1;
	if ((sp = strrchr(p->path, ' ')) != NULL)
		*sp = '\0';	/* " HTTP/1.1" */
	if ((sp = strchr(p->path, '?')) != NULL) {
		*sp = '\0';
		p->query = sp + 1;
	}
	s = nl + 1;
	while (*s != '\0' && *s != '\n') {
		char *colon;

		if ((nl = strchr(s, '\n')) != NULL)
			*nl = '\0';
		if ((colon = strchr(s, ':')) == NULL ||
		    p->nh == sizeof(p->h) / sizeof(p->h[0]))
			return -1;
		*colon = '\0';
		p->h[p->nh].name = s;
		p->h[p->nh].value = colon + 1;
		p->nh++;
		if (nl == NULL)
			return 0;
		s = nl + 1;
	}
	if (*s == '\n')
		s++;
	p->body = (const uint8_t *)s;
	p->body_len = size - (size_t)(s - p->text);
	return 0;
}

static const char *
find(const struct parsed *p, const char *name, size_t *count)
{
	const char *v = NULL;
	size_t i;

	*count = 0;
	for (i = 0; i < p->nh; i++)
		if (strcasecmp(p->h[i].name, name) == 0) {
			if (v == NULL)
				v = p->h[i].value;
			(*count)++;
		}
	return v;
}

static void
verify_as_received(const struct parsed *p)
{
	struct sigv4_request req = {
		.method = p->method, .path = p->path, .query = p->query,
		.headers = p->h, .nheaders = p->nh,
		.body = p->body, .body_len = p->body_len,
	};
	struct reason reason;
	size_t n;
	const struct sigv4_credentials *c =
	    find(p, "x-amz-security-token", &n) ? &creds_token : &creds_plain;

	memset(reason.text, 'X', sizeof(reason.text));
	if (sigv4_verify(&req, c, "us-east-1", "service", NOW, 300,
	    &reason) != 0)
		FUZZ_CHECK(memchr(reason.text, '\0',
		    sizeof(reason.text)) != NULL);
}

/* Sign the request's plain headers, then verify what a client would send. */
static void
sign_then_verify(const struct parsed *p, unsigned flags)
{
	static const char *const reserved[] = {
		"authorization", "x-amz-date", "x-amz-security-token",
		"x-amz-content-sha256",
	};
	struct sigv4_header h[SIGV4_HEADERS_MAX + 8];
	struct sigv4_request req = {
		.method = p->method, .path = p->path, .query = p->query,
		.headers = h, .body = p->body, .body_len = p->body_len,
	};
	struct sigv4_params params = {
		.region = "us-east-1", .service = "service", .when = NOW,
		.flags = flags & (SIGV4_SIGN_BODY_HASH | SIGV4_TOKEN_UNSIGNED),
	};
	const struct sigv4_credentials *c = (flags & 4) ? &creds_token : &creds_plain;
	struct sigv4_signed out;
	struct reason reason;
	size_t i, k, n = 0, count;

	for (i = 0; i < p->nh; i++) {
		int skip = 0;

		for (k = 0; k < sizeof(reserved) / sizeof(reserved[0]); k++)
			skip |= strcasecmp(p->h[i].name, reserved[k]) == 0;
		if (!skip)
			h[n++] = p->h[i];
	}
	/* One Host header, as HTTP/1.1 requires, and names the verifier can
	 * tell apart: no duplicates. */
	if (find(p, "host", &count) == NULL || count != 1 ||
	    n > SIGV4_HEADERS_MAX - 4)
		return;
	for (i = 0; i < n; i++)
		for (k = i + 1; k < n; k++)
			if (strcasecmp(h[i].name, h[k].name) == 0)
				return;
	req.nheaders = n;
	for (i = 0; i < n; i++)
		if (strpbrk(h[i].name, "\"(),/;<=>?@[\\]{}") != NULL) {
			/* Not an HTTP token (RFC 9110 5.1): refused. */
			FUZZ_CHECK(sigv4_sign(&req, c, &params, &out) != 0);
			/* Known issue (docs/security.md, F4): signed anyway,
			 * and "a,b" breaks the Authorization header. */
			return;
		}
	if (sigv4_sign(&req, c, &params, &out) != 0)
		return;
	FUZZ_CHECK(strlen(out.signature) == SIGV4_HEX_LEN);
	/* The secret key never shows (unless the request itself carries it). */
	if (strstr(p->text_copy, c->secret_access_key) == NULL) {
		FUZZ_CHECK(strstr(out.authorization, c->secret_access_key) == NULL);
		FUZZ_CHECK(strstr(out.canonical_request, c->secret_access_key) == NULL);
		FUZZ_CHECK(strstr(out.string_to_sign, c->secret_access_key) == NULL);
	}
	h[n].name = "X-Amz-Date";
	h[n++].value = out.amz_date;
	if (c->session_token) {
		h[n].name = "X-Amz-Security-Token";
		h[n++].value = c->session_token;
	}
	if (params.flags & SIGV4_SIGN_BODY_HASH) {
		h[n].name = "X-Amz-Content-Sha256";
		h[n++].value = out.content_sha256;
	}
	h[n].name = "Authorization";
	h[n++].value = out.authorization;
	req.nheaders = n;
	reason_clear(&reason);
	if (sigv4_verify(&req, c, "us-east-1", "service", NOW, 300,
	    &reason) != 0) {
		fprintf(stderr, "signed request does not verify: %s\n"
		    "canonical request:\n%s\n", reason.text,
		    out.canonical_request);
		FUZZ_CHECK(0);
	}
	sigv4_signed_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parsed p;

	if (size > SIGV4_TEXT_MAX)
		return 0;
	if (parse(data, size, &p) == 0) {
		verify_as_received(&p);
		sign_then_verify(&p, (unsigned)(fuzz_seed(data, size) & 7));
	}
	free(p.text);
	free(p.text_copy);
	return 0;
}
