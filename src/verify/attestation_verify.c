/*
 * attestation_verify.c - the trust decisions for an attestation document:
 * certificate chain to the pinned root, COSE ES384 signature, nonce and
 * PCRs (see attestation.h).
 */
#include "verify/attestation.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/base64.h"
#include "common/guard.h"

#define ES384_HALF 48

/*
 * AWS Nitro Enclaves root G1: C=US, O=Amazon, OU=AWS, CN=aws.nitro-enclaves,
 * serial F93175681B90AFE11D46CCB4E4E7F856, 2019-10-28..2049-10-28, SHA-256
 * fingerprint 641A0321A3E244EFE456463195D606317ED7CDCC3C1756E09893F3C68F79BB5B
 * (tests/vectors/attestation/aws-nitro-root-g1.pem).
 */
const char attestation_aws_nitro_root_g1_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL\n"
	"MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD\n"
	"VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4\n"
	"MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL\n"
	"DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG\n"
	"BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb\n"
	"48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE\n"
	"h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF\n"
	"R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC\n"
	"MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW\n"
	"rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N\n"
	"IwLz3/Y=\n"
	"-----END CERTIFICATE-----\n";

/* DER that must be exactly one certificate, nothing after it. */
static X509 *
der_to_x509(const struct slice *der)
{
	const unsigned char *p = der->data;
	X509 *x;

	if (der->len == 0 || der->len > ATT_DOC_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)der->len);
	if (x != NULL && p != der->data + der->len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static X509 *
pem_to_x509(const char *pem)
{
	BIO *bio;
	X509 *x;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return x;
}

/*
 * Leaf -> cabundle[1..] (untrusted) -> the pinned root, the only trust
 * anchor: cabundle[0], the root the document brings, is never trusted.
 */
static int
verify_chain(X509 *leaf, const struct attestation_doc *d, X509 *root,
    time_t at, struct reason *reason)
{
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	size_t i;
	int rc = -1;

	if ((untrusted = sk_X509_new_null()) == NULL ||
	    (store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL) {
		reason_fail(reason, "certificate chain: out of memory");
		goto out;
	}
	for (i = 1; i < d->ncabundle; i++) {
		X509 *x = der_to_x509(&d->cabundle[i]);

		if (x == NULL) {
			reason_fail(reason,
			    "certificate chain: cabundle[%zu] is not DER X.509",
			    i);
			goto out;
		}
		if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			reason_fail(reason, "certificate chain: out of memory");
			goto out;
		}
	}
	if (X509_STORE_add_cert(store, root) != 1 ||
	    X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
		reason_fail(reason, "certificate chain: setup failed");
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, at);
	X509_VERIFY_PARAM_set_depth(param, ATT_CABUNDLE_MAX + 1);
	if (X509_verify_cert(ctx) != 1) {
		reason_fail(reason, "certificate chain: %s",
		    X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(untrusted, X509_free);
	return rc;
}

/*
 * What the AWS spec asks of the leaf beyond the chain: the
 * digitalSignature key usage (present, not merely unrestricted), and the
 * document's timestamp inside the leaf's validity, so a document cannot
 * claim a moment its signing certificate did not live in.
 */
static int
verify_leaf(X509 *leaf, const struct attestation_doc *d, struct reason *reason)
{
	time_t ts = (time_t)(d->timestamp_ms / 1000);
	int after_start, before_end;

	if (!(X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) ||
	    !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
		return reason_fail(reason, "certificate: the leaf "
		    "lacks the digitalSignature key usage");
	/* -1, 0, 1 as notBefore/notAfter is before, at, after ts; -2 error. */
	after_start = ASN1_TIME_cmp_time_t(X509_get0_notBefore(leaf), ts);
	before_end = ASN1_TIME_cmp_time_t(X509_get0_notAfter(leaf), ts);
	if (after_start == -2 || after_start > 0 || before_end < 0)
		return reason_fail(reason, "timestamp: the document "
		    "is dated outside its leaf certificate's validity");
	return 0;
}

/* COSE carries ES384 as raw r||s; OpenSSL verifies the DER ECDSA-Sig-Value. */
static int
raw_sig_to_der(const struct slice *sig, unsigned char **der, int *der_len)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;

	*der = NULL;
	if (sig->len != 2 * ES384_HALF)
		return -1;
	if ((es = ECDSA_SIG_new()) == NULL)
		return -1;
	r = BN_bin2bn(sig->data, ES384_HALF, NULL);
	s = BN_bin2bn(sig->data + ES384_HALF, ES384_HALF, NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return -1;
	}
	*der_len = i2d_ECDSA_SIG(es, der);
	ECDSA_SIG_free(es);
	return *der_len > 0 ? 0 : -1;
}

static int
verify_signature(const struct cose_sign1 *c, X509 *leaf, struct reason *reason)
{
	struct buf tbs = BUF_INIT;
	EVP_PKEY *pkey = X509_get0_pubkey(leaf);
	EVP_MD_CTX *md = NULL;
	unsigned char *der = NULL;
	char group[64];
	size_t glen = 0;
	int der_len = 0, rc = -1;

	if (pkey == NULL || !EVP_PKEY_is_a(pkey, "EC") ||
	    EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1 ||
	    strcmp(group, "secp384r1") != 0)
		return reason_fail(reason,
		    "leaf certificate key is not ECDSA P-384");
	if (cose_sign1_sig_structure(c, &tbs) < 0 ||
	    raw_sig_to_der(&c->signature, &der, &der_len) < 0 ||
	    (md = EVP_MD_CTX_new()) == NULL) {
		reason_fail(reason, "signature: cannot prepare check");
		goto out;
	}
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, pkey) != 1 ||
	    EVP_DigestVerify(md, der, (size_t)der_len, tbs.data,
	    tbs.len) != 1) {
		reason_fail(reason, "signature does not verify");
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	buf_free(&tbs, 0);
	return rc;
}

static int
check_expectations(const struct attestation_doc *d,
    const struct att_verify_opts *o, struct reason *reason)
{
	size_t i;

	if (o->expected_nonce != NULL) {
		if (!d->nonce.present)
			return reason_fail(reason,
			    "nonce mismatch (document has no nonce)");
		if (d->nonce.v.len != o->expected_nonce_len ||
		    CRYPTO_memcmp(d->nonce.v.data, o->expected_nonce,
		    o->expected_nonce_len) != 0)
			return reason_fail(reason, "nonce mismatch");
	}
	for (i = 0; i < o->nexpected_pcrs; i++) {
		const struct att_expect_pcr *e = &o->expected_pcrs[i];
		const struct att_pcr *p;

		if (e->index >= ATT_PCR_COUNT || !d->pcrs[e->index].present)
			return reason_fail(reason,
			    "PCR%u missing from the document", e->index);
		p = &d->pcrs[e->index];
		if (p->len != e->len ||
		    CRYPTO_memcmp(p->value, e->value, e->len) != 0)
			return reason_fail(reason, "PCR%u mismatch",
			    e->index);
	}
	return 0;
}

int
attestation_verify(const uint8_t *data, size_t len,
    const struct att_verify_opts *opts, struct attestation_doc *doc,
    struct reason *reason)
{
	static const struct att_verify_opts none;
	const struct att_verify_opts *o = opts ? opts : &none;
	struct cose_sign1 cose;
	struct attestation_doc d;
	X509 *leaf = NULL, *root = NULL;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	if (doc != NULL)
		memset(doc, 0, sizeof(*doc));
	if (cose_sign1_parse(&cose, data, len, reason) < 0)
		return -1;
	if (attestation_doc_parse(&d, cose.payload.data, cose.payload.len,
	    reason) < 0)
		goto out;
	if ((leaf = der_to_x509(&d.certificate)) == NULL) {
		reason_fail(reason, "certificate: leaf is not DER X.509");
		goto out;
	}
	root = pem_to_x509(o->root_pem ? o->root_pem :
	    attestation_aws_nitro_root_g1_pem);
	if (root == NULL) {
		reason_fail(reason, "root certificate is not PEM X.509");
		goto out;
	}
	GUARD_GOTO(verify_chain(leaf, &d, root, o->at_set ? o->at : time(NULL),
	    reason), out);
	GUARD_GOTO(verify_leaf(leaf, &d, reason), out);
	GUARD_GOTO(verify_signature(&cose, leaf, reason), out);
	GUARD_GOTO(check_expectations(&d, o, reason), out);
	rc = 0;
	reason_clear(reason);
out:
	X509_free(leaf);
	X509_free(root);
	ERR_clear_error();
	cose_sign1_free(&cose);
	if (rc == 0 && doc != NULL)
		*doc = d;
	else
		attestation_doc_free(&d);
	return rc;
}

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v';
}

int
attestation_decode_input(const uint8_t *in, size_t len, struct buf *out)
{
	struct buf text = BUF_INIT;
	size_t i, got;
	uint8_t *dst;
	int rc = -1;

	if (len == 0)
		return -1;
	/*
	 * A COSE_Sign1 starts with 0x84 or a tag (0xC0..0xDB); base64 and
	 * whitespace are ASCII. So a high first byte means raw CBOR.
	 */
	if (in[0] >= 0x80)
		return buf_append(out, in, len, ATT_DOC_MAX);
	/* Base64: at most 4/3 of ATT_DOC_MAX, plus room for line breaks. */
	if (len > 2 * ATT_DOC_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if (!is_space(in[i]))
			GUARD_GOTO(buf_append(&text, &in[i], 1, len), out);
	if (text.len == 0 || base64_decoded_max(text.len) > 2 * ATT_DOC_MAX)
		goto out;
	if ((dst = buf_tail(out, base64_decoded_max(text.len),
	    2 * ATT_DOC_MAX)) == NULL)
		goto out;
	if (base64_decode(dst, &got, (const char *)text.data, text.len) < 0 ||
	    got > ATT_DOC_MAX || got == 0)
		goto out;
	GUARD_GOTO(buf_commit(out, got), out);
	rc = 0;
out:
	buf_free(&text, 0);
	return rc;
}
