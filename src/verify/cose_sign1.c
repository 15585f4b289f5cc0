/*
 * cose_sign1.c - the COSE_Sign1 envelope of an attestation document (see
 * attestation.h); decoded with cbor_load_bounded (cbor_bounded.c).
 */
#include "verify/attestation.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/guard.h"

#define COSE_TAG_SIGN1  18
#define COSE_ALG_ES384  (-35)
#define COSE_SIGN1_TAG_BYTE 0xd2	/* major type 6, value 18 */

/* A definite byte string's contents; NULL data for an empty one is fine. */
static int
get_bstr(const cbor_item_t *it, struct slice *out)
{
	if (!cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it))
		return -1;
	out->data = cbor_bytestring_handle(it);
	out->len = cbor_bytestring_length(it);
	if (out->data == NULL && out->len > 0)
		return -1;
	return 0;
}

/* A CBOR integer (major type 0 or 1) as a signed value, if it fits. */
static int
get_int(const cbor_item_t *it, long long *out)
{
	uint64_t v;

	if (cbor_isa_uint(it)) {
		v = cbor_get_int(it);
		if (v > INT64_MAX)
			return -1;
		*out = (long long)v;
		return 0;
	}
	if (cbor_isa_negint(it)) {
		v = cbor_get_int(it);
		if (v > INT64_MAX)
			return -1;
		*out = -1 - (long long)v;
		return 0;
	}
	return -1;
}

/*
 * The protected header is a serialized map; find label 1 (alg). Parsed
 * with the same bounds as the document, definite or indefinite.
 */
static int
protected_alg(const struct slice *p, long long *alg, struct reason *reason)
{
	cbor_item_t *m;
	struct cbor_pair *pairs;
	size_t i, n;
	long long label;
	int found = 0;

	if (p->len == 0)
		return reason_fail(reason,
		    "COSE: protected header is empty (no algorithm)");
	m = cbor_load_bounded(p->data, p->len, 2, NULL);
	if (m == NULL)
		return reason_fail(reason,
		    "COSE: protected header is not CBOR");
	if (!cbor_isa_map(m)) {
		cbor_decref(&m);
		return reason_fail(reason,
		    "COSE: protected header is not a map");
	}
	pairs = cbor_map_handle(m);
	n = cbor_map_size(m);
	for (i = 0; i < n; i++) {
		if (get_int(pairs[i].key, &label) == 0 && label == 1) {
			if (found || get_int(pairs[i].value, alg) < 0) {
				cbor_decref(&m);
				return reason_fail(reason,
				    "COSE: bad algorithm in protected header");
			}
			found = 1;
		}
	}
	cbor_decref(&m);
	if (!found)
		return reason_fail(reason,
		    "COSE: no algorithm in protected header");
	return 0;
}

/*
 * A name for the refusal: the COSE signature algorithms (IANA registry)
 * someone may meet instead of ES384. QEMU's nitro-enclave machine writes
 * -1 with an empty signature: such a document proves nothing.
 */
static const char *
cose_alg_name(long long alg)
{
	static const struct { long long alg; const char *name; } names[] = {
		{ -7, "it is ES256" }, { -36, "it is ES512" },
		{ -8, "it is EdDSA" }, { -37, "it is PS256" },
		{ -38, "it is PS384" }, { -39, "it is PS512" },
		{ -257, "it is RS256" }, { -258, "it is RS384" },
		{ -259, "it is RS512" }, { -47, "it is ES256K" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(names); i++)
		if (names[i].alg == alg)
			return names[i].name;
	return "not a COSE signature algorithm";
}

int
cose_sign1_parse(struct cose_sign1 *out, const uint8_t *data, size_t len,
    struct reason *reason)
{
	cbor_item_t *root, *arr;
	cbor_item_t **items;

	memset(out, 0, sizeof(out[0]));
	/*
	 * libcbor 0.8's decoder rejects the one-byte heads of tags 6..20
	 * (fixed in 0.9), so tag 18 as NSM would write it, 0xD2, is taken off
	 * here; the two-byte form 0xD8 0x12 is handled below.
	 */
	if (len > 1 && data[0] == COSE_SIGN1_TAG_BYTE) {
		data++;
		len--;
	}
	root = cbor_load_bounded(data, len, ATT_CBOR_DEPTH_MAX, reason);
	if (root == NULL)
		return -1;
	out->item = root;
	arr = root;
	if (cbor_isa_tag(root)) {
		if (cbor_tag_value(root) != COSE_TAG_SIGN1) {
			reason_fail(reason,
			    "COSE: tag %llu is not COSE_Sign1 (18)",
			    (unsigned long long)cbor_tag_value(root));
			goto fail;
		}
		/* cbor_tag_item increfs: swap ownership to the array. */
		arr = cbor_tag_item(root);
		cbor_decref(&out->item);
		out->item = arr;
	}
	if (!cbor_isa_array(arr) || cbor_array_size(arr) != 4) {
		reason_fail(reason, "COSE: not a COSE_Sign1 (array of 4)");
		goto fail;
	}
	items = cbor_array_handle(arr);
	if (get_bstr(items[0], &out->protected_hdr) < 0) {
		reason_fail(reason,
		    "COSE: protected header is not a byte string");
		goto fail;
	}
	if (!cbor_isa_map(items[1])) {
		reason_fail(reason, "COSE: unprotected header is not a map");
		goto fail;
	}
	if (get_bstr(items[2], &out->payload) < 0 || out->payload.len == 0) {
		reason_fail(reason, "COSE: payload is not a byte string");
		goto fail;
	}
	if (get_bstr(items[3], &out->signature) < 0) {
		reason_fail(reason, "COSE: signature is not a byte string");
		goto fail;
	}
	if (protected_alg(&out->protected_hdr, &out->alg, reason) < 0)
		goto fail;
	if (out->alg != COSE_ALG_ES384) {
		reason_fail(reason,
		    "COSE: algorithm %lld is not ES384 (-35): %s%s", out->alg,
		    cose_alg_name(out->alg), out->signature.len == 0 ?
		    ", and the document carries no signature" : "");
		goto fail;
	}
	if (out->signature.len != 96) {
		reason_fail(reason,
		    "COSE: ES384 signature is %zu bytes, not 96",
		    out->signature.len);
		goto fail;
	}
	return 0;
fail:
	cose_sign1_free(out);
	return -1;
}

/* A CBOR head (major type, argument) in its shortest form. */
static int
put_head(struct buf *b, uint8_t major, uint64_t v)
{
	uint8_t h[9];
	size_t n;

	n = cbor_encode_uint(v, h, sizeof(h));
	if (n == 0)
		return -1;
	h[0] = (uint8_t)(h[0] | (uint8_t)(major << 5));
	return buf_append(b, h, n, 2 * ATT_DOC_MAX);
}

/*
 * Sig_structure = ["Signature1", protected, h'', payload], encoded
 * canonically around the protected header and payload bytes exactly as
 * received (RFC 8152 section 4.4).
 */
int
cose_sign1_sig_structure(const struct cose_sign1 *c, struct buf *out)
{
	static const char ctx[] = "Signature1";

	GUARD(put_head(out, 4, 4));
	GUARD(put_head(out, 3, sizeof(ctx) - 1));
	GUARD(buf_append(out, ctx, sizeof(ctx) - 1, 2 * ATT_DOC_MAX));
	GUARD(put_head(out, 2, c->protected_hdr.len));
	GUARD(buf_append(out, c->protected_hdr.data, c->protected_hdr.len,
	    2 * ATT_DOC_MAX));
	GUARD(put_head(out, 2, 0));
	GUARD(put_head(out, 2, c->payload.len));
	GUARD(buf_append(out, c->payload.data, c->payload.len,
	    2 * ATT_DOC_MAX));
	return 0;
}

void
cose_sign1_free(struct cose_sign1 *c)
{
	if (c->item != NULL)
		cbor_decref(&c->item);
	memset(c, 0, sizeof(*c));
}
