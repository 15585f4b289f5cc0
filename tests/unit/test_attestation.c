/*
 * test_attestation.c - Nitro attestation documents against the real one in
 * $VECTORS/attestation (default tests/vectors/attestation): it verifies
 * at its own time, every tampering fails with its reason, malformed CBOR
 * fails cleanly; and the NSM Attestation request/response CBOR.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "verify/attestation.h"
#include "common/guard.h"
#include "common/buf.h"
#include "common/nsm_cbor.h"

/* The document's own moment: timestamp 1695049410860 ms. */
#define DOC_TIME ((time_t)1695049410)
/* The leaf certificate's validity, 2023-09-18 14:37:09..17:37:12 UTC. */
#define LEAF_NOT_BEFORE ((time_t)1695047829)
#define LEAF_NOT_AFTER  ((time_t)1695058632)

static const char *
vectors_dir(void)
{
	const char *v = getenv("VECTORS");

	return (v != NULL && *v != '\0') ? v : "tests/vectors";
}

static uint8_t *
slurp(const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	uint8_t *data;
	long n;

	snprintf(path, sizeof(path), "%s/attestation/%s", vectors_dir(), name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (set VECTORS)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	assert_true(n > 0);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* The valid document as raw CBOR. */
static struct buf
load_doc(void)
{
	struct buf doc = BUF_INIT;
	size_t len;
	uint8_t *b64 = slurp("valid-attestation-doc.b64", &len);

	assert_int_equal(attestation_decode_input(b64, len, &doc), 0);
	free(b64);
	return doc;
}

static struct att_verify_opts
opts_at(time_t at)
{
	struct att_verify_opts o;

	memset(&o, 0, sizeof(o));
	o.at_set = 1;
	o.at = at;
	return o;
}

/* Verification must fail, with a reason starting with `want`. */
static void
expect_failure(const uint8_t *data, size_t len,
    const struct att_verify_opts *o, const char *want)
{
	struct reason reason;
	struct attestation_doc d;

	memset(&reason, 0, sizeof(reason));
	assert_int_equal(attestation_verify(data, len, o, &d, &reason), -1);
	if (strncmp(reason.text, want, strlen(want)) != 0)
		fail_msg("reason \"%s\", want \"%s...\"", reason.text, want);
	assert_null(d.item);
}

static void
test_valid_at_its_time(void **state)
{
	struct buf doc = load_doc();
	struct att_verify_opts o = opts_at(DOC_TIME);
	struct attestation_doc d;
	struct reason reason;
	size_t i;

	(void)state;
	assert_int_equal(doc.data[0], 0x84);
	if (attestation_verify(doc.data, doc.len, &o, &d, &reason) != 0)
		fail_msg("verify: %s", reason.text);
	assert_string_equal(d.digest, "SHA384");
	assert_true(strncmp(d.module_id, "i-", 2) == 0);
	assert_true(d.timestamp_ms == 1695049410860ULL);
	assert_int_equal(d.npcrs, 16);
	for (i = 0; i < 16; i++) {
		assert_true(d.pcrs[i].present);
		assert_int_equal(d.pcrs[i].len, 48);
	}
	assert_false(d.public_key.present);
	assert_true(d.user_data.present);
	assert_int_equal(d.user_data.v.len, 91);
	assert_true(d.nonce.present);
	assert_int_equal(d.nonce.v.len, 256);
	assert_true(d.ncabundle >= 2);
	attestation_doc_free(&d);

	/*
	 * Also at the leaf's first and last valid seconds (14:37:09 and
	 * 17:37:11 UTC), one second outside each, and with the root given.
	 */
	o.root_pem = attestation_aws_nitro_root_g1_pem;
	o.at = LEAF_NOT_BEFORE;
	assert_int_equal(attestation_verify(doc.data, doc.len, &o, NULL,
	    &reason), 0);
	/* OpenSSL counts notAfter itself as expired. */
	o.at = LEAF_NOT_AFTER - 1;
	if (attestation_verify(doc.data, doc.len, &o, NULL, &reason) != 0)
		fail_msg("verify at notAfter - 1: %s", reason.text);
	o.at = LEAF_NOT_BEFORE - 1;
	expect_failure(doc.data, doc.len, &o,
	    "certificate chain: certificate is not yet valid");
	o.at = LEAF_NOT_AFTER;
	expect_failure(doc.data, doc.len, &o,
	    "certificate chain: certificate has expired");
	o.at = DOC_TIME;

	/* Tagged COSE_Sign1 (tag 18) is the same document. */
	{
		struct buf t = BUF_INIT;

		assert_int_equal(buf_append(&t, "\xd2", 1, ATT_DOC_MAX), 0);
		assert_int_equal(buf_append(&t, doc.data, doc.len,
		    ATT_DOC_MAX), 0);
		if (attestation_verify(t.data, t.len, &o, NULL, &reason) != 0)
			fail_msg("tagged: %s", reason.text);
		buf_free(&t, 0);
		/* The two-byte form of the same tag. */
		assert_int_equal(buf_append(&t, "\xd8\x12", 2, ATT_DOC_MAX), 0);
		assert_int_equal(buf_append(&t, doc.data, doc.len,
		    ATT_DOC_MAX), 0);
		if (attestation_verify(t.data, t.len, &o, NULL, &reason) != 0)
			fail_msg("tagged (0xd8 0x12): %s", reason.text);
		t.data[1] = 0x11;	/* tag 17: COSE_Mac0 */
		expect_failure(t.data, t.len, &o, "COSE: tag 17");
		buf_free(&t, 0);
	}
	buf_free(&doc, 0);
}

/* Default time is now: a 2023 leaf has long expired. */
static void
test_default_time_is_now(void **state)
{
	struct buf doc = load_doc();

	(void)state;
	expect_failure(doc.data, doc.len, NULL,
	    "certificate chain: certificate has expired");
	buf_free(&doc, 0);
}

static void
test_expired(void **state)
{
	struct buf doc = load_doc();
	struct att_verify_opts o = opts_at(DOC_TIME + 86400);

	(void)state;
	expect_failure(doc.data, doc.len, &o,
	    "certificate chain: certificate has expired");
	o.at = DOC_TIME - 86400;
	expect_failure(doc.data, doc.len, &o,
	    "certificate chain: certificate is not yet valid");
	buf_free(&doc, 0);
}

static void
test_tampered_payload(void **state)
{
	struct buf doc = load_doc();
	struct att_verify_opts o = opts_at(DOC_TIME);
	uint8_t *p = memmem(doc.data, doc.len, "module_id", 9);

	(void)state;
	/* The module id's first character, "i-..." -> "j-...". */
	assert_non_null(p);
	p += 9 + 2;
	assert_int_equal(*p, 'i');
	*p = 'j';
	expect_failure(doc.data, doc.len, &o, "signature does not verify");
	buf_free(&doc, 0);
}

static void
test_tampered_signature(void **state)
{
	struct buf doc = load_doc();
	struct att_verify_opts o = opts_at(DOC_TIME);

	(void)state;
	doc.data[doc.len - 1] ^= 0x01;
	expect_failure(doc.data, doc.len, &o, "signature does not verify");
	doc.data[doc.len - 1] ^= 0x01;
	doc.data[doc.len - 96] ^= 0x80;	/* first byte of r */
	expect_failure(doc.data, doc.len, &o, "signature does not verify");
	buf_free(&doc, 0);
}

/* Flip the last byte (inside the signature value) of a DER certificate. */
static void
flip_cert_byte(struct buf *doc, const struct slice *cert)
{
	uint8_t *p = memmem(doc->data, doc->len, cert->data, cert->len);

	assert_non_null(p);
	p[cert->len - 1] ^= 0x01;
}

static void
test_tampered_certificate(void **state)
{
	struct buf doc = load_doc(), copy = BUF_INIT;
	struct att_verify_opts o = opts_at(DOC_TIME);
	struct attestation_doc d;
	struct reason reason;

	(void)state;
	assert_int_equal(attestation_verify(doc.data, doc.len, &o, &d, &reason),
	    0);

	/* The leaf. */
	assert_int_equal(buf_append(&copy, doc.data, doc.len, ATT_DOC_MAX), 0);
	flip_cert_byte(&copy, &d.certificate);
	expect_failure(copy.data, copy.len, &o,
	    "certificate chain: certificate signature failure");

	/* The leaf's issuer, the last of the cabundle. */
	memcpy(copy.data, doc.data, doc.len);
	flip_cert_byte(&copy, &d.cabundle[d.ncabundle - 1]);
	expect_failure(copy.data, copy.len, &o,
	    "certificate chain: certificate signature failure");

	/* A byte in the leaf's public key: the chain refuses it first. */
	memcpy(copy.data, doc.data, doc.len);
	{
		uint8_t *p = memmem(copy.data, copy.len, d.certificate.data,
		    d.certificate.len);

		assert_non_null(p);
		p[d.certificate.len / 2] ^= 0x01;
		expect_failure(copy.data, copy.len, &o, "certificate");
	}
	attestation_doc_free(&d);
	buf_free(&copy, 0);
	buf_free(&doc, 0);
}

/*
 * Rebuild the document with its payload changed by `edit` (which returns
 * the new payload item, owning a reference). The signature is kept, so it
 * no longer matches: tests use this for failures found before it.
 */
typedef cbor_item_t *(*payload_edit)(cbor_item_t *payload);

static struct buf
rebuild(const struct buf *doc, payload_edit edit)
{
	struct cbor_load_result res;
	cbor_item_t *cose, *payload, *edited, *arr, **items;
	unsigned char *pbytes = NULL, *out = NULL;
	size_t pcap = 0, plen, ocap = 0, olen;
	struct buf b = BUF_INIT;

	cose = cbor_load(doc->data, doc->len, &res);
	assert_non_null(cose);
	items = cbor_array_handle(cose);
	payload = cbor_load(cbor_bytestring_handle(items[2]),
	    cbor_bytestring_length(items[2]), &res);
	assert_non_null(payload);
	edited = edit(payload);
	assert_non_null(edited);
	plen = cbor_serialize_alloc(edited, &pbytes, &pcap);
	assert_true(plen > 0);

	arr = cbor_new_definite_array(4);
	assert_true(cbor_array_push(arr, items[0]));
	assert_true(cbor_array_push(arr, items[1]));
	assert_true(cbor_array_push(arr, cbor_move(
	    cbor_build_bytestring(pbytes, plen))));
	assert_true(cbor_array_push(arr, items[3]));
	olen = cbor_serialize_alloc(arr, &out, &ocap);
	assert_true(olen > 0);
	assert_int_equal(buf_append(&b, out, olen, ATT_DOC_MAX), 0);

	free(out);
	free(pbytes);
	cbor_decref(&arr);
	cbor_decref(&edited);
	cbor_decref(&payload);
	cbor_decref(&cose);
	return b;
}

static int
key_is(const cbor_item_t *k, const char *s)
{
	return cbor_isa_string(k) && cbor_string_length(k) == strlen(s) &&
	    memcmp(cbor_string_handle(k), s, strlen(s)) == 0;
}

/* The same map with cabundle's last certificate (the leaf's issuer) gone. */
static cbor_item_t *
drop_last_intermediate(cbor_item_t *payload)
{
	struct cbor_pair *pairs = cbor_map_handle(payload);
	size_t i, j, n = cbor_map_size(payload);
	cbor_item_t *m = cbor_new_definite_map(n);

	for (i = 0; i < n; i++) {
		cbor_item_t *v = pairs[i].value;

		if (key_is(pairs[i].key, "cabundle")) {
			size_t k = cbor_array_size(v);
			cbor_item_t *a = cbor_new_definite_array(k - 1);

			for (j = 0; j + 1 < k; j++)
				assert_true(cbor_array_push(a,
				    cbor_array_handle(v)[j]));
			assert_true(cbor_map_add(m, (struct cbor_pair){
			    .key = pairs[i].key, .value = a }));
			cbor_decref(&a);
			continue;
		}
		assert_true(cbor_map_add(m, (struct cbor_pair){
		    .key = pairs[i].key, .value = v }));
	}
	return m;
}

/* The same pairs in an indefinite-length map (0xBF ... 0xFF). */
static cbor_item_t *
to_indefinite(cbor_item_t *payload)
{
	struct cbor_pair *pairs = cbor_map_handle(payload);
	size_t i, n = cbor_map_size(payload);
	cbor_item_t *m = cbor_new_indefinite_map();

	for (i = 0; i < n; i++)
		assert_true(cbor_map_add(m, pairs[i]));
	return m;
}

/* Unchanged, but re-encoded by libcbor: must still verify. */
static cbor_item_t *
same(cbor_item_t *payload)
{
	return cbor_incref(payload);
}

static void
test_dropped_intermediate(void **state)
{
	struct buf doc = load_doc(), b;
	struct att_verify_opts o = opts_at(DOC_TIME);
	struct reason reason;

	(void)state;
	/* The rebuild itself preserves a valid document. */
	b = rebuild(&doc, same);
	assert_int_equal(b.len, doc.len);
	assert_memory_equal(b.data, doc.data, doc.len);
	assert_int_equal(attestation_verify(b.data, b.len, &o, NULL, &reason),
	    0);
	buf_free(&b, 0);

	b = rebuild(&doc, drop_last_intermediate);
	expect_failure(b.data, b.len, &o,
	    "certificate chain: unable to get local issuer certificate");
	buf_free(&b, 0);
	buf_free(&doc, 0);
}

/* A payload in an indefinite-length map parses; the signature then fails. */
static void
test_indefinite_map(void **state)
{
	struct buf doc = load_doc(), b;
	struct att_verify_opts o = opts_at(DOC_TIME);
	struct cose_sign1 c;
	struct attestation_doc d;
	struct reason reason;

	(void)state;
	b = rebuild(&doc, to_indefinite);
	assert_int_equal(cose_sign1_parse(&c, b.data, b.len, &reason), 0);
	assert_int_equal(c.payload.data[0], 0xbf);
	assert_int_equal(c.payload.data[c.payload.len - 1], 0xff);
	if (attestation_doc_parse(&d, c.payload.data, c.payload.len,
	    &reason) != 0)
		fail_msg("indefinite map: %s", reason.text);
	assert_true(d.timestamp_ms == 1695049410860ULL);
	assert_int_equal(d.npcrs, 16);
	assert_int_equal(d.nonce.v.len, 256);
	attestation_doc_free(&d);
	cose_sign1_free(&c);
	expect_failure(b.data, b.len, &o, "signature does not verify");
	buf_free(&b, 0);
	buf_free(&doc, 0);
}

/*
 * Edits for the AWS spec's rules (issue 16 item 10, F19): the pair named
 * edit_key gets edit_value (a reference is taken) or, with edit_append,
 * a second pair edit_key2 -> edit_value is added after the others.
 */
static const char *edit_key;
static cbor_item_t *edit_key2;
static cbor_item_t *edit_value;

static cbor_item_t *
set_field(cbor_item_t *payload)
{
	struct cbor_pair *pairs = cbor_map_handle(payload);
	size_t i, n = cbor_map_size(payload);
	cbor_item_t *m = cbor_new_definite_map(n + (edit_key2 != NULL));

	for (i = 0; i < n; i++) {
		struct cbor_pair p = pairs[i];

		if (edit_key2 == NULL && key_is(p.key, edit_key))
			p.value = edit_value;
		assert_true(cbor_map_add(m, p));
	}
	if (edit_key2 != NULL)
		assert_true(cbor_map_add(m, (struct cbor_pair){
		    .key = edit_key2, .value = edit_value }));
	return m;
}

/* attestation_doc_parse's verdict on the payload of a rebuilt document. */
static int
parse_rebuilt(const struct buf *b, struct reason *reason)
{
	struct cose_sign1 c;
	struct attestation_doc d;
	int rc;

	assert_int_equal(cose_sign1_parse(&c, b->data, b->len, reason), 0);
	rc = attestation_doc_parse(&d, c.payload.data, c.payload.len, reason);
	if (rc == 0)
		attestation_doc_free(&d);
	cose_sign1_free(&c);
	return rc;
}

static void
expect_field(const struct buf *doc, const char *name, cbor_item_t *value,
    const char *want)
{
	struct reason reason;
	struct buf b;

	edit_key = name;
	edit_key2 = NULL;
	edit_value = value;
	b = rebuild(doc, set_field);
	if (want == NULL) {
		if (parse_rebuilt(&b, &reason) != 0)
			fail_msg("%s: %s", name, reason.text);
	} else {
		assert_int_equal(parse_rebuilt(&b, &reason), -1);
		if (strstr(reason.text, want) == NULL)
			fail_msg("%s: reason \"%s\", want \"%s\"", name,
			    reason.text,
			    want);
	}
	buf_free(&b, 0);
	cbor_decref(&value);
}

static cbor_item_t *
bytes_of(size_t n)
{
	static uint8_t zeros[ATT_DOC_MAX];

	return cbor_build_bytestring(zeros, n);
}

/* nonce and user_data 0..512 bytes, public_key 1..1024 (or null). */
static void
test_field_sizes(void **state)
{
	struct buf doc = load_doc();

	(void)state;
	expect_field(&doc, "nonce", bytes_of(512), NULL);
	expect_field(&doc, "nonce", bytes_of(0), NULL);
	expect_field(&doc, "nonce", bytes_of(513), "payload: bad nonce");
	expect_field(&doc, "user_data", bytes_of(512), NULL);
	expect_field(&doc, "user_data", bytes_of(513), "payload: bad user_data");
	expect_field(&doc, "public_key", bytes_of(1), NULL);
	expect_field(&doc, "public_key", bytes_of(1024), NULL);
	expect_field(&doc, "public_key", bytes_of(0), "payload: bad public_key");
	expect_field(&doc, "public_key", bytes_of(1025),
	    "payload: bad public_key");
	expect_field(&doc, "public_key", cbor_new_null(), NULL);
	buf_free(&doc, 0);
}

/* "no" + "nce" as an indefinite-length text string. */
static cbor_item_t *
chunked_nonce_key(void)
{
	cbor_item_t *k = cbor_new_indefinite_string();

	assert_true(cbor_string_add_chunk(k, cbor_move(cbor_build_string(
	    "no"))));
	assert_true(cbor_string_add_chunk(k, cbor_move(cbor_build_string(
	    "nce"))));
	return k;
}

/*
 * A second "nonce", plain or as a chunked key, in a definite or an
 * indefinite map: refused; so is a repeated unknown key. Before, the
 * chunked key was skipped as unknown and --expect-nonce checked the other.
 */
static void
test_duplicate_keys(void **state)
{
	struct buf doc = load_doc(), b;
	struct reason reason;
	cbor_item_t *keys[3];
	size_t i;

	(void)state;
	keys[0] = cbor_build_string("nonce");
	keys[1] = chunked_nonce_key();
	keys[2] = cbor_build_string("module_id");
	for (i = 0; i < ARRAY_LEN(keys); i++) {
		edit_key2 = keys[i];
		edit_value = cbor_build_bytestring((const uint8_t *)"x", 1);
		b = rebuild(&doc, set_field);
		assert_int_equal(parse_rebuilt(&b, &reason),
		    -1);
		assert_non_null(strstr(reason.text, "duplicate key"));
		buf_free(&b, 0);
		cbor_decref(&edit_value);
	}
	for (i = 0; i < ARRAY_LEN(keys); i++)
		cbor_decref(&keys[i]);
	edit_key2 = NULL;
	/* The same inside an indefinite-length map. */
	{
		struct cbor_load_result res;
		cbor_item_t *m = cbor_new_indefinite_map(), *dup;
		unsigned char *out = NULL;
		size_t cap = 0, n;

		dup = chunked_nonce_key();
		assert_true(cbor_map_add(m, (struct cbor_pair){
		    .key = cbor_move(cbor_build_string("nonce")),
		    .value = cbor_move(cbor_build_bytestring(
		    (const uint8_t *)"a", 1)) }));
		assert_true(cbor_map_add(m, (struct cbor_pair){ .key = dup,
		    .value = cbor_move(cbor_build_bytestring(
		    (const uint8_t *)"b", 1)) }));
		cbor_decref(&dup);
		n = cbor_serialize_alloc(m, &out, &cap);
		assert_true(n > 0 && out[0] == 0xbf);
		assert_null(cbor_load_bounded(out, n, 4, &reason));
		assert_non_null(strstr(reason.text, "duplicate key"));
		/* libcbor itself loads it: the refusal is ours. */
		dup = cbor_load(out, n, &res);
		assert_non_null(dup);
		cbor_decref(&dup);
		free(out);
		cbor_decref(&m);
	}
	buf_free(&doc, 0);
}

/* A lone chunked "nonce" key is the nonce, not an unknown key. */
static void
test_chunked_key_is_the_field(void **state)
{
	struct buf doc = load_doc();
	struct attestation_doc d;
	struct reason reason;
	struct cbor_load_result res;
	cbor_item_t *cose, *payload, *m, **items;
	struct cbor_pair *pairs;
	unsigned char *out = NULL;
	size_t i, n, cap = 0;

	(void)state;
	cose = cbor_load(doc.data, doc.len, &res);
	items = cbor_array_handle(cose);
	payload = cbor_load(cbor_bytestring_handle(items[2]),
	    cbor_bytestring_length(items[2]), &res);
	pairs = cbor_map_handle(payload);
	n = cbor_map_size(payload);
	m = cbor_new_definite_map(n);
	for (i = 0; i < n; i++) {
		struct cbor_pair p = pairs[i];
		cbor_item_t *k = NULL;

		if (key_is(p.key, "nonce"))
			p.key = k = chunked_nonce_key();
		assert_true(cbor_map_add(m, p));
		if (k != NULL)
			cbor_decref(&k);
	}
	i = cbor_serialize_alloc(m, &out, &cap);
	assert_true(i > 0);
	assert_int_equal(attestation_doc_parse(&d, out, i, &reason), 0);
	assert_true(d.nonce.present);
	assert_int_equal(d.nonce.v.len, 256);
	attestation_doc_free(&d);
	free(out);
	cbor_decref(&m);
	cbor_decref(&payload);
	cbor_decref(&cose);
	buf_free(&doc, 0);
}

/*
 * The leaf's validity bounds the timestamp (checked before the signature,
 * which a rebuilt document no longer matches).
 */
static void
test_timestamp_within_leaf(void **state)
{
	struct buf doc = load_doc(), b;
	struct att_verify_opts o = opts_at(DOC_TIME);
	uint64_t ts[] = { (uint64_t)LEAF_NOT_BEFORE * 1000 - 1000,
	    (uint64_t)LEAF_NOT_AFTER * 1000 + 1000 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(ts); i++) {
		edit_key = "timestamp";
		edit_key2 = NULL;
		edit_value = cbor_build_uint64(ts[i]);
		b = rebuild(&doc, set_field);
		expect_failure(b.data, b.len, &o, "timestamp: the document is "
		    "dated outside its leaf certificate's validity");
		buf_free(&b, 0);
		cbor_decref(&edit_value);
	}
	/* Inside: the next check, the signature, is what fails. */
	edit_value = cbor_build_uint64((uint64_t)LEAF_NOT_AFTER * 1000);
	b = rebuild(&doc, set_field);
	expect_failure(b.data, b.len, &o, "signature does not verify");
	buf_free(&b, 0);
	cbor_decref(&edit_value);
	buf_free(&doc, 0);
}

/* The real document is a --debug-mode one: PCR0, PCR1, PCR2 zero. */
static void
test_debug_mode(void **state)
{
	struct buf doc = load_doc();
	struct att_verify_opts o = opts_at(DOC_TIME);
	struct attestation_doc d;
	struct reason reason;

	(void)state;
	assert_int_equal(attestation_verify(doc.data, doc.len, &o, &d, &reason),
	    0);
	assert_true(attestation_doc_is_debug(&d));
	d.pcrs[1].value[47] = 1;
	assert_false(attestation_doc_is_debug(&d));
	d.pcrs[1].value[47] = 0;
	d.pcrs[2].present = 0;
	assert_false(attestation_doc_is_debug(&d));
	attestation_doc_free(&d);
	buf_free(&doc, 0);
}

/* A throwaway self-signed P-384 certificate, as PEM. */
static char *
self_signed_pem(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-384");
	X509 *x = X509_new();
	X509_NAME *name;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem, *p;
	long n;

	assert_non_null(key);
	assert_non_null(x);
	assert_non_null(bio);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), -20000, 0,
	    NULL));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), 20000, 0,
	    NULL));
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"aws.nitro-enclaves", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha384()) > 0);
	assert_int_equal(PEM_write_bio_X509(bio, x), 1);
	n = BIO_get_mem_data(bio, &p);
	assert_true(n > 0);
	pem = malloc((size_t)n + 1);
	assert_non_null(pem);
	memcpy(pem, p, (size_t)n);
	pem[n] = '\0';
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(key);
	return pem;
}

static void
test_wrong_root(void **state)
{
	struct buf doc = load_doc();
	struct att_verify_opts o = opts_at(DOC_TIME);
	char *pem = self_signed_pem();

	(void)state;
	o.root_pem = pem;
	expect_failure(doc.data, doc.len, &o,
	    "certificate chain: unable to get local issuer certificate");
	o.root_pem = "not a certificate";
	expect_failure(doc.data, doc.len, &o,
	    "root certificate is not PEM X.509");
	free(pem);
	buf_free(&doc, 0);
}

static void
test_expected_pcrs_and_nonce(void **state)
{
	struct buf doc = load_doc();
	struct att_verify_opts o = opts_at(DOC_TIME);
	struct attestation_doc d;
	struct att_expect_pcr pcr[2];
	uint8_t wrong[48], nonce[256];
	struct reason reason;

	(void)state;
	assert_int_equal(attestation_verify(doc.data, doc.len, &o, &d, &reason),
	    0);
	memcpy(nonce, d.nonce.v.data, sizeof(nonce));

	/* The right PCR0 and PCR3, and the right nonce: passes. */
	pcr[0] = (struct att_expect_pcr){ 0, d.pcrs[0].value, 48 };
	pcr[1] = (struct att_expect_pcr){ 3, d.pcrs[3].value, 48 };
	o.expected_pcrs = pcr;
	o.nexpected_pcrs = 2;
	o.expected_nonce = nonce;
	o.expected_nonce_len = sizeof(nonce);
	assert_int_equal(attestation_verify(doc.data, doc.len, &o, NULL,
	    &reason), 0);

	/* A wrong PCR0. */
	memset(wrong, 0x11, sizeof(wrong));
	pcr[0].value = wrong;
	expect_failure(doc.data, doc.len, &o, "PCR0 mismatch");
	/* A wrong length is a mismatch too. */
	pcr[0].value = d.pcrs[0].value;
	pcr[0].len = 32;
	expect_failure(doc.data, doc.len, &o, "PCR0 mismatch");
	pcr[0].len = 48;
	/* A PCR the document does not carry. */
	pcr[1].index = 20;
	expect_failure(doc.data, doc.len, &o, "PCR20 missing");
	pcr[1].index = 3;

	/* A wrong nonce, and a short one. */
	nonce[0] ^= 1;
	expect_failure(doc.data, doc.len, &o, "nonce mismatch");
	nonce[0] ^= 1;
	o.expected_nonce_len = 255;
	expect_failure(doc.data, doc.len, &o, "nonce mismatch");
	attestation_doc_free(&d);
	buf_free(&doc, 0);
}

/* Every prefix, garbage, hostile sizes: all fail, none crashes or leaks. */
static void
test_malformed(void **state)
{
	static const uint8_t huge_array[] = { 0x9b, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff };
	static const uint8_t huge_map[] = { 0xbb, 0x0f, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0x00 };
	static const uint8_t big_bstr[] = { 0x5a, 0x7f, 0xff, 0xff, 0xff, 0 };
	static const uint8_t open_map[] = { 0xbf, 0x01, 0x02 };
	static const uint8_t stray_break[] = { 0x84, 0xff, 0x00, 0x00, 0x00 };
	static const uint8_t not_array[] = { 0xa0 };
	static const uint8_t three[] = { 0x83, 0x40, 0xa0, 0x40 };
	static const uint8_t reserved[] = { 0x1c };
	struct att_verify_opts o = opts_at(DOC_TIME);
	struct buf doc = load_doc(), b = BUF_INIT;
	uint8_t deep[64], *pad;
	struct reason reason;
	size_t i;

	(void)state;
	for (i = 0; i < doc.len; i++)
		assert_int_equal(attestation_verify(doc.data, i, &o, NULL,
		    &reason), -1);
	expect_failure(doc.data, 5, &o, "CBOR: truncated input");
	expect_failure(doc.data, 0, &o, "CBOR: empty input");
	expect_failure(huge_array, sizeof(huge_array), &o,
	    "CBOR: container larger than its input");
	expect_failure(huge_map, sizeof(huge_map), &o,
	    "CBOR: container larger than its input");
	expect_failure(big_bstr, sizeof(big_bstr), &o, "CBOR: truncated input");
	expect_failure(open_map, sizeof(open_map), &o, "CBOR: truncated input");
	expect_failure(stray_break, sizeof(stray_break), &o,
	    "CBOR: unexpected break");
	expect_failure(not_array, sizeof(not_array), &o, "COSE: not a");
	expect_failure(three, sizeof(three), &o, "COSE: not a");
	expect_failure(reserved, sizeof(reserved), &o, "CBOR: malformed");
	memset(deep, 0x81, sizeof(deep));
	deep[sizeof(deep) - 1] = 0x00;
	expect_failure(deep, sizeof(deep), &o, "CBOR: nested too deeply");

	/* A trailing byte after a valid document. */
	assert_int_equal(buf_append(&b, doc.data, doc.len, ATT_DOC_MAX), 0);
	assert_int_equal(buf_append(&b, "\x00", 1, ATT_DOC_MAX), 0);
	expect_failure(b.data, b.len, &o, "CBOR: trailing bytes");
	/* Too large altogether. */
	assert_non_null(pad = buf_tail(&b, ATT_DOC_MAX - 1, 2 * ATT_DOC_MAX));
	memset(pad, 0, ATT_DOC_MAX - 1);
	assert_int_equal(buf_commit(&b, ATT_DOC_MAX - 1), 0);
	expect_failure(b.data, b.len, &o, "CBOR: input larger than");
	buf_free(&b, 0);

	/* A protected header that is not ES384: {1: -7} (ES256). */
	assert_int_equal(buf_append(&b, doc.data, doc.len, ATT_DOC_MAX), 0);
	assert_int_equal(b.data[5], 0x22);
	b.data[5] = 0x06;
	expect_failure(b.data, b.len, &o, "COSE: algorithm -7 is not ES384");
	buf_free(&b, 0);

	/* Pseudo-random garbage, deterministic. */
	{
		uint32_t x = 12345;
		uint8_t junk[512];
		int round;

		for (round = 0; round < 2000; round++) {
			size_t n = (size_t)(round % (int)sizeof(junk)) + 1;

			for (i = 0; i < n; i++) {
				x = x * 1103515245u + 12345u;
				junk[i] = (uint8_t)(x >> 16);
			}
			junk[0] = (round & 1) ? 0x84 : junk[0];
			assert_int_equal(attestation_verify(junk, n, &o, NULL,
			    &reason), -1);
		}
	}
	buf_free(&doc, 0);
}

static void
test_decode_input(void **state)
{
	struct buf doc = load_doc(), out = BUF_INIT;
	size_t len;
	uint8_t *b64 = slurp("valid-attestation-doc.b64", &len);
	struct buf wrapped = BUF_INIT;
	size_t i;

	(void)state;
	/* Raw CBOR passes through. */
	assert_int_equal(attestation_decode_input(doc.data, doc.len, &out), 0);
	assert_int_equal(out.len, doc.len);
	assert_memory_equal(out.data, doc.data, doc.len);
	buf_free(&out, 0);
	/* Base64 wrapped at 76 columns with a trailing newline. */
	for (i = 0; i < len; i++) {
		assert_int_equal(buf_append(&wrapped, &b64[i], 1, 4 * len), 0);
		if (i % 76 == 75)
			assert_int_equal(buf_append(&wrapped, "\n", 1,
			    4 * len), 0);
	}
	assert_int_equal(buf_append(&wrapped, "\r\n", 2, 4 * len), 0);
	assert_int_equal(attestation_decode_input(wrapped.data, wrapped.len,
	    &out), 0);
	assert_int_equal(out.len, doc.len);
	assert_memory_equal(out.data, doc.data, doc.len);
	buf_free(&out, 0);
	/* Neither. */
	assert_int_equal(attestation_decode_input((const uint8_t *)"%%%%", 4,
	    &out), -1);
	assert_int_equal(attestation_decode_input((const uint8_t *)"", 0,
	    &out), -1);
	buf_free(&out, 0);
	buf_free(&wrapped, 0);
	free(b64);
	buf_free(&doc, 0);
}

static void
test_nsm_request(void **state)
{
	static const uint8_t want_pk[] = {
		0xa1, 0x6b, 'A', 't', 't', 'e', 's', 't', 'a', 't', 'i', 'o',
		'n', 0xa3, 0x69, 'u', 's', 'e', 'r', '_', 'd', 'a', 't', 'a',
		0xf6, 0x65, 'n', 'o', 'n', 'c', 'e', 0xf6, 0x6a, 'p', 'u', 'b',
		'l', 'i', 'c', '_', 'k', 'e', 'y', 0x43, 1, 2, 3,
	};
	uint8_t big[NSM_FIELD_MAX + 1];
	struct slice pk = { (const uint8_t *)"\x01\x02\x03", 3 };
	struct slice nonce = { (const uint8_t *)"nonce-1", 7 };
	struct slice ud = { (const uint8_t *)"", 0 };
	struct slice too_big = { big, sizeof(big) };
	struct buf out = BUF_INIT;
	struct cbor_load_result res;
	cbor_item_t *item, *inner;

	(void)state;
	/* kmstool's shape: only public_key set. */
	assert_int_equal(nsm_attestation_request(&out, NULL, NULL, &pk), 0);
	assert_int_equal(out.len, sizeof(want_pk));
	assert_memory_equal(out.data, want_pk, sizeof(want_pk));
	buf_free(&out, 0);

	/* All three; an empty user_data is a bstr, not null. */
	assert_int_equal(nsm_attestation_request(&out, &ud, &nonce, &pk), 0);
	item = cbor_load(out.data, out.len, &res);
	assert_non_null(item);
	assert_true(cbor_isa_map(item) && cbor_map_size(item) == 1);
	inner = cbor_map_handle(item)[0].value;
	assert_true(cbor_isa_map(inner) && cbor_map_size(inner) == 3);
	assert_true(cbor_isa_bytestring(cbor_map_handle(inner)[0].value));
	assert_int_equal(cbor_bytestring_length(
	    cbor_map_handle(inner)[0].value), 0);
	assert_int_equal(cbor_bytestring_length(
	    cbor_map_handle(inner)[1].value), 7);
	cbor_decref(&item);
	buf_free(&out, 0);

	/* Fields over the NSM limit are refused. */
	memset(big, 0, sizeof(big));
	assert_int_equal(nsm_attestation_request(&out, NULL, &too_big, NULL),
	    -1);
	buf_free(&out, 0);
}

static void
test_nsm_response(void **state)
{
	static const uint8_t ok[] = {
		0xa1, 0x6b, 'A', 't', 't', 'e', 's', 't', 'a', 't', 'i', 'o',
		'n', 0xa1, 0x68, 'd', 'o', 'c', 'u', 'm', 'e', 'n', 't', 0x43,
		0x84, 0x00, 0x01,
	};
	/* The same with indefinite-length maps. */
	static const uint8_t ok_indef[] = {
		0xbf, 0x6b, 'A', 't', 't', 'e', 's', 't', 'a', 't', 'i', 'o',
		'n', 0xbf, 0x68, 'd', 'o', 'c', 'u', 'm', 'e', 'n', 't', 0x43,
		0x84, 0x00, 0x01, 0xff, 0xff,
	};
	static const uint8_t err[] = {
		0xa1, 0x65, 'E', 'r', 'r', 'o', 'r', 0x6f, 'I', 'n', 'v', 'a',
		'l', 'i', 'd', 'A', 'r', 'g', 'u', 'm', 'e', 'n', 't',
	};
	static const uint8_t no_doc[] = {
		0xa1, 0x6b, 'A', 't', 't', 'e', 's', 't', 'a', 't', 'i', 'o',
		'n', 0xa0,
	};
	static const uint8_t other_op[] = {
		0xa1, 0x69, 'G', 'e', 't', 'R', 'a', 'n', 'd', 'o', 'm', 0xa0,
	};
	struct buf doc = BUF_INIT;
	struct reason reason;
	size_t i;

	(void)state;
	assert_int_equal(nsm_attestation_response(ok, sizeof(ok), &doc,
	    &reason), 0);
	assert_int_equal(doc.len, 3);
	assert_memory_equal(doc.data, "\x84\x00\x01", 3);
	buf_free(&doc, 0);
	assert_int_equal(nsm_attestation_response(ok_indef, sizeof(ok_indef),
	    &doc, &reason), 0);
	assert_int_equal(doc.len, 3);
	buf_free(&doc, 0);

	assert_int_equal(nsm_attestation_response(err, sizeof(err), &doc,
	    &reason), -1);
	assert_string_equal(reason.text, "NSM error: InvalidArgument");
	assert_int_equal(nsm_attestation_response(no_doc, sizeof(no_doc), &doc,
	    &reason), -1);
	assert_string_equal(reason.text, "NSM response has no document");
	assert_int_equal(nsm_attestation_response(other_op, sizeof(other_op),
	    &doc, &reason), -1);
	assert_string_equal(reason.text, "NSM response is not an Attestation");
	for (i = 0; i < sizeof(ok); i++)
		assert_int_equal(nsm_attestation_response(ok, i, &doc, &reason),
		    -1);
	assert_int_equal(doc.len, 0);
	buf_free(&doc, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_at_its_time),
		cmocka_unit_test(test_default_time_is_now),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_tampered_payload),
		cmocka_unit_test(test_tampered_signature),
		cmocka_unit_test(test_tampered_certificate),
		cmocka_unit_test(test_dropped_intermediate),
		cmocka_unit_test(test_indefinite_map),
		cmocka_unit_test(test_wrong_root),
		cmocka_unit_test(test_field_sizes),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_chunked_key_is_the_field),
		cmocka_unit_test(test_timestamp_within_leaf),
		cmocka_unit_test(test_debug_mode),
		cmocka_unit_test(test_expected_pcrs_and_nonce),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_decode_input),
		cmocka_unit_test(test_nsm_request),
		cmocka_unit_test(test_nsm_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
