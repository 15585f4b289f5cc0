/*
 * cbor_bounded.h - decoding CBOR from the wire without trusting its sizes.
 *
 * libcbor's cbor_load allocates what the input declares: a five-byte head
 * can ask for an array of 2^32 items. cbor_load_bounded first walks the
 * input with the streaming decoder, which allocates nothing, and refuses
 * any count the remaining bytes cannot hold (cbor_bounded.c); then every
 * map must have unique keys (cbor_keys.c). The NSM's responses inside
 * enclaved and the attestation verifier on the host decode through it.
 */
#ifndef COMMON_CBOR_BOUNDED_H
#define COMMON_CBOR_BOUNDED_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#include "common/reason.h"

/* Largest COSE_Sign1 accepted (real ones: 4.5-4.8 KB; NSM buffer: 12 KB). */
#define ATT_DOC_MAX        16384
/* Deepest CBOR nesting accepted (a document needs 4). */
#define ATT_CBOR_DEPTH_MAX 8
#define ATT_MAP_PAIRS_MAX  64	/* a document's maps have 9 pairs or fewer */

/*
 * Decode exactly one CBOR item filling all of data[0..len) (len at most
 * ATT_DOC_MAX), after a pass with libcbor's streaming decoder that checks
 * every declared array/map count against the bytes left and nesting against
 * max_depth, so no declared size can make libcbor allocate more than the
 * input justifies. NULL (and a reason) on malformed, truncated, trailing
 * or oversized input. The caller cbor_decref()s the result.
 */
cbor_item_t *cbor_load_bounded(const uint8_t *data, size_t len,
    size_t max_depth, struct reason *reason);

/*
 * cbor_keys.c. Every map in `it` (and below) has at most ATT_MAP_PAIRS_MAX
 * pairs, keys that are integers or text or byte strings, and no two keys
 * of equal value however encoded (definite or indefinite-length): 0, else
 * -1 with a reason. cbor_load_bounded() checks this before returning.
 */
int  cbor_maps_unique(const cbor_item_t *it, size_t depth,
    struct reason *reason);
/* 1 when `it` is a text string (definite or chunked) equal to s. */
int  cbor_text_equals(const cbor_item_t *it, const char *s);

#endif
