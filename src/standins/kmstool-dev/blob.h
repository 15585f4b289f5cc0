/*
 * blob.h - kmstool-dev's "ciphertext blob": a data key sealed under the
 * local master key, standing in for a KMS CiphertextBlob.
 *
 * Layout, version 1 (travels as standard base64, like a real blob):
 *
 *   offset  size  field
 *   0       4     magic "KTDV"
 *   4       1     version, 0x01
 *   5       1     key id length L, 1..255
 *   6       L     key id: printable ASCII without spaces (an alias, an ARN)
 *   6+L     12    nonce          \
 *           N     ciphertext      } AES-256-GCM under the master key,
 *           16    tag            /  the layout of common/aead.h
 *
 * The associated data is the whole header (bytes 0 .. 6+L), so the key id
 * and the version are authenticated with the data key: a blob whose key id
 * was edited does not open. (There is no encryption context: the real
 * kmstool_enclave_cli cannot send one.)
 */
#ifndef KMSTOOL_DEV_BLOB_H
#define KMSTOOL_DEV_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/secret.h"

#define KT_BLOB_MAGIC      "KTDV"
#define KT_BLOB_MAGIC_LEN  4
#define KT_BLOB_VERSION    1
#define KT_BLOB_HEADER_MIN (KT_BLOB_MAGIC_LEN + 2)
#define KT_KEY_ID_MAX      255
/* KMS limits: Decrypt plaintext up to 4096 bytes, CiphertextBlob 6144. */
#define KT_PLAINTEXT_MAX   4096
#define KT_BLOB_MAX        6144

/* A parsed blob: views into the caller's bytes. */
struct kt_blob {
	const uint8_t *header;	/* the associated data */
	size_t         header_len;
	const uint8_t *key_id;
	size_t         key_id_len;
	const uint8_t *sealed;	/* nonce || ciphertext || tag */
	size_t         sealed_len;
};

/* 1 when `id` (len bytes) is an acceptable key id. */
int kt_key_id_valid(const char *id, size_t len);

/* Seal n bytes (1..KT_PLAINTEXT_MAX) under `master` for `key_id` into out. */
int kt_blob_seal(const struct secret *master, const char *key_id,
    const uint8_t *pt, size_t n, struct buf *out);
/* Check the layout (magic, version, key id, sizes); -1 when malformed. */
int kt_blob_parse(struct kt_blob *b, const uint8_t *data, size_t n);
/* Authenticate and decrypt into a fresh secret; -1 when it does not verify. */
int kt_blob_open(const struct kt_blob *b, const struct secret *master,
    struct secret *pt);

#endif
