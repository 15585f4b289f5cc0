/*
 * test_json_scan.c - raw-text JSON scanners: member spans, exact string
 * decoding (NULs, surrogates), strict numbers, the \u0000 detector.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/json_parse.h"
#include "common/json_scan.h"

#define T(s) (const uint8_t *)(s), strlen(s)

static void
assert_slice(struct slice s, const char *want)
{
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.data, want, s.len);
}

static void
test_members_in_order_with_raw_values(void **state)
{
	const char *text = " { \"a\" : 9007199254740993 , \"b\":{\"x\":[1,\"}\"]},"
	    "\"c\":\"q\\\"}\" ,\"d\":null}";
	struct json_member m;
	size_t pos = 0;

	(void)state;
	assert_int_equal(json_next_member(T(text), &pos, &m), 1);
	assert_slice(m.key, "\"a\"");
	assert_slice(m.value, "9007199254740993");
	assert_int_equal(json_next_member(T(text), &pos, &m), 1);
	assert_slice(m.value, "{\"x\":[1,\"}\"]}");
	assert_int_equal(json_next_member(T(text), &pos, &m), 1);
	assert_slice(m.value, "\"q\\\"}\"");
	assert_int_equal(json_next_member(T(text), &pos, &m), 1);
	assert_slice(m.value, "null");
	assert_int_equal(json_next_member(T(text), &pos, &m), 0);
}

static void
test_find_member_compares_decoded_keys(void **state)
{
	struct json_member m;

	(void)state;
	assert_int_equal(json_find_member(T("{\"a\\u0061d\":\"x\",\"aad\":\"y\"}"),
	    "aad", &m), 0);
	assert_slice(m.value, "\"x\"");	/* the first match, as cJSON does */
	assert_int_equal(json_find_member(T("{\"b\":1}"), "aad", &m), -1);
	assert_int_equal(json_find_member(T("[1]"), "aad", &m), -1);
	assert_int_equal(json_find_member(T("{\"a\":"), "a", &m), -1);
}

/*
 * A string value says whether it holds an escape, wherever the backslash
 * falls against the scanner's 64-byte steps; an escaped quote does not
 * end the string, an escaped backslash before a quote does not hide it.
 */
static void
test_find_member_flags_escapes_anywhere(void **state)
{
	char text[512], value[300];
	struct json_member m;
	size_t at;

	(void)state;
	for (at = 0; at + 1 < 200; at++) {
		memset(value, 'a', 200);
		value[200] = '\0';
		value[at] = '\\';
		value[at + 1] = at % 2 ? '"' : '\\';
		snprintf(text, sizeof(text), "{\"k\":\"%s\",\"z\":1}", value);
		assert_int_equal(json_find_member(T(text), "k", &m), 0);
		assert_int_equal(m.value.len, 202);
		assert_true(m.value_escaped);
		assert_int_equal(json_find_member(T(text), "z", &m), 0);
		assert_slice(m.value, "1");
		assert_false(m.value_escaped);
	}
	memset(value, 'b', 299);
	value[299] = '\0';
	snprintf(text, sizeof(text), "{\"k\":\"%s\"}", value);
	assert_int_equal(json_find_member(T(text), "k", &m), 0);
	assert_int_equal(m.value.len, 301);
	assert_false(m.value_escaped);
	/* "\\" closes at the next quote; a lone trailing backslash never does. */
	assert_int_equal(json_find_member(T("{\"k\":\"x\\\\\"}"), "k", &m), 0);
	assert_slice(m.value, "\"x\\\\\"");
	assert_int_equal(json_find_member(T("{\"k\":\"x\\"), "k", &m), -1);
	assert_int_equal(json_find_member(T("{\"k\":\"x\\\""), "k", &m), -1);
}

static void
test_decode_string_exact_bytes(void **state)
{
	struct buf out = BUF_INIT;
	const char *raw = "\"a\\u0000b\\n\\ud83d\\ude00\\u00e9\\/\"";
	const uint8_t want[] = { 'a', 0, 'b', '\n', 0xf0, 0x9f, 0x98, 0x80,
	    0xc3, 0xa9, '/' };

	(void)state;
	assert_int_equal(json_decode_string((struct slice){ T(raw) }, &out,
	    1024), 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.data, want, sizeof(want));
	out.len = 0;
	/* A lone surrogate, a bad escape and a short \u are refused. */
	assert_int_equal(json_decode_string((struct slice){ T("\"\\ud83d\"") },
	    &out, 1024), -1);
	assert_int_equal(json_decode_string((struct slice){ T("\"\\q\"") },
	    &out, 1024), -1);
	assert_int_equal(json_decode_string((struct slice){ T("\"\\u12\"") },
	    &out, 1024), -1);
	assert_int_equal(json_decode_string((struct slice){ T("x") }, &out,
	    1024), -1);
	buf_free(&out, 0);
}

static void
test_numbers_strict(void **state)
{
	(void)state;
	assert_true(json_numbers_strict(T("[0,-0,1,-12,1.5,1e5,1E+5,2.5e-3]")));
	assert_true(json_numbers_strict(T("{\"s\":\"01 1. -\"}")));
	assert_false(json_numbers_strict(T("[01]")));
	assert_false(json_numbers_strict(T("[1.]")));
	assert_false(json_numbers_strict(T("[1.e5]")));
	assert_false(json_numbers_strict(T("[-]")));
	assert_false(json_numbers_strict(T("[1e]")));
	assert_false(json_numbers_strict(T("[-01]")));
	/* And json_parse_exact refuses what cJSON alone would accept. */
	assert_null(json_parse_exact(T("{\"x\":01}")));
	assert_null(json_parse_exact(T("{\"x\":1} x")));
}

static int
has_nul(const char *text)
{
	int nul = -1;

	assert_int_equal(json_check_text(T(text), &nul), 0);
	return nul;
}

static void
test_escape_check(void **state)
{
	(void)state;
	assert_true(has_nul("{\"a\":\"x\\u0000\"}"));
	assert_true(has_nul("{\"a\":\"\\\\\\u0000\"}"));
	/* An escaped backslash followed by text u0000 is not a NUL. */
	assert_false(has_nul("{\"a\":\"\\\\u0000\"}"));
	assert_false(has_nul("{\"a\":\"u0000\\n\\u00e9\"}"));
	/* What cJSON would let through is refused. */
	int nul;
	assert_int_equal(json_check_text((const uint8_t *)"{\"a\":\"p\0x\"}",
	    12, &nul), -1);
	assert_int_equal(json_check_text(T("{\"a\":\"\\uzzzz\"}"), &nul), -1);
	assert_int_equal(json_check_text(T("{\"a\":\"\\u12\"}"), &nul), -1);
	assert_int_equal(json_check_text(T("{\"a\":\"\\q\"}"), &nul), -1);
	/* Raw control bytes: none in strings, only whitespace between tokens. */
	assert_int_equal(json_check_text(T("{\"a\":\"x\ty\"}"), &nul), -1);
	assert_int_equal(json_check_text(T("{\x0b\"a\":1}"), &nul), -1);
	assert_int_equal(json_check_text(T("{\"a\":\n\t\r 1}"), &nul), 0);
}

/* Long strings are crossed 16 bytes a step: every position still counts. */
static void
test_escape_check_long_strings(void **state)
{
	char text[128];
	size_t at;
	int nul;

	(void)state;
	for (at = 6; at < 6 + 70; at++) {
		memset(text, 'x', sizeof(text));
		memcpy(text, "{\"a\":\"", 6);
		memcpy(text + 80, "\"}", 3);
		assert_int_equal(json_check_text((const uint8_t *)text, 82, &nul), 0);
		text[at] = '\x01';
		assert_int_equal(json_check_text((const uint8_t *)text, 82, &nul), -1);
		text[at] = '\0';
		assert_int_equal(json_check_text((const uint8_t *)text, 82, &nul), -1);
		memcpy(text + at, "\\u0000", 6);
		assert_int_equal(json_check_text((const uint8_t *)text, 82, &nul), 0);
		assert_true(nul);
		text[at + 1] = 'q';
		assert_int_equal(json_check_text((const uint8_t *)text, 82, &nul), -1);
		/* a quote ends the string: what follows is between tokens */
		text[at] = '"';
		text[at + 1] = '\x01';
		assert_int_equal(json_check_text((const uint8_t *)text, 82, &nul), -1);
	}
}

static int
names(const char *text, int flags)
{
	struct slice at;

	return json_check_names(T(text), flags, &at);
}

/* I-JSON names (RFC 7493): unique per object, byte-exact, no U+0000. */
static void
test_check_names(void **state)
{
	struct slice at;

	(void)state;
	assert_int_equal(names("{\"a\":1,\"b\":{\"a\":1},\"c\":[{\"a\":1},{\"a\":2}]}",
	    0), JSON_NAMES_OK);
	assert_int_equal(names("[1,\"x\",{},[],{\"\":1}]", 0), JSON_NAMES_OK);
	assert_int_equal(names("\"just a string\"", 0), JSON_NAMES_OK);
	/* case, a trailing space and a prefix are other names */
	assert_int_equal(names("{\"a\":1,\"A\":1,\"a \":1,\"ab\":1}", 0),
	    JSON_NAMES_OK);
	assert_int_equal(names("{\"a\":1,\"a\":1}", 0), JSON_NAMES_DUPLICATE);
	assert_int_equal(names("{\"a\":1,\"\\u0061\":1}", 0), JSON_NAMES_DUPLICATE);
	assert_int_equal(names("{\"\\u00e9\":1,\"\xc3\xa9\":1}", 0),
	    JSON_NAMES_DUPLICATE);
	assert_int_equal(names("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", 0),
	    JSON_NAMES_DUPLICATE);
	assert_int_equal(names("{\"x\":[[{\"a\":{\"b\":1,\"b\":2}}]]}", 0),
	    JSON_NAMES_DUPLICATE);
	assert_int_equal(names("{\"\":1,\"\":2}", 0), JSON_NAMES_DUPLICATE);
	/* the offending name, as written */
	assert_int_equal(json_check_names(T("{\"type\":1,\"t\\u0079pe\":2}"), 0,
	    &at), JSON_NAMES_DUPLICATE);
	assert_slice(at, "\"t\\u0079pe\"");
	/* U+0000: refused; with the flag, below the top level only */
	assert_int_equal(names("{\"a\\u0000\":1}", 0), JSON_NAMES_NUL);
	assert_int_equal(names("{\"x\":{\"a\\u0000\":1}}", 0), JSON_NAMES_NUL);
	assert_int_equal(names("[{\"\\u0000\":1}]", 0), JSON_NAMES_NUL);
	assert_int_equal(names("{\"a\\u0000\":1}", JSON_NAMES_NESTED_NUL_OK),
	    JSON_NAMES_NUL);
	assert_int_equal(names("{\"x\":{\"k\\u0000a\":1,\"k\\u0000b\":1}}",
	    JSON_NAMES_NESTED_NUL_OK), JSON_NAMES_OK);
	assert_int_equal(names("{\"x\":{\"k\\u0000a\":1,\"k\\u0000a\":1}}",
	    JSON_NAMES_NESTED_NUL_OK), JSON_NAMES_DUPLICATE);
	/* U+0000 in a value is no concern of names */
	assert_int_equal(names("{\"a\":\"\\u0000\"}", 0), JSON_NAMES_OK);
	/* and text that is not JSON fails cleanly */
	assert_int_equal(names("{\"a\":1", 0), JSON_NAMES_MALFORMED);
	assert_int_equal(names("{\"a\" 1}", 0), JSON_NAMES_MALFORMED);
	assert_int_equal(names("{\"a\":}", 0), JSON_NAMES_MALFORMED);
	assert_int_equal(names("[1,]", 0), JSON_NAMES_MALFORMED);
	assert_int_equal(names("{} x", 0), JSON_NAMES_MALFORMED);
	assert_int_equal(names("", 0), JSON_NAMES_MALFORMED);
}

/* Past the pairwise check names are sorted: a duplicate anywhere is found. */
static void
test_check_names_many(void **state)
{
	struct buf t = BUF_INIT;
	struct slice at;
	int i;

	(void)state;
	assert_int_equal(buf_append_str(&t, "{", 1 << 20), 0);
	for (i = 0; i < 5000; i++)
		assert_int_equal(buf_printf(&t, 1 << 20, "%s\"n%d\":%d",
		    i ? "," : "", i, i), 0);
	assert_int_equal(buf_append_str(&t, "}", 1 << 20), 0);
	assert_int_equal(json_check_names(t.data, t.len, 0, &at), JSON_NAMES_OK);
	t.len--;
	assert_int_equal(buf_append_str(&t, ",\"n\\u00334\":0}", 1 << 20), 0);
	assert_int_equal(json_check_names(t.data, t.len, 0, &at),
	    JSON_NAMES_DUPLICATE);
	assert_slice(at, "\"n\\u00334\"");
	buf_free(&t, 0);
}

static void
test_parse_strict_verdicts(void **state)
{
	struct json_verdict v;
	char why[96];
	cJSON *root;

	(void)state;
	assert_null(json_parse_strict(T("{\"type\":\"ping\",\"type\":\"x\"}"), 0, &v));
	assert_int_equal(v.fault, JSON_FAULT_DUPLICATE);
	json_verdict_explain(&v, why, sizeof(why));
	assert_string_equal(why, "duplicate member name \"type\"");
	assert_null(json_parse_strict(T("{\"type\\u0000x\":\"health\",\"type\":\"ping\"}"),
	    0, &v));
	assert_int_equal(v.fault, JSON_FAULT_NUL_NAME);
	json_verdict_explain(&v, why, sizeof(why));
	assert_string_equal(why, "member name \"type\\u0000x\" holds U+0000");
	assert_null(json_parse_strict(T("{\"a\":01}"), 0, &v));
	assert_int_equal(v.fault, JSON_FAULT_SYNTAX);
	/* a long or unprintable name is shown cut and printable */
	assert_null(json_parse_strict(T("{\"\xc3\xa9\x7f" "0123456789012345678901234567890123456789\":1,"
	    "\"\xc3\xa9\x7f" "0123456789012345678901234567890123456789\":2}"), 0, &v));
	assert_string_equal(v.name, "???012345678901234567890123456789012...");
	/* accepted: has_nul reports a U+0000 in a value */
	root = json_parse_strict(T("{\"a\":\"x\\u0000\"}"), 0, &v);
	assert_non_null(root);
	assert_int_equal(v.fault, JSON_FAULT_NONE);
	assert_true(v.has_nul);
	cJSON_Delete(root);
	/* json_parse_exact is the strict parse */
	assert_null(json_parse_exact(T("{\"a\":1,\"a\":1}")));
	assert_null(json_parse_exact(T("{\"\\u0000\":1}")));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members_in_order_with_raw_values),
		cmocka_unit_test(test_find_member_compares_decoded_keys),
		cmocka_unit_test(test_find_member_flags_escapes_anywhere),
		cmocka_unit_test(test_decode_string_exact_bytes),
		cmocka_unit_test(test_numbers_strict),
		cmocka_unit_test(test_escape_check),
		cmocka_unit_test(test_escape_check_long_strings),
		cmocka_unit_test(test_check_names),
		cmocka_unit_test(test_check_names_many),
		cmocka_unit_test(test_parse_strict_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
