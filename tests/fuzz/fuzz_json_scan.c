/*
 * fuzz_json_scan.c - the raw JSON scanners (src/common/json_scan.c) that
 * run on request and plaintext text after cJSON accepted it: member
 * walking, exact string decoding, the escape and U+0000 check
 * (json_check_text).
 *
 * Checks, for text that json_parse_exact accepts as an object:
 *  - value_escaped is set exactly for string values holding a backslash;
 *  - json_next_member walks exactly cJSON's members, in order, ending
 *    with 0 (never -1) and each key decodes to cJSON's key;
 *  - a string value decodes to cJSON's valuestring wherever cJSON's C
 *    string is the whole value, and where it is not (a NUL in it, or an
 *    escape cJSON turned into one), json_check_text says so, since
 *    request.c trusts cJSON's string whenever that detector says no.
 */
#include "fuzz_common.h"

#include <cJSON.h>

#include "common/buf.h"
#include "common/json_parse.h"
#include "common/json_scan.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *text = fuzz_dup(data, size);
	cJSON *root = size ? json_parse_exact(text, size) : NULL;
	const cJSON *child;
	struct json_member m;
	struct buf dec = BUF_INIT;
	size_t pos = 0;
	int rc, nul = 0, check = 1, escapes_ok;

	(void)json_numbers_strict(text, size);
	escapes_ok = json_check_text(text, size, &nul) == 0;
	if (root == NULL || !cJSON_IsObject(root))
		goto out;
	/* json_parse_exact refuses what the escape check refuses. */
	FUZZ_CHECK(escapes_ok);
	/*
	 * Findings F1b and F1c (fixed): raw control bytes and malformed
	 * escapes that cJSON read loosely are refused by json_parse_exact,
	 * so cJSON and the scanners agree on everything that gets here.
	 */
	child = root->child;
	while ((rc = json_next_member(text, size, &pos, &m)) == 1) {
		FUZZ_CHECK(m.key.data >= text && m.key.data + m.key.len <= text + size);
		FUZZ_CHECK(m.value.data >= text &&
		    m.value.data + m.value.len <= text + size);
		/* value_escaped: a string value with a backslash, nothing else */
		FUZZ_CHECK(m.value_escaped == (m.value.len > 0 &&
		    m.value.data[0] == '"' &&
		    memchr(m.value.data, '\\', m.value.len) != NULL));
		dec.len = 0;
		rc = json_decode_string(m.key, &dec, size + 1);
		if (check) {
			FUZZ_CHECK(child != NULL);
			FUZZ_CHECK(rc == 0);
			if (dec.len == 0 || memchr(dec.data, 0, dec.len) == NULL)
				FUZZ_CHECK(dec.len == strlen(child->string) &&
				    (dec.len == 0 || memcmp(dec.data,
				    child->string, dec.len) == 0));
			else
				FUZZ_CHECK(nul);
		}
		dec.len = 0;
		rc = json_decode_string(m.value, &dec, size + 1);
		if (check && cJSON_IsString(child)) {
			FUZZ_CHECK(rc == 0);
			if (dec.len == 0 || memchr(dec.data, 0, dec.len) == NULL)
				FUZZ_CHECK(dec.len == strlen(child->valuestring) &&
				    (dec.len == 0 || memcmp(dec.data,
				    child->valuestring, dec.len) == 0));
			else
				FUZZ_CHECK(nul);
		}
		if (check)
			child = child->next;
	}
	if (check) {
		FUZZ_CHECK(rc == 0);
		FUZZ_CHECK(child == NULL);
	}
out:
	buf_free(&dec, 0);
	cJSON_Delete(root);
	free(text);
	return 0;
}
