/*
 * fuzz_kmstool_output.c - the KMS tool's stdout and stderr parsers
 * (src/enclave/kms/kmstool_output.c): bytes a child process printed.
 *
 * Input: byte 0 picks the reason buffer's size, then three credentials
 * separated by 0xff, then 0xfe, then the output. Checks: a key is parsed
 * only from a PLAINTEXT: line, and is no longer than the base64 allows;
 * the reason is NUL-terminated inside its buffer, printable ASCII only,
 * and never contains a credential made of the characters real ones use.
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
	}
	free(reason);
	free(copy);
	for (i = 0; i < 3; i++)
		free(cred[i]);
	return 0;
}
