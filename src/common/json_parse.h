/*
 * json_parse.h - cJSON, used strictly and hygienically.
 *
 * cJSON is the fastest JSON parser Debian packages (16 MiB string: ~20 ms,
 * against ~400 ms for jansson). What it leaves to us:
 *  - exactness: cJSON stops after the first value; json_parse_exact()
 *    insists that only whitespace follows it;
 *  - strictness: cJSON accepts numbers such as 01 and 1., raw NUL bytes
 *    and \uzzzz, which RFC 8259 does not; json_parse_exact() refuses
 *    them (json_scan.h);
 *  - I-JSON (RFC 7493): cJSON keeps both members of {"a":1,"a":2} and
 *    cuts names at U+0000, so two readers of one text could take two
 *    different members for one name; json_parse_exact() refuses duplicate
 *    names (decoded, byte for byte) in every object, and names holding
 *    U+0000. In a tree it returned, a name therefore means one member,
 *    and cJSON_GetObjectItemCaseSensitive() finds exactly it;
 *  - hygiene: its trees hold plaintext and credentials; with the wiping
 *    allocator installed, every block cJSON frees is cleansed first.
 */
#ifndef COMMON_JSON_PARSE_H
#define COMMON_JSON_PARSE_H

#include <stddef.h>

#include <cJSON.h>

#include "common/buf.h"
#include "common/json_scan.h"

/* Why json_parse_strict() refused a text. */
enum json_fault {
	JSON_FAULT_NONE,
	JSON_FAULT_SYNTAX,	/* not one strict JSON value (or out of memory) */
	JSON_FAULT_NUL_NAME,	/* a member name holding U+0000 */
	JSON_FAULT_DUPLICATE,	/* an object with two members of one name */
};

/* A refused name, printable ASCII, cut short with "...". */
#define JSON_NAME_SHOWN 40

struct json_verdict {
	enum json_fault fault;
	int             has_nul;	/* some string value escapes U+0000 */
	char            name[JSON_NAME_SHOWN];	/* the name at fault, if any */
};

/* json_parse_strict() flag: names holding U+0000 pass below the top level. */
#define JSON_PARSE_NESTED_NUL_NAMES JSON_NAMES_NESTED_NUL_OK

/* Parse exactly n bytes holding one strict I-JSON value; NULL otherwise. */
cJSON *json_parse_exact(const void *text, size_t n);
/* The same, saying why a text was refused; flags as above. */
cJSON *json_parse_strict(const void *text, size_t n, int flags,
    struct json_verdict *v);
/* A sentence for an error's details: "duplicate member name \"type\"". */
void   json_verdict_explain(const struct json_verdict *v, char *out,
    size_t size);
/* Make cJSON wipe every block it frees (process wide; call once at start). */
void   json_use_wiping_allocator(void);
/*
 * The member `name` of obj, or NULL: the one way this project looks a
 * member up. In a tree from json_parse_exact() it is the only member of
 * that name, matched byte for byte.
 */
cJSON *json_member(const cJSON *obj, const char *name);
/* The string value of `name` in obj, or NULL when absent or not a string. */
const char *json_string_field(const cJSON *obj, const char *name);
/*
 * The exact bytes of the top-level string member `name` of text (which
 * json_parse_exact() accepted: the same member json_member() finds),
 * appended to out; NULs included, where cJSON's C string stops.
 */
int    json_string_exact(const void *text, size_t n, const char *name,
    struct buf *out);

#endif
