/*
 * fuzz_kmstool_output.c - the KMS tool's stdout and stderr parsers
 * (src/enclave/kms/kmstool_output.c): bytes a child process printed.
 *
 * Input: byte 0 picks the reason buffer's size, then three credentials
 * separated by 0xff, then 0xfe, then the output. Checks: a key is parsed
 * only from a PLAINTEXT: line, and is no longer than the base64 allows;
 * the reason is NUL-terminated inside its buffer, printable ASCII only,
 * and never contains a credential made of the characters real ones use.
 * And it is exactly one of the output's lines as a slow, obvious model
 * renders it: every byte inside any occurrence of any credential hidden
 * (a mask), so no part of a credential survives, not even the tail of a
 * longer one that a shorter one starts (F14).
 */
#include "fuzz_common.h"

#include "common/secret.h"
#include "enclave/kms/kmstool_output.h"

/* Only characters AWS credentials are made of, and not inside the mark. */
static int
checkable(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || strstr("[redacted]", s) != NULL)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '+' || *s == '/' ||
		    *s == '='))
			return 0;
	return 1;
}

/*
 * The model of one line's rendering, built from masks: a byte covered by
 * some credential occurrence is hidden; "[redacted]" stands where a
 * covered byte is not inside an occurrence that started before it. Then
 * truncated to what fits in `rsize` with the NUL.
 */
static int
line_renders_as(const uint8_t *line, size_t len, char *const *cred,
    size_t rsize, const char *reason)
{
	uint8_t *covered = calloc(len + 1, 1), *continued = calloc(len + 1, 1);
	char *want = malloc(len * 10 + 1);
	size_t i, j, c, o = 0;
	int same;

	FUZZ_CHECK(covered != NULL && continued != NULL && want != NULL);
	for (c = 0; c < 3; c++) {
		size_t n = cred[c] ? strlen(cred[c]) : 0;

		for (j = 0; n > 0 && j + n <= len; j++)
			if (memcmp(line + j, cred[c], n) == 0)
				for (i = j; i < j + n; i++) {
					covered[i] = 1;
					if (i > j)
						continued[i] = 1;
				}
	}
	for (i = 0; i < len; i++) {
		if (!covered[i])
			want[o++] = line[i] >= 0x20 && line[i] < 0x7f ?
			    (char)line[i] : '?';
		else if (!continued[i]) {
			memcpy(want + o, "[redacted]", 10);
			o += 10;
		}
	}
	if (o > rsize - 1)
		o = rsize - 1;
	want[o] = '\0';
	same = strcmp(want, reason) == 0;
	free(covered);
	free(continued);
	free(want);
	return same;
}

/*
 * The reason is the rendering of one non-empty line (without its "\r\n"
 * and trailing blanks), or empty when every line is.
 */
static int
reason_is_a_rendered_line(const uint8_t *out, size_t n, char *const *cred,
    size_t rsize, const char *reason)
{
	const uint8_t *p = out, *end = out + n;
	int any = 0;

	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len > 0) {
			any = 1;
			if (line_renders_as(p, len, cred, rsize, reason))
				return 1;
		}
		p = nl ? nl + 1 : end;
	}
	return !any && reason[0] == '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cred[3] = { NULL, NULL, NULL };
	const char *redact[4] = { NULL, NULL, NULL, NULL };
	struct secret key = SECRET_INIT;
	size_t rsize, i, n, start;
	const uint8_t *out, *sep;
	char *reason;
	uint8_t *copy;

	if (size < 1)
		return 0;
	rsize = data[0] < 0x80 ? 256 : data[0] & 0x7f;
	data++;
	size--;
	/* Credentials: up to three 0xff-separated strings before 0xfe. */
	sep = memchr(data, 0xfe, size);
	start = 0;
	n = sep ? (size_t)(sep - data) : 0;
	for (i = 0; sep && i < 3; i++) {
		const uint8_t *e = memchr(data + start, 0xff, n - start);
		size_t len = (e ? (size_t)(e - data) : n) - start;

		cred[i] = fuzz_strndup(data + start, len);
		redact[i] = cred[i];
		if (!e)
			break;
		start += len + 1;
	}
	out = sep ? sep + 1 : data;
	n = size - (size_t)(out - data);
	copy = fuzz_dup(out, n);

	if (kmstool_parse_plaintext(copy, n, &key) == 0) {
		FUZZ_CHECK(fuzz_memmem(copy, n, (const uint8_t *)"PLAINTEXT:", 10));
		FUZZ_CHECK(key.len <= 768);	/* 1024 base64 characters */
		secret_free(&key);
	}
	FUZZ_CHECK(key.data == NULL);

	reason = malloc(rsize ? rsize : 1);
	FUZZ_CHECK(reason != NULL);
	memset(reason, 'X', rsize ? rsize : 1);
	kmstool_failure_reason(copy, n, sep ? redact : NULL, reason, rsize);
	if (rsize > 0) {
		size_t rl = strnlen(reason, rsize);

		FUZZ_CHECK(rl < rsize);
		for (i = 0; i < rl; i++)
			FUZZ_CHECK(reason[i] >= 0x20 && reason[i] < 0x7f);
		for (i = 0; i < 3; i++)
			if (cred[i] && checkable(cred[i]))
				FUZZ_CHECK(strstr(reason, cred[i]) == NULL);
		FUZZ_CHECK(reason_is_a_rendered_line(copy, n, cred, rsize,
		    reason));
	}
	free(reason);
	free(copy);
	for (i = 0; i < 3; i++)
		free(cred[i]);
	return 0;
}
