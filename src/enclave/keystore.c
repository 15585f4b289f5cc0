/*
 * keystore.c - reference-counted, atomically swapped TSK (see keystore.h).
 */
#include "enclave/keystore.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/aead.h"
#include "common/guard.h"

struct tsk {
	struct secret    bytes;
	atomic_uint      refs;
	atomic_uint_fast64_t encryptions;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct tsk     *current;
static time_t          configured_at;
static uint64_t        generation;

static void
tsk_put(struct tsk *key)
{
	if (key != NULL && atomic_fetch_sub(&key->refs, 1) == 1) {
		secret_free(&key->bytes);
		free(key);
	}
}

struct tsk *
keystore_acquire(void)
{
	struct tsk *key;

	pthread_mutex_lock(&lock);
	key = current;
	if (key != NULL)
		atomic_fetch_add(&key->refs, 1);
	pthread_mutex_unlock(&lock);
	return key;
}

void
keystore_release(struct tsk *key)
{
	tsk_put(key);
}

const uint8_t *
tsk_bytes(const struct tsk *key)
{
	return key->bytes.data;
}

int
tsk_reserve_encryption(struct tsk *key, uint64_t limit)
{
	uint_fast64_t n = atomic_load(&key->encryptions);

	/* Compare and swap, so a refusal leaves the count as it was. */
	do {
		if (n >= limit)
			return -1;
	} while (!atomic_compare_exchange_weak(&key->encryptions, &n, n + 1));
	return 0;
}

int
keystore_replace(struct secret *bytes)
{
	struct tsk *key, *old;

	if (bytes->len != AEAD_KEY_LEN)
		return -1;
	GUARD_PTR(key = calloc(1, sizeof(*key)));
	key->bytes = *bytes;
	bytes->data = NULL;
	bytes->len = 0;
	atomic_init(&key->refs, 1);
	atomic_init(&key->encryptions, 0);

	pthread_mutex_lock(&lock);
	old = current;
	current = key;
	configured_at = time(NULL);
	generation++;
	pthread_mutex_unlock(&lock);
	tsk_put(old);
	return 0;
}

int
keystore_configured(void)
{
	int yes;

	pthread_mutex_lock(&lock);
	yes = current != NULL;
	pthread_mutex_unlock(&lock);
	return yes;
}

time_t
keystore_configured_at(void)
{
	time_t t;

	pthread_mutex_lock(&lock);
	t = configured_at;
	pthread_mutex_unlock(&lock);
	return t;
}

uint64_t
keystore_generation(void)
{
	uint64_t g;

	pthread_mutex_lock(&lock);
	g = generation;
	pthread_mutex_unlock(&lock);
	return g;
}

uint64_t
keystore_encryptions(void)
{
	struct tsk *key = keystore_acquire();
	uint64_t n = 0;

	if (key != NULL) {
		n = atomic_load(&key->encryptions);
		keystore_release(key);
	}
	return n;
}

void
keystore_wipe(void)
{
	struct tsk *old;

	pthread_mutex_lock(&lock);
	old = current;
	current = NULL;
	pthread_mutex_unlock(&lock);
	tsk_put(old);
}
