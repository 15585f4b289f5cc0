/*
 * attestation_doc.c - the payload map of a Nitro attestation document
 * (see attestation.h and the AWS Nitro Enclaves attestation process:
 * module_id, digest, timestamp, pcrs, certificate, cabundle, public_key,
 * user_data, nonce).
 */
#include "verify/attestation.h"

#include <string.h>

#include "common/guard.h"

#define PCR_SHA384_LEN 48

/* Field bits, to refuse duplicates and report missing mandatory fields. */
enum {
	F_MODULE_ID = 1 << 0, F_DIGEST = 1 << 1, F_TIMESTAMP = 1 << 2,
	F_PCRS = 1 << 3, F_CERTIFICATE = 1 << 4, F_CABUNDLE = 1 << 5,
	F_PUBLIC_KEY = 1 << 6, F_USER_DATA = 1 << 7, F_NONCE = 1 << 8,
};

/* A definite text string copied into out[cap] (NUL-terminated). */
static int
get_text(const cbor_item_t *it, char *out, size_t cap)
{
	size_t n, i;
	const unsigned char *p;

	if (!cbor_isa_string(it) || !cbor_string_is_definite(it))
		return -1;
	n = cbor_string_length(it);
	p = cbor_string_handle(it);
	if (n >= cap || (n > 0 && p == NULL))
		return -1;
	for (i = 0; i < n; i++)
		if (p[i] == '\0')
			return -1;
	if (n > 0)
		memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int
get_bstr(const cbor_item_t *it, struct slice *out, size_t max)
{
	if (!cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it))
		return -1;
	out->data = cbor_bytestring_handle(it);
	out->len = cbor_bytestring_length(it);
	if ((out->data == NULL && out->len > 0) || out->len > max)
		return -1;
	return 0;
}

/*
 * bstr of min..max bytes, or null (what the NSM writes for a field not
 * asked for); an absent field stays "not present" too.
 */
static int
get_opt_bstr(const cbor_item_t *it, struct att_opt_bytes *out, size_t min,
    size_t max)
{
	if (cbor_isa_float_ctrl(it) && cbor_is_null(it)) {
		out->present = 0;
		return 0;
	}
	GUARD(get_bstr(it, &out->v, max));
	if (out->v.len < min)
		return -1;
	out->present = 1;
	return 0;
}

static int
parse_pcrs(struct attestation_doc *d, const cbor_item_t *m,
    struct reason *reason)
{
	struct cbor_pair *pairs;
	size_t i, n;

	if (!cbor_isa_map(m))
		return reason_fail(reason, "payload: pcrs is not a map");
	pairs = cbor_map_handle(m);
	n = cbor_map_size(m);
	if (n == 0 || n > ATT_PCR_COUNT)
		return reason_fail(reason, "payload: pcrs has %zu entries", n);
	for (i = 0; i < n; i++) {
		struct slice v;
		uint64_t idx;

		if (!cbor_isa_uint(pairs[i].key) ||
		    (idx = cbor_get_int(pairs[i].key)) >= ATT_PCR_COUNT)
			return reason_fail(reason, "payload: bad PCR index");
		if (d->pcrs[idx].present)
			return reason_fail(reason,
			    "payload: PCR%u listed twice", (unsigned)idx);
		if (get_bstr(pairs[i].value, &v, ATT_PCR_MAX_LEN) < 0 ||
		    v.len != PCR_SHA384_LEN)
			return reason_fail(reason,
			    "payload: PCR%u is not 48 bytes", (unsigned)idx);
		memcpy(d->pcrs[idx].value, v.data, v.len);
		d->pcrs[idx].len = v.len;
		d->pcrs[idx].present = 1;
		d->npcrs++;
	}
	return 0;
}

static int
parse_cabundle(struct attestation_doc *d, const cbor_item_t *a,
    struct reason *reason)
{
	cbor_item_t **items;
	size_t i, n;

	if (!cbor_isa_array(a))
		return reason_fail(reason, "payload: cabundle is not an array");
	n = cbor_array_size(a);
	if (n == 0 || n > ATT_CABUNDLE_MAX)
		return reason_fail(reason,
		    "payload: cabundle has %zu certificates", n);
	items = cbor_array_handle(a);
	for (i = 0; i < n; i++)
		if (get_bstr(items[i], &d->cabundle[i], ATT_DOC_MAX) < 0 ||
		    d->cabundle[i].len == 0)
			return reason_fail(reason,
			    "payload: cabundle[%zu] is not a certificate", i);
	d->ncabundle = n;
	return 0;
}

/* One key/value pair of the payload map; `seen` refuses repeats. */
static int
parse_field(struct attestation_doc *d, const struct cbor_pair *p,
    unsigned *seen, struct reason *reason)
{
	static const struct { const char *name; unsigned bit; } fields[] = {
		{ "module_id", F_MODULE_ID }, { "digest", F_DIGEST },
		{ "timestamp", F_TIMESTAMP }, { "pcrs", F_PCRS },
		{ "certificate", F_CERTIFICATE }, { "cabundle", F_CABUNDLE },
		{ "public_key", F_PUBLIC_KEY }, { "user_data", F_USER_DATA },
		{ "nonce", F_NONCE },
	};
	unsigned bit = 0;
	size_t i;

	for (i = 0; i < ARRAY_LEN(fields); i++)
		if (cbor_text_equals(p->key, fields[i].name))
			bit = fields[i].bit;
	if (bit == 0)
		return 0;	/* unknown keys are ignored */
	if (*seen & bit)
		return reason_fail(reason, "payload: a field appears twice");
	*seen |= bit;
	switch (bit) {
	case F_MODULE_ID:
		if (get_text(p->value, d->module_id,
		    sizeof(d->module_id)) < 0 || d->module_id[0] == '\0')
			return reason_fail(reason, "payload: bad module_id");
		return 0;
	case F_DIGEST:
		if (get_text(p->value, d->digest, sizeof(d->digest)) < 0)
			return reason_fail(reason, "payload: bad digest");
		if (strcmp(d->digest, "SHA384") != 0)
			return reason_fail(reason,
			    "payload: digest %s is not SHA384", d->digest);
		return 0;
	case F_TIMESTAMP:
		if (!cbor_isa_uint(p->value) ||
		    (d->timestamp_ms = cbor_get_int(p->value)) == 0)
			return reason_fail(reason, "payload: bad timestamp");
		return 0;
	case F_PCRS:
		return parse_pcrs(d, p->value, reason);
	case F_CERTIFICATE:
		if (get_bstr(p->value, &d->certificate, ATT_DOC_MAX) < 0 ||
		    d->certificate.len == 0)
			return reason_fail(reason, "payload: bad certificate");
		return 0;
	case F_CABUNDLE:
		return parse_cabundle(d, p->value, reason);
	case F_PUBLIC_KEY:
		if (get_opt_bstr(p->value, &d->public_key, 1,
		    ATT_FIELD_MAX) < 0)
			return reason_fail(reason,
			    "payload: bad public_key (1..%d bytes or null)",
			    ATT_FIELD_MAX);
		return 0;
	case F_USER_DATA:
		if (get_opt_bstr(p->value, &d->user_data, 0,
		    ATT_USER_DATA_MAX) < 0)
			return reason_fail(reason,
			    "payload: bad user_data (at most %d bytes or "
			    "null)", ATT_USER_DATA_MAX);
		return 0;
	case F_NONCE:
		if (get_opt_bstr(p->value, &d->nonce, 0,
		    ATT_NONCE_MAX) < 0)
			return reason_fail(reason,
			    "payload: bad nonce (at most %d bytes or null)",
			    ATT_NONCE_MAX);
		return 0;
	}
	return 0;
}

int
attestation_doc_parse(struct attestation_doc *out, const uint8_t *data,
    size_t len, struct reason *reason)
{
	static const char *const names[] = { "module_id", "digest",
	    "timestamp", "pcrs", "certificate", "cabundle" };
	struct cbor_pair *pairs;
	unsigned seen = 0;
	size_t i, n;

	memset(out, 0, sizeof(*out));
	out->item = cbor_load_bounded(data, len, ATT_CBOR_DEPTH_MAX, reason);
	if (out->item == NULL)
		return -1;
	if (!cbor_isa_map(out->item)) {
		reason_fail(reason, "payload: not a map");
		goto fail;
	}
	pairs = cbor_map_handle(out->item);
	n = cbor_map_size(out->item);
	for (i = 0; i < n; i++)
		GUARD_GOTO(parse_field(out, &pairs[i], &seen, reason), fail);
	for (i = 0; i < ARRAY_LEN(names); i++) {
		if (!(seen & (1u << i))) {
			reason_fail(reason, "payload: missing %s",
			    names[i]);
			goto fail;
		}
	}
	return 0;
fail:
	attestation_doc_free(out);
	return -1;
}

int
attestation_doc_is_debug(const struct attestation_doc *d)
{
	size_t i, j;

	for (i = 0; i < 3; i++) {
		if (!d->pcrs[i].present || d->pcrs[i].len == 0)
			return 0;
		for (j = 0; j < d->pcrs[i].len; j++)
			if (d->pcrs[i].value[j] != 0)
				return 0;
	}
	return 1;
}

void
attestation_doc_free(struct attestation_doc *d)
{
	if (d->item != NULL)
		cbor_decref(&d->item);
	memset(d, 0, sizeof(*d));
}
