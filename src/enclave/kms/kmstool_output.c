/*
 * kmstool_output.c - parsers for the KMS tool's stdout and stderr.
 */
#include "enclave/kms/kmstool_output.h"

#include <string.h>

#include <openssl/crypto.h>

#include "common/base64.h"
#include "common/guard.h"

#define PLAINTEXT_TAG "PLAINTEXT:"
/* Longest base64 we accept: a key is 44 characters; leave generous room. */
#define PLAINTEXT_B64_MAX 1024

/* Find the next line of [p, end); returns its length without "\r\n". */
static size_t
line_at(const uint8_t *p, const uint8_t *end, const uint8_t **next)
{
	const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
	size_t len;

	*next = nl != NULL ? nl + 1 : end;
	len = (size_t)((nl != NULL ? nl : end) - p);
	if (len > 0 && p[len - 1] == '\r')
		len--;
	return len;
}

int
kmstool_parse_plaintext(const uint8_t *out, size_t n, struct secret *key)
{
	const uint8_t *p = out, *end = out + n, *next;
	uint8_t decoded[BASE64_DECODED_MAX(PLAINTEXT_B64_MAX)];
	size_t len, dlen, taglen = strlen(PLAINTEXT_TAG);
	int rc = -1;

	for (; p < end; p = next) {
		const uint8_t *b64;

		len = line_at(p, end, &next);
		if (len < taglen || memcmp(p, PLAINTEXT_TAG, taglen) != 0)
			continue;
		b64 = p + taglen;
		len -= taglen;
		while (len > 0 && (*b64 == ' ' || *b64 == '\t')) {
			b64++;
			len--;
		}
		while (len > 0 && (b64[len - 1] == ' ' || b64[len - 1] == '\t'))
			len--;
		if (len == 0 || len > PLAINTEXT_B64_MAX)
			break;
		if (base64_decode(decoded, &dlen, (const char *)b64, len) < 0)
			break;
		rc = secret_dup(key, decoded, dlen);
		break;
	}
	OPENSSL_cleanse(decoded, sizeof(decoded));
	return rc;
}

/* Log lines of the AWS C SDK start with "[INFO]", "[DEBUG]", ... */
static int
is_log_line(const uint8_t *p, size_t len)
{
	static const char *const prefixes[] = {
		"[INFO]", "[DEBUG]", "[TRACE]", "[WARN]", "INFO", "DEBUG", "TRACE",
	};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i]);

		if (len >= pl && memcmp(p, prefixes[i], pl) == 0)
			return 1;
	}
	return 0;
}

/*
 * The length of the longest redacted string that starts at p, or 0. The
 * longest, not the first listed: with "secret" and "secretPART" both to
 * hide, stopping at "secret" would show "PART".
 */
static size_t
longest_secret_at(const uint8_t *p, size_t left, const char *const *redact)
{
	size_t longest = 0;

	for (; redact != NULL && *redact != NULL; redact++) {
		size_t n = strlen(*redact);

		if (n > longest && n <= left && memcmp(p, *redact, n) == 0)
			longest = n;
	}
	return longest;
}

/* Append `text` at reason[o], as much as fits before the NUL; new o. */
static size_t
put_text(char *reason, size_t o, size_t size, const char *text)
{
	for (; *text != '\0' && o + 1 < size; text++)
		reason[o++] = *text;
	return o;
}

void
kmstool_failure_reason(const uint8_t *err, size_t n,
    const char *const *redact, char *reason, size_t size)
{
	const uint8_t *p = err, *end = err + n, *next;
	const uint8_t *best = NULL, *last = NULL;
	size_t best_len = 0, last_len = 0, len, i, o = 0, hidden_until = 0;

	if (size == 0)
		return;
	for (; p < end; p = next) {
		len = line_at(p, end, &next);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0)
			continue;
		last = p;
		last_len = len;
		if (!is_log_line(p, len)) {
			best = p;
			best_len = len;
		}
	}
	if (best == NULL) {
		best = last;
		best_len = last_len;
	}
	/*
	 * One pass over the whole line, redacting before truncating, so a
	 * credential cut by the size limit cannot leak in part. A byte is
	 * hidden when any credential occurrence covers it: `hidden_until` is
	 * the furthest end of the occurrences started so far, so overlapping
	 * ones ("abc" and "bcdef" in "abcdef") are hidden together, under
	 * one mark.
	 */
	for (i = 0; best != NULL && i < best_len && o + 1 < size; i++) {
		size_t hit = longest_secret_at(best + i, best_len - i, redact);

		if (hit > 0 && i + hit > hidden_until) {
			if (i >= hidden_until)
				o = put_text(reason, o, size, "[redacted]");
			hidden_until = i + hit;
		}
		if (i < hidden_until)
			continue;
		reason[o++] = best[i] >= 0x20 && best[i] < 0x7f ?
		    (char)best[i] : '?';
	}
	reason[o] = '\0';
}
