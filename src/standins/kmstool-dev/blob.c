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

/*
 * The header is written first and then used, as written, as the AAD: what
 * is authenticated is exactly the bytes that travel.
 */
int
kt_blob_seal(const struct secret *master, const char *key_id,
    const uint8_t *pt, size_t n, struct buf *out)
{
	size_t id_len = strlen(key_id), header_len, total;
	uint8_t lead[KT_BLOB_HEADER_MIN];
	uint8_t *sealed;

	if (master->len != AEAD_KEY_LEN || !kt_key_id_valid(key_id, id_len) ||
	    n == 0 || n > KT_PLAINTEXT_MAX)
		return -1;
	memcpy(lead, KT_BLOB_MAGIC, KT_BLOB_MAGIC_LEN);
	lead[KT_BLOB_MAGIC_LEN] = KT_BLOB_VERSION;
	lead[KT_BLOB_MAGIC_LEN + 1] = (uint8_t)id_len;
	header_len = sizeof(lead) + id_len;
	total = header_len + AEAD_OVERHEAD + n;
	buf_truncate(out, 0);
	GUARD(buf_reserve(out, total, KT_BLOB_MAX));
	GUARD(buf_append(out, lead, sizeof(lead), KT_BLOB_MAX));
	GUARD(buf_append(out, key_id, id_len, KT_BLOB_MAX));
	if ((sealed = buf_tail(out, AEAD_OVERHEAD + n, KT_BLOB_MAX)) == NULL)
		return -1;
	/* The header was written to out->data: authenticate those bytes. */
	GUARD(aead_seal(master->data, out->data, header_len, pt, n, sealed));
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

/* The plaintext goes straight into secret memory; nothing else holds it. */
int
kt_blob_open(const struct kt_blob *b, const struct secret *master,
    struct secret *pt)
{
	if (master->len != AEAD_KEY_LEN || b->sealed_len <= AEAD_OVERHEAD)
		return -1;
	GUARD(secret_alloc(pt, b->sealed_len - AEAD_OVERHEAD));
	if (aead_open(master->data, b->header, b->header_len, b->sealed,
	    b->sealed_len, pt->data) < 0) {
		secret_free(pt);
		return -1;
	}
	return 0;
}
