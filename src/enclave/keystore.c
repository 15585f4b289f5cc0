/*
 * keystore.c - a bounded table of reference-counted TSKs, and the
 * per-identity encryption counts (see keystore.h).
 *
 * One mutex guards the table; it is held only to find, swap or count a
 * pointer, never while a key is used. Keys are found by a linear scan:
 * the table holds at most --max-keys (default 16) entries, fewer than a
 * cache line's worth of comparisons in the usual case.
 */
#include "enclave/keystore.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/aead.h"
#include "common/grant.h"
#include "common/guard.h"

#define IDENTITY_LEN      32	/* HMAC-SHA256 */
#define KEYSTORE_DEFAULT  16
#define IDENTITIES_MIN    64

/*
 * What the daemon remembers of every key it has held: a keyed hash (the
 * hash key is random per process, so the value means nothing outside
 * it) and how many messages the key has sealed. Never freed before exit,
 * so a key's pointer to its identity stays valid.
 */
struct identity {
	uint8_t              mac[IDENTITY_LEN];
	atomic_uint_fast64_t encryptions;
};

struct tsk {
	struct secret    bytes;
	/* The key's public name (common/grant.h): what grants point at. */
	uint8_t          commitment[GRANT_COMMITMENT_LEN];
	atomic_uint      refs;
	struct identity *identity;
	char             id[KEY_ID_MAX + 1];
};

struct slot {
	struct tsk *key;	/* NULL: free */
	uint64_t    seq;	/* which configure installed it */
	time_t      at;
};

static pthread_mutex_t  lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot     *slots;
static unsigned         n_slots;
static struct slot     *latest;		/* most recently configured, or NULL */
static uint64_t         generation;
/* In one secret block: the hash key, then the identities. */
static struct secret    locked;
static struct identity *identities;
static size_t           n_identities, max_identities;

static size_t
identities_for(unsigned max_keys)
{
	size_t n = (size_t)max_keys * KEYSTORE_IDENTITIES_PER_KEY;

	return n < IDENTITIES_MIN ? IDENTITIES_MIN : n;
}

size_t
keystore_secret_bytes(unsigned max_keys)
{
	/* Each key: 32 bytes in a 64-byte secure-heap block at most. */
	return IDENTITY_LEN + identities_for(max_keys) *
	    sizeof(struct identity) + (size_t)max_keys * 64;
}

/* Called with the lock held (or before any thread runs). */
static int
keystore_setup(unsigned max_keys)
{
	uint8_t warm[IDENTITY_LEN];
	unsigned int warm_len = sizeof(warm);

	if (slots != NULL)
		return 0;
	if (max_keys == 0 || max_keys > KEYSTORE_MAX_KEYS)
		return -1;
	GUARD_PTR(slots = calloc(max_keys, sizeof(*slots)));
	max_identities = identities_for(max_keys);
	if (secret_alloc(&locked, IDENTITY_LEN + max_identities *
	    sizeof(struct identity)) < 0 ||
	    RAND_bytes(locked.data, IDENTITY_LEN) != 1) {
		secret_free(&locked);
		free(slots);
		slots = NULL;
		return -1;
	}
	identities = (struct identity *)(void *)(locked.data + IDENTITY_LEN);
	n_slots = max_keys;
	/* Fetch HMAC-SHA256 once now, before the sandbox closes in. */
	HMAC(EVP_sha256(), locked.data, IDENTITY_LEN, warm, 0, warm, &warm_len);
	OPENSSL_cleanse(warm, sizeof(warm));
	return 0;
}

int
keystore_init(unsigned max_keys)
{
	int rc;

	pthread_mutex_lock(&lock);
	rc = keystore_setup(max_keys);
	pthread_mutex_unlock(&lock);
	return rc;
}

static void
tsk_put(struct tsk *key)
{
	if (key != NULL && atomic_fetch_sub(&key->refs, 1) == 1) {
		secret_free(&key->bytes);
		free(key);
	}
}

/* The slot holding `id`, or NULL. Lock held. */
static struct slot *
slot_find(const char *id)
{
	unsigned i;

	for (i = 0; i < n_slots; i++)
		if (slots[i].key != NULL && strcmp(slots[i].key->id, id) == 0)
			return &slots[i];
	return NULL;
}

static int
any_key(void)
{
	return latest != NULL;
}

struct tsk *
keystore_acquire(const char *key_id, enum keystore_status *why)
{
	struct slot *s;
	struct tsk *key = NULL;

	pthread_mutex_lock(&lock);
	s = key_id == NULL ? latest : slot_find(key_id);
	if (s != NULL) {
		key = s->key;
		atomic_fetch_add(&key->refs, 1);
		*why = KEYSTORE_OK;
	} else {
		*why = any_key() ? KEYSTORE_UNKNOWN_KEY :
		    KEYSTORE_NOT_CONFIGURED;
	}
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

const char *
tsk_id(const struct tsk *key)
{
	return key->id;
}

const uint8_t *
tsk_commitment(const struct tsk *key)
{
	return key->commitment;
}

int
tsk_reserve_encryption(struct tsk *key, uint64_t limit)
{
	atomic_uint_fast64_t *count = &key->identity->encryptions;
	uint_fast64_t n = atomic_load(count);

	/* Compare and swap, so a refusal leaves the count as it was. */
	do {
		if (n >= limit)
			return -1;
	} while (!atomic_compare_exchange_weak(count, &n, n + 1));
	return 0;
}

/* The identity of `mac`, remembered now if new; NULL when full. Lock held. */
static struct identity *
identity_for(const uint8_t mac[IDENTITY_LEN])
{
	struct identity *id;
	size_t i;

	for (i = 0; i < n_identities; i++)
		if (CRYPTO_memcmp(identities[i].mac, mac, IDENTITY_LEN) == 0)
			return &identities[i];
	if (n_identities == max_identities)
		return NULL;
	id = &identities[n_identities++];
	memcpy(id->mac, mac, IDENTITY_LEN);
	atomic_init(&id->encryptions, 0);
	return id;
}

static int
identity_known(const uint8_t mac[IDENTITY_LEN])
{
	size_t i;

	for (i = 0; i < n_identities; i++)
		if (CRYPTO_memcmp(identities[i].mac, mac, IDENTITY_LEN) == 0)
			return 1;
	return 0;
}

/* The slot to install `id` into: its own, or a free one. Lock held. */
static struct slot *
slot_for(const char *id)
{
	struct slot *s = slot_find(id);
	unsigned i;

	for (i = 0; s == NULL && i < n_slots; i++)
		if (slots[i].key == NULL)
			s = &slots[i];
	return s;
}

/* The held key configured last, after a forget. Lock held. */
static struct slot *
newest_slot(void)
{
	struct slot *best = NULL;
	unsigned i;

	for (i = 0; i < n_slots; i++)
		if (slots[i].key != NULL && (best == NULL ||
		    slots[i].seq > best->seq))
			best = &slots[i];
	return best;
}

enum keystore_status
keystore_install(const char *key_id, struct secret *bytes)
{
	uint8_t mac[IDENTITY_LEN];
	unsigned int mac_len = sizeof(mac);
	enum keystore_status st = KEYSTORE_OK;
	struct tsk *key, *old = NULL;
	struct slot *s;

	if (bytes->len != AEAD_KEY_LEN ||
	    !key_id_valid(key_id, strlen(key_id)))
		return KEYSTORE_INVALID;
	if ((key = calloc(1, sizeof(*key))) == NULL)
		return KEYSTORE_NO_MEMORY;
	if (grant_commitment(bytes->data, key->commitment) < 0) {
		free(key);
		return KEYSTORE_NO_MEMORY;
	}
	memcpy(key->id, key_id, strlen(key_id) + 1);
	atomic_init(&key->refs, 1);

	pthread_mutex_lock(&lock);
	if (keystore_setup(KEYSTORE_DEFAULT) < 0 ||
	    HMAC(EVP_sha256(), locked.data, IDENTITY_LEN, bytes->data,
	    bytes->len, mac, &mac_len) == NULL) {
		st = KEYSTORE_NO_MEMORY;
	} else if ((s = slot_for(key_id)) == NULL) {
		st = KEYSTORE_TOO_MANY_KEYS;
	} else if (!identity_known(mac) && n_identities == max_identities) {
		st = KEYSTORE_HISTORY_FULL;
	} else {
		key->identity = identity_for(mac);
		key->bytes = *bytes;
		bytes->data = NULL;
		bytes->len = 0;
		old = s->key;
		s->key = key;
		s->seq = ++generation;
		s->at = time(NULL);
		latest = s;
		key = NULL;
	}
	pthread_mutex_unlock(&lock);
	OPENSSL_cleanse(mac, sizeof(mac));
	free(key);
	tsk_put(old);
	return st;
}

enum keystore_status
keystore_check_room(const char *key_id)
{
	enum keystore_status st;

	pthread_mutex_lock(&lock);
	st = slots == NULL || slot_for(key_id) != NULL ? KEYSTORE_OK :
	    KEYSTORE_TOO_MANY_KEYS;
	pthread_mutex_unlock(&lock);
	return st;
}

enum keystore_status
keystore_forget(const char *key_id)
{
	struct tsk *old = NULL;
	struct slot *s;

	pthread_mutex_lock(&lock);
	if ((s = slot_find(key_id)) != NULL) {
		old = s->key;
		s->key = NULL;
		if (latest == s)
			latest = newest_slot();
	}
	pthread_mutex_unlock(&lock);
	if (old == NULL)
		return KEYSTORE_UNKNOWN_KEY;
	tsk_put(old);
	return KEYSTORE_OK;
}

int
keystore_configured(void)
{
	int yes;

	pthread_mutex_lock(&lock);
	yes = any_key();
	pthread_mutex_unlock(&lock);
	return yes;
}

time_t
keystore_configured_at(void)
{
	time_t t;

	pthread_mutex_lock(&lock);
	t = latest != NULL ? latest->at : 0;
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
	uint64_t n = 0;

	pthread_mutex_lock(&lock);
	if (latest != NULL)
		n = atomic_load(&latest->key->identity->encryptions);
	pthread_mutex_unlock(&lock);
	return n;
}

size_t
keystore_list(struct keystore_entry *out, size_t max)
{
	struct slot *order[KEYSTORE_MAX_KEYS];
	size_t n = 0, i, j;

	pthread_mutex_lock(&lock);
	for (i = 0; i < n_slots; i++)
		if (slots[i].key != NULL)
			order[n++] = &slots[i];
	/* Oldest configure first: a stable order for operators and tests. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && order[j - 1]->seq > order[j]->seq; j--) {
			struct slot *t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	if (n > max)
		n = max;
	for (i = 0; i < n; i++) {
		memcpy(out[i].key_id, order[i]->key->id, KEY_ID_MAX + 1);
		out[i].encryptions =
		    atomic_load(&order[i]->key->identity->encryptions);
	}
	pthread_mutex_unlock(&lock);
	return n;
}

void
keystore_wipe(void)
{
	struct tsk *old;
	unsigned i;

	for (i = 0; i < n_slots; i++) {
		pthread_mutex_lock(&lock);
		old = slots[i].key;
		slots[i].key = NULL;
		pthread_mutex_unlock(&lock);
		tsk_put(old);
	}
	pthread_mutex_lock(&lock);
	latest = NULL;
	free(slots);
	slots = NULL;
	n_slots = 0;
	secret_free(&locked);
	identities = NULL;
	n_identities = 0;
	pthread_mutex_unlock(&lock);
}
