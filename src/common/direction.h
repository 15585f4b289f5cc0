/*
 * direction.h - binding a sealed message to its direction (opt-in).
 *
 * A process result has the key, aad and layout of a process input, so
 * without more a host can hand a result back as a request (loop or roll
 * back an agent's state) or give a data owner their own input as if it
 * were a result. With `enclaved --bind-direction` the associated data
 * AES-GCM authenticates carries the direction in front of the caller's
 * aad: the input opens under "request" 0x00 aad, the result is sealed
 * under "result" 0x00 aad (docs/protocol.md). Neither label is a prefix
 * of the other, and the NUL ends the label, so no aad of one direction
 * equals one of the other. `enclavectl seal/open --direction` use the
 * same bytes.
 */
#ifndef COMMON_DIRECTION_H
#define COMMON_DIRECTION_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum direction {
	DIRECTION_REQUEST,	/* what the data owner seals for the enclave */
	DIRECTION_RESULT,	/* what the enclave seals for the data owner */
};

/*
 * out = the direction's label, a NUL, then the aad's len bytes: the
 * associated data for that direction. -1 when out of memory.
 */
int direction_bind_aad(struct buf *out, enum direction d, const uint8_t *aad,
    size_t len);
/* "request" or "result" to a direction; -1 for anything else. */
int direction_parse(const char *name, enum direction *d);

#endif
