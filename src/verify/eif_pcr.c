/*
 * eif_pcr.c - the PCRs an EIF will measure to (verify/eif.h).
 *
 * Rules from aws-nitro-enclaves-image-format, src/defs/eif_hasher.rs: each
 * PCR is a TPM-style extend from 48 zero bytes of one SHA-384 digest over
 * section data only. PCR0 covers kernel, cmdline and every ramdisk; PCR1
 * the kernel, cmdline and the first ramdisk (AWS's bootstrap); PCR2 the
 * other ramdisks (the application); PCR8 the signing certificate's DER.
 * Metadata and headers are measured by none of them.
 */
#include <string.h>

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/cbor_bounded.h"
#include "common/guard.h"
#include "verify/eif.h"

/* A running SHA-384 over several sections. */
static EVP_MD_CTX *
digest_start(void)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c != NULL && EVP_DigestInit_ex(c, EVP_sha384(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		return NULL;
	}
	return c;
}

static int
digest_add(EVP_MD_CTX *c, const struct eif_section *s)
{
	if (s->len == 0)
		return 0;
	return EVP_DigestUpdate(c, s->data, s->len) == 1 ? 0 : -1;
}

/* Finish the digest and extend a zero PCR with it. */
static int
digest_extend(EVP_MD_CTX *c, uint8_t out[EIF_PCR_LEN])
{
	uint8_t in[2 * EIF_PCR_LEN] = { 0 };
	unsigned int n = 0;
	int rc = -1;

	if (EVP_DigestFinal_ex(c, in + EIF_PCR_LEN, &n) == 1 &&
	    n == EIF_PCR_LEN &&
	    EVP_Digest(in, sizeof(in), out, &n, EVP_sha384(), NULL) == 1 &&
	    n == EIF_PCR_LEN)
		rc = 0;
	EVP_MD_CTX_free(c);
	return rc;
}

int
eif_pcr_of(const uint8_t *data, size_t len, uint8_t out[EIF_PCR_LEN])
{
	struct eif_section s = { EIF_SECTION_RAMDISK, 0, data, len };
	EVP_MD_CTX *c = digest_start();

	if (c == NULL)
		return -1;
	if (digest_add(c, &s) < 0) {
		EVP_MD_CTX_free(c);
		return -1;
	}
	return digest_extend(c, out);
}

int
eif_pcrs(const struct eif_image *img, uint8_t pcr0[EIF_PCR_LEN],
         uint8_t pcr1[EIF_PCR_LEN], uint8_t pcr2[EIF_PCR_LEN])
{
	EVP_MD_CTX *c[3] = { digest_start(), digest_start(), digest_start() };
	size_t i, ramdisk = 0;
	int rc = -1;

	if (c[0] == NULL || c[1] == NULL || c[2] == NULL)
		goto out;
	for (i = 0; i < img->nsections; i++) {
		const struct eif_section *s = &img->sections[i];

		switch (s->type) {
		case EIF_SECTION_KERNEL:
		case EIF_SECTION_CMDLINE:
			GUARD_GOTO(digest_add(c[0], s), out);
			GUARD_GOTO(digest_add(c[1], s), out);
			break;
		case EIF_SECTION_RAMDISK:
			GUARD_GOTO(digest_add(c[0], s), out);
			GUARD_GOTO(digest_add(c[ramdisk == 0 ? 1 : 2], s), out);
			ramdisk++;
			break;
		default:
			break;
		}
	}
	rc = 0;
	if (digest_extend(c[0], pcr0) < 0)
		rc = -1;
	if (digest_extend(c[1], pcr1) < 0)
		rc = -1;
	if (digest_extend(c[2], pcr2) < 0)
		rc = -1;
	return rc;
out:
	for (i = 0; i < 3; i++)
		EVP_MD_CTX_free(c[i]);
	return rc;
}

/*
 * A CBOR field holding bytes: a byte string, or (serde's way with Vec<u8>)
 * an array of integers 0..255. Appended to `out`.
 */
static int
cbor_bytes(const cbor_item_t *it, struct buf *out, size_t limit)
{
	size_t i, n;

	if (cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it))
		return buf_append(out, cbor_bytestring_handle(it),
		    cbor_bytestring_length(it), limit);
	if (!cbor_isa_array(it) || !cbor_array_is_definite(it))
		return -1;
	n = cbor_array_size(it);
	for (i = 0; i < n; i++) {
		cbor_item_t *b = cbor_array_handle(it)[i];
		uint8_t v;

		if (!cbor_isa_uint(b) || cbor_get_int(b) > 255)
			return -1;
		v = (uint8_t)cbor_get_int(b);
		GUARD(buf_append(out, &v, 1, limit));
	}
	return 0;
}

/* The first element's signing_certificate, PEM, as DER in `der`. */
static int
signing_cert_der(const cbor_item_t *root, struct buf *der, struct reason *why)
{
	struct buf pem = BUF_INIT;
	cbor_item_t *first;
	struct cbor_pair *pairs;
	size_t i;
	int rc = -1, len;
	BIO *bio = NULL;
	X509 *cert = NULL;
	unsigned char *p = NULL;

	if (!cbor_isa_array(root) || cbor_array_size(root) == 0)
		return reason_fail(why, "signature section: not a non-empty "
		    "CBOR array");
	first = cbor_array_handle(root)[0];
	if (!cbor_isa_map(first) || !cbor_map_is_definite(first))
		return reason_fail(why, "signature section: element 0 is not "
		    "a map");
	pairs = cbor_map_handle(first);
	for (i = 0; i < cbor_map_size(first); i++)
		if (cbor_text_equals(pairs[i].key, "signing_certificate"))
			break;
	if (i == cbor_map_size(first) ||
	    cbor_bytes(pairs[i].value, &pem, 65536) < 0 || pem.len == 0) {
		reason_fail(why, "signature section: no signing_certificate");
		goto out;
	}
	bio = BIO_new_mem_buf(pem.data, (int)pem.len);
	if (bio == NULL || (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		reason_fail(why, "signature section: the signing certificate "
		    "is not a PEM X.509 certificate");
		goto out;
	}
	len = i2d_X509(cert, &p);
	if (len <= 0 || buf_append(der, p, (size_t)len, 65536) < 0) {
		reason_fail(why, "signature section: cannot encode the "
		    "certificate as DER");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(p);
	X509_free(cert);
	BIO_free(bio);
	buf_free(&pem, 0);
	return rc;
}

int
eif_pcr8(const struct eif_image *img, uint8_t pcr8[EIF_PCR_LEN],
         struct reason *why)
{
	struct buf der = BUF_INIT;
	cbor_item_t *root;
	int rc = -1;

	if (img->signature == NULL)
		return reason_fail(why, "the EIF is not signed (no PCR8)");
	if (img->signature->len > ATT_DOC_MAX)
		return reason_fail(why, "signature section: %zu bytes, more "
		    "than the %d read", img->signature->len, ATT_DOC_MAX);
	root = cbor_load_bounded(img->signature->data, img->signature->len,
	    ATT_CBOR_DEPTH_MAX, why);
	if (root == NULL)
		return -1;
	if (signing_cert_der(root, &der, why) == 0)
		rc = eif_pcr_of(der.data, der.len, pcr8);
	cbor_decref(&root);
	buf_free(&der, 0);
	return rc;
}
