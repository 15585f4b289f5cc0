/*
 * metrics.h - what the gateway counts, and its Prometheus text format.
 *
 * Request counters live here; the per-enclave state comes from the pool
 * as a snapshot at scrape time, so formatting is a pure function of two
 * inputs and the unit tests check it without a pool or a server.
 */
#ifndef GATEWAY_METRICS_H
#define GATEWAY_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"

/* Latency buckets (seconds), Prometheus' `le` upper bounds; +Inf implied. */
#define METRICS_BUCKETS    14
#define METRICS_MAX_CODES  32	/* distinct error codes kept; then "other" */
#define METRICS_CODE_MAX   40
#define METRICS_MAX_KEYS   64	/* key ids labelled: as many as are held */
#define METRICS_KEY_ID_MAX 65	/* common/key_id.h, with its NUL */
#define METRICS_HTTP_MIN   100
#define METRICS_HTTP_MAX   599

struct metrics {
	pthread_mutex_t lock;
	uint64_t requests[METRICS_HTTP_MAX - METRICS_HTTP_MIN + 1];
	char     error_code[METRICS_MAX_CODES][METRICS_CODE_MAX];
	uint64_t error_count[METRICS_MAX_CODES];
	size_t   n_errors;
	uint64_t bucket[METRICS_BUCKETS + 1];	/* last: +Inf */
	double   latency_sum;
	uint64_t latency_count;
	int64_t  in_flight;
	uint64_t retries;		/* requests sent to an enclave again */
	/* Requests by the key id they named (or the gateway's default),
	 * when the gateway holds it; any other id counts in unheld_*. */
	char     key_id[METRICS_MAX_KEYS][METRICS_KEY_ID_MAX];
	uint64_t key_ok[METRICS_MAX_KEYS], key_error[METRICS_MAX_KEYS];
	uint64_t key_configure_failed[METRICS_MAX_KEYS];
	size_t   n_keys;
	uint64_t unheld_ok, unheld_error;
	/* The keys the gateway configures enclaves with, and its reloads. */
	char     loaded[METRICS_MAX_KEYS][METRICS_KEY_ID_MAX];
	size_t   n_loaded;
	uint64_t reload_ok, reload_failed;
	uint64_t cred_refresh_ok;
	uint64_t cred_refresh_failed;
	time_t   cred_expiration;	/* 0: none or not expiring */
};

/* One enclave as the pool sees it at scrape time. */
enum enclave_state { ENCLAVE_DOWN, ENCLAVE_UNCONFIGURED, ENCLAVE_UP };

struct metrics_enclave {
	const char        *name;	/* the endpoint, escaped for a label */
	const char        *endpoint;	/* the endpoint string as it is */
	enum enclave_state state;
	int                busy;	/* connections in use */
	int                connections;	/* connections allowed */
	uint64_t           configure_ok;
	uint64_t           configure_failed;
	time_t             last_configure;	/* 0: never */
	uint64_t           failures;	/* times taken out */
	int                keys_current;	/* has every key of the last load */
	int                keys_failing;	/* keys it refused (pool.c) */
};

/* Also describes the queue at scrape time. */
struct metrics_queue {
	int waiting;
	int capacity;
};

extern const double metrics_bucket_bounds[METRICS_BUCKETS];

int  metrics_init(struct metrics *m);
void metrics_destroy(struct metrics *m);
/* One finished HTTP request: its status, duration, error code or NULL. */
void metrics_request(struct metrics *m, int http_status, double seconds,
    const char *error_code);
void metrics_in_flight(struct metrics *m, int delta);
int64_t metrics_in_flight_now(struct metrics *m);
void metrics_retry(struct metrics *m);
void metrics_credentials(struct metrics *m, int ok, time_t expiration);
/* One process request that named key_id (a valid key id), and its end:
 * labelled by its id only when the last metrics_keys_loaded listed it. */
void metrics_key_request(struct metrics *m, const char *key_id, int ok);
/* An enclave refused to configure key_id (a held key; others not counted). */
void metrics_key_configure_failed(struct metrics *m, const char *key_id);
/* The key ids now loaded (ok), or a reload that failed (ok 0, ids NULL). */
void metrics_keys_loaded(struct metrics *m, const char *const *ids, size_t n,
    int ok);
/* A metric label value: [A-Za-z0-9_] kept, anything else becomes '_'. */
void metrics_label(char *dst, size_t size, const char *src);
/* The whole exposition text (version 0.0.4) appended to out. */
int  metrics_format(struct metrics *m, const struct metrics_enclave *enc,
    size_t n_enc, const struct metrics_queue *q, struct buf *out);

#endif
