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

struct keystore {
	pthread_mutex_t  lock;
	struct slot     *slots;
	unsigned         n_slots;
	struct slot     *latest;	/* most recently configured, or NULL */
	uint64_t         generation;
	/* In one secret block: the hash key, then the identities. */
	struct secret    locked;
	struct identity *identities;
	size_t           n_identities, max_identities;
};

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

struct keystore *
keystore_new(unsigned max_keys)
{
	uint8_t warm[IDENTITY_LEN];
	unsigned int warm_len = sizeof(warm);
	struct keystore *ks;

	if (max_keys == 0 || max_keys > KEYSTORE_MAX_KEYS)
		return NULL;
	if ((ks = calloc(1, sizeof(*ks))) == NULL)
		return NULL;
	pthread_mutex_init(&ks->lock, NULL);
	ks->max_identities = identities_for(max_keys);
	if ((ks->slots = calloc(max_keys, sizeof(*ks->slots))) == NULL ||
	    secret_alloc(&ks->locked, IDENTITY_LEN + ks->max_identities *
	    sizeof(struct identity)) < 0 ||
	    RAND_bytes(ks->locked.data, IDENTITY_LEN) != 1) {
		keystore_free(ks);
		return NULL;
	}
	ks->identities = (struct identity *)(void *)(ks->locked.data +
	    IDENTITY_LEN);
	ks->n_slots = max_keys;
	/* Fetch HMAC-SHA256 once now, before the sandbox closes in. */
	HMAC(EVP_sha256(), ks->locked.data, IDENTITY_LEN, warm, 0, warm,
	    &warm_len);
	OPENSSL_cleanse(warm, sizeof(warm));
	return ks;
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
slot_find(struct keystore *ks, const char *id)
{
	unsigned i;

	for (i = 0; i < ks->n_slots; i++)
		if (ks->slots[i].key != NULL && strcmp(ks->slots[i].key->id, id) == 0)
			return &ks->slots[i];
	return NULL;
}

static int
any_key(struct keystore *ks)
{
	return ks->latest != NULL;
}

struct tsk *
keystore_acquire(struct keystore *ks, const char *key_id,
    enum keystore_status *why)
{
	struct slot *s;
	struct tsk *key = NULL;

	pthread_mutex_lock(&ks->lock);
	s = key_id == NULL ? ks->latest : slot_find(ks, key_id);
	if (s != NULL) {
		key = s->key;
		atomic_fetch_add(&key->refs, 1);
		*why = KEYSTORE_OK;
	} else {
		*why = any_key(ks) ? KEYSTORE_UNKNOWN_KEY :
		    KEYSTORE_NOT_CONFIGURED;
	}
	pthread_mutex_unlock(&ks->lock);
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
identity_for(struct keystore *ks, const uint8_t mac[IDENTITY_LEN])
{
	struct identity *id;
	size_t i;

	for (i = 0; i < ks->n_identities; i++)
		if (CRYPTO_memcmp(ks->identities[i].mac, mac, IDENTITY_LEN) == 0)
			return &ks->identities[i];
	if (ks->n_identities == ks->max_identities)
		return NULL;
	id = &ks->identities[ks->n_identities++];
	memcpy(id->mac, mac, IDENTITY_LEN);
	atomic_init(&id->encryptions, 0);
	return id;
}

static int
identity_known(struct keystore *ks, const uint8_t mac[IDENTITY_LEN])
{
	size_t i;

	for (i = 0; i < ks->n_identities; i++)
		if (CRYPTO_memcmp(ks->identities[i].mac, mac, IDENTITY_LEN) == 0)
			return 1;
	return 0;
}

/* The slot to install `id` into: its own, or a free one. Lock held. */
static struct slot *
slot_for(struct keystore *ks, const char *id)
{
	struct slot *s = slot_find(ks, id);
	unsigned i;

	for (i = 0; s == NULL && i < ks->n_slots; i++)
		if (ks->slots[i].key == NULL)
			s = &ks->slots[i];
	return s;
}

/* The held key configured last, after a forget. Lock held. */
static struct slot *
newest_slot(struct keystore *ks)
{
	struct slot *best = NULL;
	unsigned i;

	for (i = 0; i < ks->n_slots; i++)
		if (ks->slots[i].key != NULL && (best == NULL ||
		    ks->slots[i].seq > best->seq))
			best = &ks->slots[i];
	return best;
}

enum keystore_status
keystore_install(struct keystore *ks, const char *key_id, struct secret *bytes)
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

	pthread_mutex_lock(&ks->lock);
	if (HMAC(EVP_sha256(), ks->locked.data, IDENTITY_LEN, bytes->data,
	    bytes->len, mac, &mac_len) == NULL) {
		st = KEYSTORE_NO_MEMORY;
	} else if ((s = slot_for(ks, key_id)) == NULL) {
		st = KEYSTORE_TOO_MANY_KEYS;
	} else if (!identity_known(ks, mac) && ks->n_identities == ks->max_identities) {
		st = KEYSTORE_HISTORY_FULL;
	} else {
		key->identity = identity_for(ks, mac);
		key->bytes = *bytes;
		bytes->data = NULL;
		bytes->len = 0;
		old = s->key;
		s->key = key;
		s->seq = ++ks->generation;
		s->at = time(NULL);
		ks->latest = s;
		key = NULL;
	}
	pthread_mutex_unlock(&ks->lock);
	OPENSSL_cleanse(mac, sizeof(mac));
	free(key);
	tsk_put(old);
	return st;
}

enum keystore_status
keystore_check_room(struct keystore *ks, const char *key_id)
{
	enum keystore_status st;

	pthread_mutex_lock(&ks->lock);
	st = slot_for(ks, key_id) != NULL ? KEYSTORE_OK :
	    KEYSTORE_TOO_MANY_KEYS;
	pthread_mutex_unlock(&ks->lock);
	return st;
}

enum keystore_status
keystore_forget(struct keystore *ks, const char *key_id)
{
	struct tsk *old = NULL;
	struct slot *s;

	pthread_mutex_lock(&ks->lock);
	if ((s = slot_find(ks, key_id)) != NULL) {
		old = s->key;
		s->key = NULL;
		if (ks->latest == s)
			ks->latest = newest_slot(ks);
	}
	pthread_mutex_unlock(&ks->lock);
	if (old == NULL)
		return KEYSTORE_UNKNOWN_KEY;
	tsk_put(old);
	return KEYSTORE_OK;
}

int
keystore_configured(struct keystore *ks)
{
	int yes;

	pthread_mutex_lock(&ks->lock);
	yes = any_key(ks);
	pthread_mutex_unlock(&ks->lock);
	return yes;
}

time_t
keystore_configured_at(struct keystore *ks)
{
	time_t t;

	pthread_mutex_lock(&ks->lock);
	t = ks->latest != NULL ? ks->latest->at : 0;
	pthread_mutex_unlock(&ks->lock);
	return t;
}

uint64_t
keystore_generation(struct keystore *ks)
{
	uint64_t g;

	pthread_mutex_lock(&ks->lock);
	g = ks->generation;
	pthread_mutex_unlock(&ks->lock);
	return g;
}

uint64_t
keystore_encryptions(struct keystore *ks)
{
	uint64_t n = 0;

	pthread_mutex_lock(&ks->lock);
	if (ks->latest != NULL)
		n = atomic_load(&ks->latest->key->identity->encryptions);
	pthread_mutex_unlock(&ks->lock);
	return n;
}

size_t
keystore_list(struct keystore *ks, struct keystore_entry *out, size_t max)
{
	struct slot *order[KEYSTORE_MAX_KEYS];
	size_t n = 0, i, j;

	pthread_mutex_lock(&ks->lock);
	for (i = 0; i < ks->n_slots; i++)
		if (ks->slots[i].key != NULL)
			order[n++] = &ks->slots[i];
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
	pthread_mutex_unlock(&ks->lock);
	return n;
}

void
keystore_free(struct keystore *ks)
{
	unsigned i;

	if (ks == NULL)
		return;
	/* Every request has ended: a key still referenced would be a bug,
	 * and its bytes go with its last reference all the same. */
	for (i = 0; ks->slots != NULL && i < ks->n_slots; i++)
		tsk_put(ks->slots[i].key);
	free(ks->slots);
	secret_free(&ks->locked);
	pthread_mutex_destroy(&ks->lock);
	free(ks);
}
