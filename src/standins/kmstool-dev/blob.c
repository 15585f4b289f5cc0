/*
 * blob.c - sealing and opening kmstool-dev's ciphertext blobs (see blob.h).
 */
#include "standins/kmstool-dev/blob.h"

#include <string.h>

#include "common/aead.h"
#include "common/guard.h"

/*
 * Key ids end up in log lines and error text: allowing only printable,
 * space-free ASCII keeps those lines unambiguous and free of control bytes.
 */
int
kt_key_id_valid(const char *id, size_t len)
{
	size_t i;

	if (len == 0 || len > KT_KEY_ID_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)id[i] < 0x21 || (unsigned char)id[i] > 0x7e)
			return 0;
	return 1;
}

/* The associated data: the header as it travels, then the context. */
static int
blob_aad(const uint8_t *header, size_t header_len, const struct slice *context,
    struct buf *aad)
{
	GUARD(buf_append(aad, header, header_len, KT_BLOB_MAX + KT_CONTEXT_MAX));
	if (context->len == 0)
		return 0;
	return buf_append(aad, context->data, context->len,
	    KT_BLOB_MAX + KT_CONTEXT_MAX);
}

int
kt_blob_seal(const struct secret *master, const char *key_id,
    const uint8_t *pt, size_t n, struct buf *out)
{
	const struct slice none = { NULL, 0 };

	return kt_blob_seal_ctx(master, key_id, &none, pt, n, out);
}

/*
 * The header is written first and then used, as written, as the AAD: what
 * is authenticated is exactly the bytes that travel.
 */
int
kt_blob_seal_ctx(const struct secret *master, const char *key_id,
    const struct slice *context, const uint8_t *pt, size_t n,
    struct buf *out)
{
	size_t id_len = strlen(key_id), header_len, total;
	uint8_t lead[KT_BLOB_HEADER_MIN];
	struct buf aad = BUF_INIT;
	uint8_t *sealed;
	int rc;

	if (master->len != AEAD_KEY_LEN || !kt_key_id_valid(key_id, id_len) ||
	    n == 0 || n > KT_PLAINTEXT_MAX)
		return -1;
	memcpy(lead, KT_BLOB_MAGIC, KT_BLOB_MAGIC_LEN);
	lead[KT_BLOB_MAGIC_LEN] = KT_BLOB_VERSION;
	lead[KT_BLOB_MAGIC_LEN + 1] = (uint8_t)id_len;
	header_len = sizeof(lead) + id_len;
	total = header_len + AEAD_OVERHEAD + n;
	out->len = 0;
	GUARD(buf_reserve(out, total, KT_BLOB_MAX));
	GUARD(buf_append(out, lead, sizeof(lead), KT_BLOB_MAX));
	GUARD(buf_append(out, key_id, id_len, KT_BLOB_MAX));
	GUARD(blob_aad(out->data, header_len, context, &aad));
	if ((sealed = buf_tail(out, AEAD_OVERHEAD + n, KT_BLOB_MAX)) == NULL)
		rc = -1;
	else
		rc = aead_seal(master->data, aad.data, aad.len, pt, n, sealed);
	buf_free(&aad, 0);
	GUARD(rc);
	return buf_commit(out, AEAD_OVERHEAD + n);
}

/*
 * Everything is checked before any cryptography runs, so a truncated or
 * foreign blob is refused on its shape alone.
 */
int
kt_blob_parse(struct kt_blob *b, const uint8_t *data, size_t n)
{
	size_t id_len, header_len;

	memset(b, 0, sizeof(*b));
	if (n < KT_BLOB_HEADER_MIN || n > KT_BLOB_MAX)
		return -1;
	if (memcmp(data, KT_BLOB_MAGIC, KT_BLOB_MAGIC_LEN) != 0 ||
	    data[KT_BLOB_MAGIC_LEN] != KT_BLOB_VERSION)
		return -1;
	id_len = data[KT_BLOB_MAGIC_LEN + 1];
	header_len = KT_BLOB_HEADER_MIN + id_len;
	/* At least one byte of data key after the header. */
	if (n < header_len + AEAD_OVERHEAD + 1 ||
	    n - header_len - AEAD_OVERHEAD > KT_PLAINTEXT_MAX)
		return -1;
	if (!kt_key_id_valid((const char *)data + KT_BLOB_HEADER_MIN, id_len))
		return -1;
	b->header = data;
	b->header_len = header_len;
	b->key_id = data + KT_BLOB_HEADER_MIN;
	b->key_id_len = id_len;
	b->sealed = data + header_len;
	b->sealed_len = n - header_len;
	return 0;
}

int
kt_blob_open(const struct kt_blob *b, const struct secret *master,
    struct secret *pt)
{
	const struct slice none = { NULL, 0 };

	return kt_blob_open_ctx(b, master, &none, pt);
}

/* The plaintext goes straight into secret memory; nothing else holds it. */
int
kt_blob_open_ctx(const struct kt_blob *b, const struct secret *master,
    const struct slice *context, struct secret *pt)
{
	struct buf aad = BUF_INIT;
	int rc;

	if (master->len != AEAD_KEY_LEN || b->sealed_len <= AEAD_OVERHEAD)
		return -1;
	GUARD(blob_aad(b->header, b->header_len, context, &aad));
	if (secret_alloc(pt, b->sealed_len - AEAD_OVERHEAD) < 0) {
		buf_free(&aad, 0);
		return -1;
	}
	rc = aead_open(master->data, aad.data, aad.len, b->sealed,
	    b->sealed_len, pt->data);
	buf_free(&aad, 0);
	if (rc < 0) {
		secret_free(pt);
		return -1;
	}
	return 0;
}
