/*
 * fuzz_json_scan.c - the raw JSON scanners (src/common/json_scan.c) that
 * run on request and plaintext text beside cJSON: member walking, exact
 * string decoding, the escape and U+0000 check (json_check_text) and the
 * I-JSON member-name check (json_check_names).
 *
 * The scanners and the parser must always agree (issue 14 item 1: a
 * differential between two readers of one request is a way in). Checks:
 *  - for any text cJSON takes (strictly: the text checks and number
 *    syntax pass), json_check_names never calls it malformed, finds a
 *    duplicate only where a naive pairwise compare of cJSON's names at
 *    every depth finds one, finds one wherever that compare does when no
 *    name can hold U+0000, and reports U+0000 in a name only where the
 *    text escapes U+0000; json_parse_exact accepts exactly when it says OK;
 *  - for an object json_parse_exact accepts, at every depth of nested
 *    objects: json_next_member walks exactly cJSON's members, in order,
 *    ending with 0; each key decodes to exactly cJSON's name (no name
 *    holds U+0000 any more); json_find_member by that name finds that very
 *    member, as cJSON's lookup does (names are unique); value_escaped is
 *    set exactly for string values holding a backslash; a string value
 *    decodes to cJSON's valuestring wherever cJSON's C string is whole,
 *    and where it is not, json_check_text says so.
 */
#include "fuzz_common.h"

#include <cJSON.h>

#include "common/buf.h"
#include "common/frame.h"
#include "common/json_parse.h"
#include "common/json_scan.h"

/* The reference: any two members of one object, at any depth, share a name. */
static int
tree_has_duplicate(const cJSON *item)
{
	const cJSON *a, *b;

	for (a = item->child; a != NULL; a = a->next) {
		if (cJSON_IsObject(item))
			for (b = a->next; b != NULL; b = b->next)
				if (strcmp(a->string, b->string) == 0)
					return 1;
		if (tree_has_duplicate(a))
			return 1;
	}
	return 0;
}

/* The scanners on one object's text against cJSON's object, recursively. */
static void
compare_object(const uint8_t *text, size_t n, const cJSON *obj, int nul)
{
	const cJSON *child = obj->child;
	struct json_member m, found;
	struct buf dec = BUF_INIT;
	size_t pos = 0;
	int rc;

	while ((rc = json_next_member(text, n, &pos, &m)) == 1) {
		FUZZ_CHECK(child != NULL);
		FUZZ_CHECK(m.key.data >= text && m.key.data + m.key.len <= text + n);
		FUZZ_CHECK(m.value.data >= text &&
		    m.value.data + m.value.len <= text + n);
		FUZZ_CHECK(m.value_escaped == (m.value.len > 0 &&
		    m.value.data[0] == '"' &&
		    memchr(m.value.data, '\\', m.value.len) != NULL));
		/* the key: exactly cJSON's name, never holding U+0000 */
		dec.len = 0;
		FUZZ_CHECK(json_decode_string(m.key, &dec, m.key.len) == 0);
		FUZZ_CHECK(dec.len == strlen(child->string) && (dec.len == 0 ||
		    memcmp(dec.data, child->string, dec.len) == 0));
		/* one name, one member: both lookups land on this one */
		FUZZ_CHECK(json_member(obj, child->string) == child);
		FUZZ_CHECK(json_find_member(text, n, child->string, &found) == 0);
		FUZZ_CHECK(found.value.data == m.value.data &&
		    found.value.len == m.value.len);
		/* a string value: cJSON's, unless its C string was cut */
		if (cJSON_IsString(child)) {
			dec.len = 0;
			FUZZ_CHECK(json_decode_string(m.value, &dec, m.value.len) == 0);
			if (dec.len == 0 || memchr(dec.data, 0, dec.len) == NULL)
				FUZZ_CHECK(dec.len == strlen(child->valuestring) &&
				    (dec.len == 0 || memcmp(dec.data,
				    child->valuestring, dec.len) == 0));
			else
				FUZZ_CHECK(nul);
		}
		if (cJSON_IsObject(child))
			compare_object(m.value.data, m.value.len, child, nul);
		child = child->next;
	}
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(child == NULL);
	buf_free(&dec, 0);
}

/* cJSON's parse without the name check: strict text, whole, strict numbers. */
static cJSON *
parse_without_names(const uint8_t *text, size_t size, int text_ok)
{
	const char *end = NULL, *stop = (const char *)text + size;
	cJSON *loose;

	if (!text_ok || size == 0)
		return NULL;
	loose = cJSON_ParseWithLengthOpts((const char *)text, size, &end, 0);
	if (loose == NULL)
		return NULL;
	while (end < stop && frame_is_space((uint8_t)*end))
		end++;
	if (end != stop || !json_numbers_strict(text, size)) {
		cJSON_Delete(loose);
		return NULL;
	}
	return loose;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *text = fuzz_dup(data, size);
	cJSON *root = size ? json_parse_exact(text, size) : NULL;
	cJSON *loose;
	struct slice at = { NULL, 0 };
	int names, nested, nul = 0, text_ok, dup;

	(void)json_numbers_strict(text, size);
	text_ok = json_check_text(text, size, &nul) == 0;
	/* json_parse_exact refuses what the text check refuses (F1b, F1c). */
	FUZZ_CHECK(root == NULL || text_ok);
	loose = parse_without_names(text, size, text_ok);
	FUZZ_CHECK(root == NULL || loose != NULL);
	if (loose != NULL) {
		names = json_check_names(text, size, 0, &at);
		nested = json_check_names(text, size, JSON_NAMES_NESTED_NUL_OK,
		    NULL);
		dup = tree_has_duplicate(loose);
		FUZZ_CHECK(names != JSON_NAMES_MALFORMED);
		FUZZ_CHECK(nested != JSON_NAMES_MALFORMED);
		/* a byte-exact duplicate is a duplicate of cJSON's cut names too */
		if (names == JSON_NAMES_DUPLICATE || nested == JSON_NAMES_DUPLICATE)
			FUZZ_CHECK(dup);
		/* a name holds U+0000 only where the text escapes one */
		if (names == JSON_NAMES_NUL || nested == JSON_NAMES_NUL)
			FUZZ_CHECK(nul);
		/* without U+0000 cJSON's names are exact: the two must agree */
		if (!nul)
			FUZZ_CHECK((names == JSON_NAMES_DUPLICATE) == dup &&
			    names != JSON_NAMES_NUL && nested == names);
		/* the flag only ever lets more through */
		if (names == JSON_NAMES_OK)
			FUZZ_CHECK(nested == JSON_NAMES_OK);
		/* the name at fault is a name in the text */
		if (names != JSON_NAMES_OK)
			FUZZ_CHECK(at.data >= text && at.len >= 2 &&
			    at.data + at.len <= text + size && at.data[0] == '"' &&
			    at.data[at.len - 1] == '"');
		/* json_parse_exact: cJSON, strictly, and the names check */
		FUZZ_CHECK((root != NULL) == (names == JSON_NAMES_OK));
	}
	if (root != NULL) {
		FUZZ_CHECK(!tree_has_duplicate(root));
		if (cJSON_IsObject(root))
			compare_object(text, size, root, nul);
	}
	cJSON_Delete(loose);
	cJSON_Delete(root);
	free(text);
	return 0;
}
