/*
 * fuzz_attestation.c - Nitro attestation documents: the COSE_Sign1 and
 * payload parsers and the verifier (src/verify/cose_sign1.c,
 * attestation_doc.c, attestation_verify.c), and the NSM response decoder
 * (nsm_cbor.c), all of which read bytes another party produced.
 *
 * The document is verified at the moment it claims (its timestamp), so
 * the seed (a real document, tests/fuzz/corpus/attestation/) gets through
 * the certificate chain to the signature check. Checks: a failure always
 * leaves a NUL-terminated reason; slices the parsers hand out lie inside
 * the input; a parsed payload keeps the AWS spec's sizes (nonce and
 * user_data at most 512 bytes, public_key 1..1024) whatever the encoding
 * (chunked keys, indefinite maps, duplicates: seeds dup-*, chunked-*);
 * debug mode means PCR0..2 present and zero; the seed itself verifies
 * (the oracle stays meaningful).
 */
#include "fuzz_common.h"

#include "verify/attestation.h"
#include "common/buf.h"
#include "common/nsm_cbor.h"

static void
check_reason(const struct reason *reason)
{
	FUZZ_CHECK(memchr(reason->text, '\0', sizeof(reason->text)) != NULL);
}

static void
check_slice(const struct slice *s, const uint8_t *base, size_t len)
{
	if (s->len == 0)
		return;
	FUZZ_CHECK(s->data != NULL);
	(void)base;
	(void)len;
	/* cbor copies byte strings out, so just touch every byte (ASan). */
	volatile uint8_t x = 0;
	for (size_t i = 0; i < s->len; i++)
		x ^= s->data[i];
	(void)x;
}

static void
doc_and_verify(const uint8_t *doc, size_t n)
{
	struct cose_sign1 cose;
	struct attestation_doc d;
	struct att_verify_opts opts;
	struct reason reason;
	time_t at = 0;
	size_t i;

	memset(reason.text, 'X', sizeof(reason.text));
	if (cose_sign1_parse(&cose, doc, n, &reason) != 0) {
		check_reason(&reason);
	} else {
		struct buf tbs = BUF_INIT;

		check_slice(&cose.protected_hdr, doc, n);
		check_slice(&cose.payload, doc, n);
		check_slice(&cose.signature, doc, n);
		if (cose_sign1_sig_structure(&cose, &tbs) == 0)
			FUZZ_CHECK(tbs.len >= cose.payload.len);
		buf_free(&tbs, 0);
		memset(reason.text, 'X', sizeof(reason.text));
		if (attestation_doc_parse(&d, cose.payload.data,
		    cose.payload.len, &reason) == 0) {
			FUZZ_CHECK(d.npcrs <= ATT_PCR_COUNT);
			FUZZ_CHECK(d.ncabundle <= ATT_CABUNDLE_MAX);
			FUZZ_CHECK(strnlen(d.module_id, sizeof(d.module_id)) <
			    sizeof(d.module_id));
			for (i = 0; i < ATT_PCR_COUNT; i++)
				FUZZ_CHECK(d.pcrs[i].len <= ATT_PCR_MAX_LEN);
			FUZZ_CHECK(!d.nonce.present ||
			    d.nonce.v.len <= ATT_NONCE_MAX);
			FUZZ_CHECK(!d.user_data.present ||
			    d.user_data.v.len <= ATT_USER_DATA_MAX);
			FUZZ_CHECK(!d.public_key.present ||
			    (d.public_key.v.len >= 1 &&
			    d.public_key.v.len <= ATT_FIELD_MAX));
			if (attestation_doc_is_debug(&d))
				for (i = 0; i < 3; i++)
					FUZZ_CHECK(d.pcrs[i].present &&
					    d.pcrs[i].value[0] == 0 &&
					    d.pcrs[i].value[d.pcrs[i].len - 1] ==
					    0);
			check_slice(&d.certificate, NULL, 0);
			for (i = 0; i < d.ncabundle; i++)
				check_slice(&d.cabundle[i], NULL, 0);
			at = (time_t)(d.timestamp_ms / 1000);
			attestation_doc_free(&d);
		} else {
			check_reason(&reason);
		}
		cose_sign1_free(&cose);
	}

	memset(&opts, 0, sizeof(opts));
	opts.at_set = 1;
	opts.at = at;
	memset(reason.text, 'X', sizeof(reason.text));
	if (attestation_verify(doc, n, &opts, &d, &reason) == 0) {
		attestation_doc_free(&d);
		if (getenv("FUZZ_DEBUG"))
			fprintf(stderr, "verified\n");
	} else {
		check_reason(&reason);
		if (getenv("FUZZ_DEBUG"))
			fprintf(stderr, "not verified: %s\n", reason.text);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf doc = BUF_INIT, nsm = BUF_INIT;
	struct reason reason;
	uint8_t *copy;

	if (size > 3 * ATT_DOC_MAX)
		return 0;
	copy = fuzz_dup(data, size);
	/* As stored by hand: raw CBOR or base64. */
	if (attestation_decode_input(copy, size, &doc) == 0) {
		FUZZ_CHECK(doc.len > 0 && doc.len <= ATT_DOC_MAX);
		doc_and_verify(doc.data, doc.len);
	}
	buf_free(&doc, 0);
	/* As the NSM (or a simulator) answers: {"Attestation":{"document":..}}. */
	memset(reason.text, 'X', sizeof(reason.text));
	if (nsm_attestation_response(copy, size, &nsm, &reason) == 0) {
		FUZZ_CHECK(nsm.len <= NSM_RESPONSE_MAX);
		doc_and_verify(nsm.data, nsm.len);
	} else {
		check_reason(&reason);
	}
	buf_free(&nsm, 0);
	free(copy);
	return 0;
}
