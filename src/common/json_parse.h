/*
 * json_parse.h - cJSON, used strictly and hygienically.
 *
 * cJSON is the fastest JSON parser Debian packages (16 MiB string: ~20 ms,
 * against ~400 ms for jansson). Two things it leaves to us:
 *  - exactness: cJSON stops after the first value; json_parse_exact()
 *    insists that only whitespace follows it;
 *  - strictness: cJSON accepts numbers such as 01 and 1., raw NUL bytes
 *    and \uzzzz, which RFC 8259 does not; json_parse_exact() refuses
 *    them (json_scan.h);
 *  - hygiene: its trees hold plaintext and credentials; with the wiping
 *    allocator installed, every block cJSON frees is cleansed first.
 */
#ifndef COMMON_JSON_PARSE_H
#define COMMON_JSON_PARSE_H

#include <stddef.h>

#include <cJSON.h>

/* Parse exactly n bytes holding one strict JSON value; NULL otherwise. */
cJSON *json_parse_exact(const void *text, size_t n);
/* The same, also saying whether some string escapes U+0000 (json_scan.h). */
cJSON *json_parse_exact_nul(const void *text, size_t n, int *has_nul);
/* Make cJSON wipe every block it frees (process wide; call once at start). */
void   json_use_wiping_allocator(void);
/* The string value of `name` in obj, or NULL when absent or not a string. */
const char *json_string_field(const cJSON *obj, const char *name);

#endif
