/*
 * bulk_field.h - the one huge string of a request, kept out of cJSON.
 *
 * A process request is almost all hex: a 16 MiB plaintext travels as a
 * 32 MiB JSON string, which cJSON would copy byte by byte before we could
 * decode it. So the daemon finds that string in the message itself, and
 * cJSON parses a copy of the rest with the string emptied. The caller then
 * decodes the hex where it lies, in the connection's own input buffer.
 *
 * Only a plain string qualifies: long, top level, no escapes. Anything
 * else takes the ordinary path, so both give the same answers.
 */
#ifndef ENCLAVE_BULK_FIELD_H
#define ENCLAVE_BULK_FIELD_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/*
 * Below this, cJSON's copy costs less than the detour. At 1 KiB the copy
 * was a third of a request's instructions (docs/bench.md), so the cut
 * applies to nearly every process request.
 */
#define BULK_FIELD_MIN 128

struct bulk_field {
	uint8_t *data;		/* the string's contents, inside the message */
	size_t   len;
};

/*
 * When `msg` has a qualifying member `name`, set `field` and write into
 * `rest` the message with that string emptied; returns 1. Returns 0 when
 * it does not qualify (parse `msg` as it is), -1 when out of memory.
 */
int bulk_field_cut(uint8_t *msg, size_t len, const char *name,
    struct bulk_field *field, struct buf *rest);

#endif
