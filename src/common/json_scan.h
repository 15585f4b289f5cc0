/*
 * json_scan.h - reading JSON text that cJSON has already accepted, where
 * cJSON's tree loses something:
 *  - exact numbers: cJSON keeps doubles, so 9007199254740993 would come
 *    back as ...990; json_next_member() gives each member's raw text, so a
 *    value can be copied through untouched;
 *  - NUL: cJSON hands strings out as C strings, so "a\u0000b" would read
 *    as "a"; json_decode_string() returns the true bytes and length;
 *  - strict numbers: cJSON takes what strtod takes ("01", "1."), RFC 8259
 *    does not; json_numbers_strict() checks;
 *  - member names: cJSON keeps both members of {"a":1,"a":2} and compares
 *    names as C strings, so "type\u0000x" is found as "type";
 *    json_check_names() holds every object to I-JSON (RFC 7493): names
 *    unique, compared byte for byte once decoded, and free of U+0000.
 *
 * These scanners expect well-formed JSON (run cJSON first); on anything
 * else they fail cleanly rather than guess. Strings are crossed 64 bytes
 * a step, so a 32 MiB hex string costs little.
 */
#ifndef COMMON_JSON_SCAN_H
#define COMMON_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct json_member {
	struct slice key;	/* raw, quotes included */
	struct slice value;	/* raw */
	int          value_escaped;	/* a string value with a \ escape */
};

/*
 * Walk the top-level members of the object text[0..n). Start with
 * *pos = 0. Returns 1 with a member, 0 after the last, -1 if malformed.
 */
int json_next_member(const uint8_t *text, size_t n, size_t *pos,
    struct json_member *m);
/* The first member named `name` (decoded compare); -1 if none. */
int json_find_member(const uint8_t *text, size_t n, const char *name,
    struct json_member *found);
/* Decode a raw JSON string (quotes included) into bytes, appended to out. */
int json_decode_string(struct slice raw, struct buf *out, size_t limit);
/* 1 when every number in the text has RFC 8259 form. */
int json_numbers_strict(const uint8_t *text, size_t n);
/*
 * Check what cJSON lets through and RFC 8259 does not: raw control bytes
 * (a raw NUL would end cJSON's C string early) in a string or between
 * tokens (where only space, tab, CR and LF may stand), and malformed
 * escapes (cJSON reads \uzzzz as U+0000). -1 when the text has one;
 * otherwise 0, with *has_nul set when some string escapes U+0000 and so
 * cannot be read as a C string.
 */
int json_check_text(const uint8_t *text, size_t n, int *has_nul);

/* What json_check_names() found. */
enum json_names_verdict {
	JSON_NAMES_OK = 0,
	JSON_NAMES_MALFORMED = -1,	/* not JSON text, or out of memory */
	JSON_NAMES_NUL = -2,		/* a member name holding U+0000 */
	JSON_NAMES_DUPLICATE = -3,	/* one object, two members, one name */
};
/* json_check_names() flag: names holding U+0000 pass below the top level. */
#define JSON_NAMES_NESTED_NUL_OK 1

/*
 * Check the member names of every object in the value text[0..n), at any
 * depth: each name decoded ("a" and "\u0061" are one name) and compared
 * byte for byte with the others of its object. Linear but for a sort of
 * the names of objects with many members. On a fault, *name is the
 * offending name's raw text (quotes included) when name is not NULL.
 */
int json_check_names(const uint8_t *text, size_t n, int flags,
    struct slice *name);

#endif
