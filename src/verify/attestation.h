/*
 * attestation.h - AWS Nitro attestation documents: parse and verify.
 *
 * A document is a COSE_Sign1 (RFC 8152) `[protected, unprotected, payload,
 * signature]`, untagged or under tag 18, signed ES384 by a leaf
 * certificate that chains to the AWS Nitro Enclaves root. Verification
 * checks, in this order: the CBOR shapes, the chain from the leaf through
 * cabundle[1..] (untrusted) to ONLY the pinned root at a chosen moment, the
 * ECDSA P-384 signature over the Sig_structure with the leaf's key, then
 * the expected nonce and PCRs. The leaf must carry the digitalSignature
 * key usage and the document's timestamp must fall within the leaf's
 * validity. Each failure leaves a reason such as
 * "signature does not verify", "certificate chain: certificate has
 * expired", "PCR0 mismatch" or "nonce mismatch".
 *
 * libcbor decodes, OpenSSL does every cryptographic step. Every count and
 * length in the input is checked against the bytes that remain before
 * libcbor is allowed to allocate on it (cbor_load_bounded).
 *
 * The rules are AWS's (aws-nitro-enclaves-nsm-api,
 * docs/attestation_process.md); docs/operations.md says what is checked.
 */
#ifndef VERIFY_ATTESTATION_H
#define VERIFY_ATTESTATION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cbor.h>

#include "common/buf.h"
#include "common/cbor_bounded.h"
#include "common/reason.h"

#define ATT_PCR_COUNT      32	/* NSM has 32 PCRs; documents list 16 */
#define ATT_PCR_MAX_LEN    64	/* SHA-512; SHA384 documents use 48 */
#define ATT_CABUNDLE_MAX   16
#define ATT_FIELD_MAX      1024	/* public_key: 1..1024 bytes (AWS spec) */
#define ATT_NONCE_MAX      512	/* nonce: 0..512 bytes (AWS spec) */
#define ATT_USER_DATA_MAX  512	/* user_data: 0..512 bytes (AWS spec) */
#define ATT_MODULE_ID_MAX  128

/* The AWS Nitro Enclaves root G1 (PEM): the default trust anchor. */
extern const char attestation_aws_nitro_root_g1_pem[];

/* The four parts of a COSE_Sign1; slices borrow from `item`. */
struct cose_sign1 {
	cbor_item_t  *item;		/* owns everything below */
	struct slice  protected_hdr;	/* bstr contents as received */
	struct slice  payload;
	struct slice  signature;
	long long     alg;		/* protected header label 1 */
};

/* Parse (bounded) and check the protected header says ES384 (-35). */
int  cose_sign1_parse(struct cose_sign1 *out, const uint8_t *data,
    size_t len, struct reason *reason);
/* The ToBeSigned bytes: ["Signature1", protected, h'', payload]. */
int  cose_sign1_sig_structure(const struct cose_sign1 *c, struct buf *out);
void cose_sign1_free(struct cose_sign1 *c);

/* An optional byte string: present=0 for null or absent. */
struct att_opt_bytes {
	int          present;
	struct slice v;
};

struct att_pcr {
	int     present;
	size_t  len;
	uint8_t value[ATT_PCR_MAX_LEN];
};

/* The payload; slices borrow from `item`. */
struct attestation_doc {
	cbor_item_t          *item;		/* owns the slices */
	char                  module_id[ATT_MODULE_ID_MAX + 1];
	char                  digest[16];	/* "SHA384" */
	uint64_t              timestamp_ms;
	struct att_pcr        pcrs[ATT_PCR_COUNT];
	size_t                npcrs;
	struct slice          certificate;	/* DER leaf */
	struct slice          cabundle[ATT_CABUNDLE_MAX];	/* root first */
	size_t                ncabundle;
	struct att_opt_bytes  public_key;
	struct att_opt_bytes  user_data;
	struct att_opt_bytes  nonce;
};

/*
 * Parse a payload map (definite or indefinite): every mandatory field
 * present with its type, sizes within the AWS spec's bounds (nonce and
 * user_data at most 512 bytes, public_key 1..1024 when not null), digest
 * SHA384.
 */
int  attestation_doc_parse(struct attestation_doc *out, const uint8_t *data,
    size_t len, struct reason *reason);
void attestation_doc_free(struct attestation_doc *d);

/*
 * 1 when PCR0, PCR1 and PCR2 are all present and all zero: the document
 * of an enclave started with --debug-mode, whose memory the parent
 * instance can read (its PCRs are zeroed by design).
 */
int  attestation_doc_is_debug(const struct attestation_doc *d);

struct att_expect_pcr {
	unsigned       index;
	const uint8_t *value;
	size_t         len;
};

struct att_verify_opts {
	const char    *root_pem;	/* NULL: the AWS Nitro root G1 */
	int            at_set;		/* 0: verify at the current time */
	time_t         at;		/* the moment the chain must be valid */
	const uint8_t *expected_nonce;	/* NULL: not checked */
	size_t         expected_nonce_len;
	const struct att_expect_pcr *expected_pcrs;
	size_t         nexpected_pcrs;
};

/*
 * Verify a whole document (raw CBOR). 0 when every check passes; -1 with
 * the first failure's reason. When `doc` is not NULL it receives the
 * parsed payload on success (free with attestation_doc_free()); on failure
 * it holds nothing to free.
 */
int  attestation_verify(const uint8_t *data, size_t len,
    const struct att_verify_opts *opts, struct attestation_doc *doc,
    struct reason *reason);

/*
 * A document as stored by hand or by `attest`: raw CBOR (a first byte of
 * 0x80 or more: 0x84, or a tag), or base64 with any whitespace. Decoded
 * into `out` (limit ATT_DOC_MAX). -1 when neither.
 */
int  attestation_decode_input(const uint8_t *in, size_t len, struct buf *out);


#endif
