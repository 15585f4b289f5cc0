/*
 * utf8.h - UTF-8 validation (RFC 3629: no overlongs, no surrogates,
 * nothing past U+10FFFF). cJSON passes bytes through unchecked, so code
 * that promises "UTF-8 text" checks here.
 */
#ifndef COMMON_UTF8_H
#define COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

int utf8_valid(const uint8_t *s, size_t n);

#endif
