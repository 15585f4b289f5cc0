/*
 * key_id.h - what may name a TSK: 1 to 64 characters from [A-Za-z0-9._-].
 *
 * Key ids travel in requests (configure, process, forget), come back in
 * health, error details and the gateway's metrics labels: a plain
 * alphabet keeps every one of those free of escaping and control bytes.
 * The daemon, the gateway and their tests share this one definition.
 */
#ifndef COMMON_KEY_ID_H
#define COMMON_KEY_ID_H

#include <stddef.h>

#define KEY_ID_MAX     64
#define KEY_ID_DEFAULT "default"

/* 1 when the len bytes at `id` are a valid key id. */
int key_id_valid(const char *id, size_t len);

#endif
