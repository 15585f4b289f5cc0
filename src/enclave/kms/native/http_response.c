/*
 * http_response.c - one HTTP/1.1 response from KMS, parsed strictly.
 *
 * The bytes come from the network (through a proxy the host controls,
 * though inside TLS), so every size is bounded before anything is kept:
 * headers at NATIVE_HTTP_HEADERS_MAX, the body at the caller's limit, the
 * body's length from Content-Length only (KMS sends it; a chunked or
 * unframed answer is refused rather than read to EOF). The Date header is
 * kept, when there is exactly one in IMF-fixdate form, for the clock skew
 * correction (native.c); a bad or doubled Date is only ignored, since it
 * never decides whether the answer itself is usable.
 */
#include "enclave/kms/native/native_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/number.h"
#include "common/timefmt.h"

static int
fail(struct reason *reason, const char *what)
{
	reason_fail(reason, "malformed HTTP response from KMS: %s",
	    what);
	return -1;
}

/* The end of the header block (after CRLF CRLF) or 0 when not there yet. */
static size_t
header_end(const uint8_t *d, size_t len)
{
	size_t i;

	for (i = 0; i + 3 < len; i++)
		if (d[i] == '\r' && d[i + 1] == '\n' && d[i + 2] == '\r' &&
		    d[i + 3] == '\n')
			return i + 4;
	return 0;
}

/* "HTTP/1.1 200 OK": the status, or -1. */
static int
status_line(const uint8_t *p, size_t n)
{
	int code;

	if (n < 12 || (memcmp(p, "HTTP/1.1 ", 9) != 0 &&
	    memcmp(p, "HTTP/1.0 ", 9) != 0))
		return -1;
	if (p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9' || (n > 12 && p[12] != ' '))
		return -1;
	code = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	return code;
}

static int
name_is(const uint8_t *p, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp((const char *)p, name, n) == 0;
}

int
http_response_parse(const uint8_t *data, size_t len, size_t body_max,
    struct http_response *out, struct reason *reason)
{
	size_t hend, pos, eol, have_length = 0, length = 0, v;
	uint64_t v64;
	unsigned dates = 0;
	time_t date = 0;
	int status;

	memset(out, 0, sizeof(*out));
	hend = header_end(data, len < NATIVE_HTTP_HEADERS_MAX ? len :
	    NATIVE_HTTP_HEADERS_MAX);
	if (hend == 0) {
		if (len >= NATIVE_HTTP_HEADERS_MAX)
			return fail(reason, "headers over "
			    "16 KiB");
		return 0;
	}
	for (eol = 0; data[eol] != '\r' || data[eol + 1] != '\n'; eol++)
		;
	if ((status = status_line(data, eol)) < 0)
		return fail(reason, "bad status line");
	if (status < 200)
		return fail(reason, "interim 1xx response");
	/* Each header line: name ":" value CRLF; no obsolete folding. */
	for (pos = eol + 2; pos < hend - 2; pos = eol + 2) {
		const uint8_t *line = data + pos, *colon, *val;
		size_t n, vn;

		for (eol = pos; data[eol] != '\r' || data[eol + 1] != '\n'; eol++)
			;
		n = eol - pos;
		if (n == 0 || line[0] == ' ' || line[0] == '\t')
			return fail(reason, "folded or empty "
			    "header line");
		if ((colon = memchr(line, ':', n)) == NULL || colon == line)
			return fail(reason, "header without a "
			    "name and ':'");
		val = colon + 1;
		vn = n - (size_t)(val - line);
		while (vn > 0 && (*val == ' ' || *val == '\t')) {
			val++;
			vn--;
		}
		while (vn > 0 && (val[vn - 1] == ' ' || val[vn - 1] == '\t'))
			vn--;
		if (name_is(line, (size_t)(colon - line), "Transfer-Encoding"))
			return fail(reason, "Transfer-Encoding "
			    "(chunked) is not accepted; KMS sends "
			    "Content-Length");
		if (name_is(line, (size_t)(colon - line), "Date")) {
			if (dates++ > 0 || timefmt_parse_http_date(
			    (const char *)val, vn, &date) < 0)
				dates = 2;	/* two, or unreadable: none */
			continue;
		}
		if (!name_is(line, (size_t)(colon - line), "Content-Length"))
			continue;
		/* The one number rule (common/number.h): -2 is too large. */
		switch (number_parse_span((const char *)val, vn, 0, body_max,
		    &v64)) {
		case -1:
			return fail(reason, "bad Content-Length");
		case -2:
			reason_fail(reason, "HTTP response from KMS "
			    "larger than %zu bytes", body_max);
			return -1;
		}
		v = (size_t)v64;
		if (have_length && v != length)
			return fail(reason, "conflicting "
			    "Content-Length headers");
		have_length = 1;
		length = v;
	}
	if (!have_length)
		return fail(reason, "no Content-Length");
	if (len - hend < length)
		return 0;
	out->status = status;
	out->header_len = hend;
	out->content_length = length;
	out->body.data = data + hend;
	out->body.len = length;
	out->has_date = dates == 1;
	out->date = dates == 1 ? date : 0;
	return 1;
}
