/*
 * pool_internal.h - what the files of the enclave pool share: pool.c
 * (the pool's records), slots.c (the scheduler), key_sync.c (keys to the
 * enclaves), retry.c (one request and its retries) and probe.c (health
 * checks and the probe thread). Calls go one way: retry.c and probe.c use
 * key_sync.c and slots.c, key_sync.c uses slots.c, and pool.c (whose
 * shutdown wakes the queue) uses slots.c; slots.c calls none of them.
 *
 * Locking: one mutex per pool guards every field below but the clients
 * themselves; a slot's client is used only by whoever marked it busy
 * (or by the probe thread, which has its own client per enclave). No
 * network call is made with the lock held.
 */
#ifndef GATEWAY_POOL_INTERNAL_H
#define GATEWAY_POOL_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "common/endpoint.h"
#include "enclaveclient/client.h"
#include "host/gateway/pool.h"

/* Probe an up enclave this often; a down one from MIN doubling to MAX. */
#define PROBE_UP_MS       1000
#define PROBE_DOWN_MIN_MS 100
#define PROBE_DOWN_MAX_MS 2000
#define PROBE_TICK_MS     50
#define POOL_CONNECT_TIMEOUT_MS 2000
/* A key an enclave refused is tried again after MIN, doubling to MAX. */
#define KEY_RETRY_MIN_MS  1000
#define KEY_RETRY_MAX_MS  60000

/*
 * A key an enclave would not take (KMS refused it, the blob is too long,
 * the enclave holds too many keys): the enclave goes on with its other
 * keys, and this one is tried again on its own schedule (F29).
 */
struct key_trouble {
	char      key_id[GATEWAY_KEY_ID_MAX + 1];
	uint8_t   tsk_hash[32];	/* which version of the file failed */
	char      code[POOL_CODE_MAX];	/* the enclave's wire code */
	uint64_t  failures;	/* in a row */
	long long retry_ms;	/* not before (monotonic) */
};

struct slot {
	struct enclave_client *client;
	int      busy;
	uint64_t epoch;		/* the enclave's epoch when it connected */
};

struct enclave {
	char     endpoint[ENDPOINT_STR_MAX];
	char     label[2 * ENDPOINT_STR_MAX];	/* escaped for a metric label */
	enum enclave_state state;
	struct slot *slots;
	int      busy;
	/* Bumped when the enclave is taken out: older connections are stale. */
	uint64_t epoch;
	/* Bumped by every successful configure. */
	uint64_t config_gen;
	/* The keyring the enclave was last brought to (NULL: nothing known,
	 * as after a restart), and which reading of the files that was. */
	struct keyring *synced;
	uint64_t keys_gen;
	int      configuring;
	uint64_t configure_ok, configure_failed, failures;
	/* Keys this enclave refused, each with its own retry time. */
	struct key_trouble trouble[GATEWAY_MAX_KEYS];
	size_t   n_trouble;
	time_t   last_configure;
	/* The probe thread's own connection and schedule. */
	struct enclave_client *probe;
	long long next_probe_ms;
	int       probe_backoff_ms;
	int       probe_now;	/* a request saw trouble: probe at once */
};

struct pool {
	struct pool_config cfg;
	pthread_mutex_t lock;
	pthread_cond_t  freed;	/* a configure finished (or the pool stops) */
	pthread_cond_t  wake;	/* the probe thread: something to look at */
	struct enclave *enc;
	size_t          n;
	size_t          rr;	/* round-robin start for ties */
	int             waiting;
	struct waiter  *wq_head, *wq_tail;	/* the queue, oldest first */
	int             stopping;
	int             started;
	pthread_t       thread;
	struct keyring *keys;	/* the current keys, or NULL */
	uint64_t        keys_gen;	/* bumped by pool_set_keys */
	char           *region;
};

/* A request's hold on one slot of one enclave (slots.c). */
struct lease {
	struct enclave *e;
	struct slot    *s;
	uint64_t        gen;	/* the enclave's config_gen when granted */
};

/* A request waiting for a connection: served first come, first served. */
struct waiter {
	struct waiter  *next, *prev;
	pthread_cond_t  cv;
	long            exclude;
	int             reachable;	/* an unconfigured enclave will do */
	struct lease   *lease;
	int             granted;
};

/* pool.c */
struct enclave_client *pool_client_new(const struct pool *p);
/* The enclave's error answer as the request's outcome (its code, or
 * internal_error when it gave none, and its details). */
void pool_outcome_remote(struct enclave_client *c, struct pool_outcome *out);
/* The client library would not send the request: invalid_field, with
 * the library's reason. */
void pool_outcome_refused(struct enclave_client *c, struct pool_outcome *out);

/* slots.c */
/*
 * A connection now when one is free and nobody is waiting; otherwise a
 * place in the queue (if there is room) until one is handed over, every
 * candidate enclave but `exclude` goes down, the deadline passes or the
 * pool stops. Candidates are the up enclaves, and with `reachable` the
 * ones that answer but hold no key yet too (attestation needs no key).
 */
enum pool_status pool_acquire(struct pool *p, long exclude, int reachable,
    long long deadline, struct lease *l);
/* Give the slot back (closing its connection when asked or stale). */
void pool_release(struct pool *p, struct lease *l, int close_conn);
/* Take the enclave out of service (takes the lock). */
void pool_take_down(struct pool *p, struct enclave *e, const char *why);
/* With the lock held: serve the queue and let every waiter look again. */
void pool_wake_locked(struct pool *p);
/* With the lock held: take the enclave out of service (once per outage). */
void pool_mark_down_locked(struct pool *p, struct enclave *e, const char *why);
/* key_sync.c */
/*
 * Bring enclave e to the current keys over client c (configure those it
 * lacks or holds in another version, forget those dropped) unless another
 * thread configured it since `seen_gen` (then just return 0). Takes and
 * drops the lock itself.
 */
int  pool_configure(struct pool *p, struct enclave *e,
    struct enclave_client *c, uint64_t seen_gen);
/* 1 when some key e refused is due for another try. Lock held. */
int  pool_trouble_due_locked(struct enclave *e, long long now);
/* The same after the enclave lost its keys (restarted): all of them. */
int  pool_reconfigure(struct pool *p, struct enclave *e,
    struct enclave_client *c, uint64_t seen_gen);
/*
 * 1 when enclave e refused key_id or result_key_id and waits to try it
 * again; `out` then holds the not_configured answer (takes the lock).
 */
int  pool_key_refused(struct pool *p, struct enclave *e, const char *key_id,
    const char *result_key_id, struct pool_outcome *out);

#endif
