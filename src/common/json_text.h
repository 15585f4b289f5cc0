/*
 * json_text.h - writing JSON text directly into a buffer.
 *
 * cJSON builds trees, which costs a copy of every string; responses that
 * carry megabytes (a hex result, an agent state) are written straight into
 * their output buffer instead. These helpers produce valid JSON strings
 * from arbitrary bytes: quotes, backslashes and control characters
 * (NUL included, which cJSON's C strings cannot hold) are escaped.
 */
#ifndef COMMON_JSON_TEXT_H
#define COMMON_JSON_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/*
 * The exact length of the literal for n bytes of s, quotes included, and
 * the writer that fills exactly that many bytes at dst (returning the end).
 * Sizing first lets a request holding a credential be written once into a
 * buffer that is wiped, never copied by a realloc.
 */
int   json_string_len(const void *s, size_t n, size_t *out);
char *json_string_write(char *dst, const void *s, size_t n);

/* Append `"...escaped..."` for n bytes of s. */
int json_append_string(struct buf *b, const uint8_t *s, size_t n, size_t limit);
int json_append_cstring(struct buf *b, const char *s, size_t limit);

#endif
