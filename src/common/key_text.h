/*
 * key_text.h - a 32-byte key written as text: 64 hex characters or base64.
 *
 * enclavectl's data-owner key file and kmstool-dev's master key file take
 * the key in the forms `openssl rand -hex 32` and `aws kms
 * generate-data-key` print. Each tool keeps its own rules for the file
 * around the text (a raw 32-byte file, which whitespace to drop, its
 * messages); the decoding of the text itself is this one function.
 */
#ifndef COMMON_KEY_TEXT_H
#define COMMON_KEY_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define KEY_TEXT_KEY_LEN 32

/*
 * Decode the n characters at text, exactly (no whitespace is skipped), into
 * key[KEY_TEXT_KEY_LEN]: 64 hex characters, either case, or strict padded
 * base64 of 32 bytes. -1 when it is neither; nothing of the key is left
 * on the stack.
 */
int key_text_decode(uint8_t key[KEY_TEXT_KEY_LEN], const char *text, size_t n);

#endif
