/*
 * locked_heap.c - the secure heap's size (see locked_heap.h).
 */
#include "enclave/locked_heap.h"

#include "common/aead.h"
#include "enclave/keystore.h"
#include "enclave/kms/kms.h"
#include "enclave/server.h"

/* OpenSSL's smallest block (secret_heap_init asks for 16 bytes). */
#define BLOCK_MIN 16
/* OpenSSL 3's public and private generators of one thread (measured: 512). */
#define LOCKED_PER_THREAD 1024
/* The primary generator and anything else OpenSSL keeps there (768). */
#define LOCKED_BASE ((size_t)16 << 10)

/* The block the secure heap's buddy allocator gives for n bytes. */
static size_t
block(size_t n)
{
	size_t b = BLOCK_MIN;

	while (b < n)
		b <<= 1;
	return b;
}

size_t
locked_heap_per_configure(void)
{
	/* Each credential is held NUL-terminated. */
	return block(KMS_ACCESS_KEY_ID_MAX + 1) +
	    block(KMS_SECRET_ACCESS_KEY_MAX + 1) +
	    block(KMS_SESSION_TOKEN_MAX + 1) + block(AEAD_KEY_LEN);
}

size_t
locked_heap_size(const struct options *opt)
{
	size_t configures = opt->max_connections < SERVER_MAX_RUNNING_JOBS ?
	    opt->max_connections : SERVER_MAX_RUNNING_JOBS;
	/*
	 * Keys: the keystore's table for --max-keys (keystore_secret_bytes,
	 * one block for its identities, one per key), and replaced keys that
	 * process requests in flight still hold (one per connection at most).
	 */
	size_t keystore = block(keystore_secret_bytes(opt->max_keys)) +
	    keystore_secret_bytes(opt->max_keys);
	size_t keys = (size_t)opt->max_connections;
	size_t threads = (size_t)opt->threads + SERVER_MAX_RUNNING_JOBS + 1;
	size_t need = configures * locked_heap_per_configure() +
	    keystore + keys * block(AEAD_KEY_LEN) + threads * LOCKED_PER_THREAD +
	    LOCKED_BASE;

	return block(need < LOCKED_HEAP_MIN ? LOCKED_HEAP_MIN : need);
}
