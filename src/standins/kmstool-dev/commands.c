/*
 * commands.c - the three operations (see commands.h).
 */
#include "standins/kmstool-dev/commands.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/base64.h"
#include "common/buf.h"
#include "common/kms_key_ref.h"
#include "standins/kmstool-dev/blob.h"
#include "standins/kmstool-dev/hooks.h"
#include "standins/kmstool-dev/kmstool_dev.h"
#include "standins/kmstool-dev/report.h"

/*
 * KMS's answer to a Decrypt it refuses. Which exception is only logged;
 * like the real tool, the reason line carries nothing but the status.
 */
static int
refuse(const char *exception)
{
	return kt_fail_kms(400, exception);
}

/*
 * The order of checks follows KMS: a blob is parsed, the key it names is
 * looked up (and its policy applied: the hooks), the caller's --key-id and
 * algorithm must agree with it, and only then is it opened.
 */
int
kt_decrypt(const struct kt_args *a, const struct secret *master)
{
	uint8_t blob[BASE64_DECODED_MAX(KT_CIPHERTEXT_B64_MAX)];
	struct secret pt = SECRET_INIT;
	char blob_key[KT_KEY_ID_MAX + 1];
	struct kt_blob b;
	size_t n = 0;
	int rc;

	/* KMS's own limit on a CiphertextBlob (ValidationException). */
	if (strlen(a->ciphertext) > KT_CIPHERTEXT_B64_MAX)
		return refuse("ValidationException");
	/* The real tool decodes before it calls KMS: a local failure. */
	if (base64_decode(blob, &n, a->ciphertext, strlen(a->ciphertext)) < 0)
		return kt_fail("Ciphertext not a valid base64 string");
	if (kt_blob_parse(&b, blob, n) < 0)
		return refuse("InvalidCiphertextException");
	kt_info("decrypt: blob for key id %.*s", (int)b.key_id_len,
	    (const char *)b.key_id);
	if ((rc = kt_hook_run(kt_hook_by_key_id(b.key_id, b.key_id_len))) >= 0)
		return rc;
	/* KMS: a KeyId that names another key than the blob's is refused. */
	memcpy(blob_key, b.key_id, b.key_id_len);
	blob_key[b.key_id_len] = '\0';
	if (a->key_id != NULL && !kms_key_ref_same(a->key_id, blob_key))
		return refuse("IncorrectKeyException");
	if (a->encryption_algorithm != NULL &&
	    strcmp(a->encryption_algorithm, "SYMMETRIC_DEFAULT") != 0)
		return refuse("InvalidKeyUsageException");
	rc = kt_blob_open(&b, master, &pt);
	if (rc < 0)
		return refuse("InvalidCiphertextException");
	rc = kt_print_fields(&(struct kt_field){ "PLAINTEXT", pt.data, pt.len },
	    1);
	secret_free(&pt);
	if (rc < 0)
		return kt_fail("Could not write the plaintext");
	return KT_EXIT_OK;
}

/* A fresh data key, returned both sealed and in the clear, as KMS does. */
int
kt_genkey(const struct kt_args *a, const struct secret *master)
{
	struct secret key = SECRET_INIT;
	struct buf blob = BUF_INIT;
	int rc = KT_EXIT_FAILED;

	kt_info("genkey: key id %s, %zu-bit data key", a->key_id,
	    a->key_len * 8);
	if (secret_alloc(&key, a->key_len) < 0 ||
	    RAND_bytes(key.data, (int)key.len) != 1) {
		rc = kt_fail("Could not generate a data key");
		goto done;
	}
	if (kt_blob_seal(master, a->key_id, key.data, key.len, &blob) < 0) {
		rc = kt_fail("Could not seal the data key");
		goto done;
	}
	if (kt_print_fields((const struct kt_field[]){
	    { "CIPHERTEXT", blob.data, blob.len },
	    { "PLAINTEXT", key.data, key.len } }, 2) < 0) {
		rc = kt_fail("Could not write the data key");
		goto done;
	}
	rc = KT_EXIT_OK;
done:
	secret_free(&key);
	buf_free(&blob, 0);
	return rc;
}

/* Random bytes need no master key; they go out as PLAINTEXT like KMS's. */
int
kt_genrandom(const struct kt_args *a)
{
	struct secret bytes = SECRET_INIT;
	int rc = KT_EXIT_OK;

	kt_info("genrandom: %zu bytes", a->length);
	if (secret_alloc(&bytes, a->length) < 0 ||
	    RAND_bytes(bytes.data, (int)bytes.len) != 1)
		rc = kt_fail("Could not generate random bytes");
	else if (kt_print_fields(&(struct kt_field){ "PLAINTEXT", bytes.data,
	    bytes.len }, 1) < 0)
		rc = kt_fail("Could not write the random bytes");
	secret_free(&bytes);
	return rc;
}
