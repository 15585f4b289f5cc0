/*
 * nsm_cbor.c - NSM Attestation request and response (see nsm_cbor.h).
 */
#include "common/nsm_cbor.h"

#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "common/cbor_bounded.h"
#include "common/guard.h"

/* A bstr for a slice with data, null otherwise; NULL on allocation failure. */
static cbor_item_t *
bstr_or_null(const struct slice *s)
{
	if (s == NULL || s->data == NULL)
		return cbor_new_null();
	return cbor_build_bytestring(s->data, s->len);
}

/* Add key -> value, taking ownership of value (freed on failure too). */
static int
map_put(cbor_item_t *map, const char *key, cbor_item_t *value)
{
	cbor_item_t *k;
	int ok;

	if (value == NULL)
		return -1;
	if ((k = cbor_build_string(key)) == NULL) {
		cbor_decref(&value);
		return -1;
	}
	ok = cbor_map_add(map, (struct cbor_pair){ .key = k, .value = value });
	cbor_decref(&k);
	cbor_decref(&value);
	return ok ? 0 : -1;
}

int
nsm_attestation_request(struct buf *out, const struct slice *user_data,
    const struct slice *nonce, const struct slice *public_key)
{
	cbor_item_t *outer = NULL, *inner = NULL, *tmp;
	unsigned char *bytes = NULL;
	size_t cap = 0, n;
	int rc = -1;

	if ((user_data && user_data->data && user_data->len > NSM_FIELD_MAX) ||
	    (nonce && nonce->data && nonce->len > NSM_FIELD_MAX) ||
	    (public_key && public_key->data &&
	    public_key->len > NSM_FIELD_MAX))
		return -1;
	if ((outer = cbor_new_definite_map(1)) == NULL ||
	    (inner = cbor_new_definite_map(3)) == NULL)
		goto out;
	GUARD_GOTO(map_put(inner, "user_data", bstr_or_null(user_data)), out);
	GUARD_GOTO(map_put(inner, "nonce", bstr_or_null(nonce)), out);
	GUARD_GOTO(map_put(inner, "public_key", bstr_or_null(public_key)),
	    out);
	tmp = inner;
	inner = NULL;	/* map_put owns it from here, on failure too */
	GUARD_GOTO(map_put(outer, "Attestation", tmp), out);
	n = cbor_serialize_alloc(outer, &bytes, &cap);
	if (n == 0)
		goto out;
	GUARD_GOTO(buf_append(out, bytes, n, NSM_REQUEST_MAX), out);
	rc = 0;
out:
	free(bytes);
	if (inner != NULL)
		cbor_decref(&inner);
	if (outer != NULL)
		cbor_decref(&outer);
	return rc;
}

static int
text_is(const cbor_item_t *it, const char *s)
{
	size_t n = strlen(s);

	return cbor_isa_string(it) && cbor_string_is_definite(it) &&
	    cbor_string_length(it) == n &&
	    memcmp(cbor_string_handle(it), s, n) == 0;
}

/* The value under text key `key` in map `m`, or NULL. */
static cbor_item_t *
map_get(const cbor_item_t *m, const char *key)
{
	struct cbor_pair *pairs = cbor_map_handle(m);
	size_t i, n = cbor_map_size(m);

	for (i = 0; i < n; i++)
		if (text_is(pairs[i].key, key))
			return pairs[i].value;
	return NULL;
}

/* {"Error": "<code>"}: report the code, printable ASCII only, bounded. */
static int
nsm_error(const cbor_item_t *v, struct reason *reason)
{
	char code[64];
	const unsigned char *p;
	size_t n, i;

	if (!cbor_isa_string(v) || !cbor_string_is_definite(v))
		return reason_fail(reason, "NSM error: (malformed code)");
	n = cbor_string_length(v);
	p = cbor_string_handle(v);
	if (n >= sizeof(code))
		n = sizeof(code) - 1;
	for (i = 0; i < n; i++)
		code[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	code[n] = '\0';
	return reason_fail(reason, "NSM error: %s", code);
}

int
nsm_attestation_response(const uint8_t *resp, size_t len, struct buf *doc,
    struct reason *reason)
{
	cbor_item_t *root, *v, *d;
	int rc = -1;

	if (len > NSM_RESPONSE_MAX)
		return reason_fail(reason,
		    "NSM response larger than %d bytes", NSM_RESPONSE_MAX);
	root = cbor_load_bounded(resp, len, 4, reason);
	if (root == NULL)
		return -1;
	if (!cbor_isa_map(root) || cbor_map_size(root) != 1) {
		reason_fail(reason, "NSM response is not a 1-entry map");
		goto out;
	}
	if ((v = map_get(root, "Error")) != NULL) {
		nsm_error(v, reason);
		goto out;
	}
	if ((v = map_get(root, "Attestation")) == NULL || !cbor_isa_map(v)) {
		reason_fail(reason, "NSM response is not an Attestation");
		goto out;
	}
	d = map_get(v, "document");
	if (d == NULL || !cbor_isa_bytestring(d) ||
	    !cbor_bytestring_is_definite(d) || cbor_bytestring_length(d) == 0) {
		reason_fail(reason, "NSM response has no document");
		goto out;
	}
	if (buf_append(doc, cbor_bytestring_handle(d),
	    cbor_bytestring_length(d), NSM_RESPONSE_MAX) < 0) {
		reason_fail(reason, "NSM document too large");
		goto out;
	}
	rc = 0;
out:
	cbor_decref(&root);
	return rc;
}
