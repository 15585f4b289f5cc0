/*
 * cbor_keys.c - map keys a verifier can trust (see cbor_bounded.h).
 *
 * Two "nonce" keys in one map are read one way by one parser and the
 * other way by the next; RFC 8949 section 5.6 leaves duplicates to the
 * application and the AWS attestation document has unique fields. So
 * every map of a loaded item must have at most ATT_MAP_PAIRS_MAX pairs,
 * keys that are integers or text or byte strings, and no two keys with
 * the same value. Values are compared, not encodings: "nonce" as a
 * definite string and "nonce" as an indefinite-length string of chunks
 * are the same key.
 */
#include "common/cbor_bounded.h"

#include <stdlib.h>
#include <string.h>

#include "common/guard.h"

/* Nesting the walk follows, tags included (cbor_scan bounds containers). */
#define WALK_DEPTH_MAX (4 * ATT_CBOR_DEPTH_MAX)

/* A key's value: its CBOR major type and its integer or its bytes. */
struct key_value {
	int       type;		/* CBOR_TYPE_UINT, _NEGINT, _BYTESTRING, _STRING */
	uint64_t  n;
	uint8_t  *bytes;	/* owned; NULL when empty or an integer */
	size_t    len;
};

/* The chunks of a string (text or bytes), or the string itself. */
static size_t
string_chunks(const cbor_item_t *it, cbor_item_t *const **chunks)
{
	if (cbor_isa_string(it)) {
		*chunks = cbor_string_chunks_handle(it);
		return cbor_string_chunk_count(it);
	}
	*chunks = cbor_bytestring_chunks_handle(it);
	return cbor_bytestring_chunk_count(it);
}

static int
definite_bytes(const cbor_item_t *it, const uint8_t **p, size_t *n)
{
	if (cbor_isa_string(it) && cbor_string_is_definite(it)) {
		*p = cbor_string_handle(it);
		*n = cbor_string_length(it);
	} else if (cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it)) {
		*p = cbor_bytestring_handle(it);
		*n = cbor_bytestring_length(it);
	} else {
		return -1;
	}
	return *n > 0 && *p == NULL ? -1 : 0;
}

/*
 * The bytes of a text or byte string, definite or chunked, into
 * out[0..*len) when out is not NULL (*len is the room). -1 when not a
 * string or longer than the room.
 */
static int
string_value(const cbor_item_t *it, uint8_t *out, size_t *len)
{
	cbor_item_t *const *chunks;
	const uint8_t *p;
	size_t i, n, total = 0, count;

	if (definite_bytes(it, &p, &n) == 0) {
		if (out != NULL) {
			if (n > *len)
				return -1;
			if (n > 0)
				memcpy(out, p, n);
		}
		*len = n;
		return 0;
	}
	if (!cbor_isa_string(it) && !cbor_isa_bytestring(it))
		return -1;
	count = string_chunks(it, &chunks);
	for (i = 0; i < count; i++) {
		if (definite_bytes(chunks[i], &p, &n) < 0 ||
		    n > ATT_DOC_MAX - total)
			return -1;
		if (out != NULL) {
			if (n > *len - total)
				return -1;
			if (n > 0)
				memcpy(out + total, p, n);
		}
		total += n;
	}
	*len = total;
	return 0;
}

int
cbor_text_equals(const cbor_item_t *it, const char *s)
{
	uint8_t v[64];
	size_t n = sizeof(v), want = strlen(s);

	if (!cbor_isa_string(it) || want > sizeof(v) ||
	    string_value(it, v, &n) < 0)
		return 0;
	return n == want && (n == 0 || memcmp(v, s, n) == 0);
}

static int
key_value_get(const cbor_item_t *it, struct key_value *k)
{
	size_t n = 0;

	memset(k, 0, sizeof(*k));
	if (cbor_isa_uint(it) || cbor_isa_negint(it)) {
		k->type = cbor_isa_uint(it) ? CBOR_TYPE_UINT : CBOR_TYPE_NEGINT;
		k->n = cbor_get_int(it);
		return 0;
	}
	if (!cbor_isa_string(it) && !cbor_isa_bytestring(it))
		return -1;
	k->type = cbor_isa_string(it) ? CBOR_TYPE_STRING : CBOR_TYPE_BYTESTRING;
	GUARD(string_value(it, NULL, &n));
	if (n == 0)
		return 0;
	if ((k->bytes = malloc(n)) == NULL)
		return -1;
	k->len = n;
	return string_value(it, k->bytes, &k->len);
}

static int
key_value_equal(const struct key_value *a, const struct key_value *b)
{
	if (a->type != b->type)
		return 0;
	if (a->type == CBOR_TYPE_UINT || a->type == CBOR_TYPE_NEGINT)
		return a->n == b->n;
	return a->len == b->len &&
	    (a->len == 0 || memcmp(a->bytes, b->bytes, a->len) == 0);
}

static int
map_keys_unique(const cbor_item_t *m, struct reason *reason)
{
	struct key_value keys[ATT_MAP_PAIRS_MAX];
	struct cbor_pair *pairs = cbor_map_handle(m);
	size_t i, j, n = cbor_map_size(m), got = 0;
	int rc = -1;

	if (n > ATT_MAP_PAIRS_MAX)
		return reason_fail(reason,
		    "CBOR: a map of %zu pairs (at most %d)", n,
		    ATT_MAP_PAIRS_MAX);
	for (i = 0; i < n; i++, got++) {
		if (key_value_get(pairs[i].key, &keys[i]) < 0) {
			free(keys[i].bytes);
			reason_fail(reason, "CBOR: a map key that "
			    "is not an integer or a string");
			goto out;
		}
		for (j = 0; j < i; j++) {
			if (key_value_equal(&keys[i], &keys[j])) {
				got++;
				reason_fail(reason,
				    "CBOR: a map has a duplicate key");
				goto out;
			}
		}
	}
	rc = 0;
out:
	for (i = 0; i < got; i++)
		free(keys[i].bytes);
	return rc;
}

int
cbor_maps_unique(const cbor_item_t *it, size_t depth, struct reason *reason)
{
	size_t i, n;

	if (depth > WALK_DEPTH_MAX)
		return reason_fail(reason, "CBOR: nested too deeply");
	switch (cbor_typeof(it)) {
	case CBOR_TYPE_TAG: {
		cbor_item_t *tagged = cbor_tag_item(it);	/* a reference */
		int rc = cbor_maps_unique(tagged, depth + 1, reason);

		cbor_decref(&tagged);
		return rc;
	}
	case CBOR_TYPE_ARRAY:
		n = cbor_array_size(it);
		for (i = 0; i < n; i++)
			GUARD(cbor_maps_unique(cbor_array_handle(it)[i],
			    depth + 1, reason));
		return 0;
	case CBOR_TYPE_MAP:
		GUARD(map_keys_unique(it, reason));
		n = cbor_map_size(it);
		for (i = 0; i < n; i++)
			GUARD(cbor_maps_unique(cbor_map_handle(it)[i].value,
			    depth + 1, reason));
		return 0;
	default:
		return 0;
	}
}
