/*
 * pool.h - the gateway's enclaves: persistent connections to each,
 * requests balanced across the healthy ones, failing ones taken out and
 * probed until they answer, configure at start and on `not_configured`,
 * and again with what changed when the keys are read again (SIGHUP).
 */
#ifndef GATEWAY_POOL_H
#define GATEWAY_POOL_H

#include <stddef.h>

#include "host/gateway/creds.h"
#include "host/gateway/keyring.h"
#include "host/gateway/metrics.h"

struct pool_config {
	const char *const *endpoints;
	size_t       n_endpoints;
	int          conns_per_enclave;
	int          queue;		/* requests allowed to wait */
	/*
	 * Bounds a request's wait for a connection, and each exchange with
	 * an enclave (the client library's I/O timeout, fixed per client).
	 */
	int          timeout_ms;
	/* The keys to configure with (a reference is taken); NULL: never. */
	struct keyring *keys;
	const char  *region;		/* or NULL */
	const char  *kms_key_id;	/* or NULL; lives as long as the pool */
	struct creds_cache *creds;
	struct metrics     *metrics;
};

#define POOL_CODE_MAX 48

/* A key an enclave refused, as /healthz shows it: id, wire code, count. */
struct pool_key_trouble {
	char     key_id[GATEWAY_KEY_ID_MAX + 1];
	char     code[POOL_CODE_MAX];
	uint64_t failures;
};

enum pool_status {
	POOL_OK,		/* result holds the enclave's answer */
	POOL_REMOTE,		/* the enclave refused: code, details */
	POOL_UNAVAILABLE,	/* no enclave is up */
	POOL_OVERLOADED,	/* the queue is full */
	POOL_TIMEOUT,		/* the request's time ran out */
	POOL_FAILED,		/* connections broke on every attempt */
	POOL_SHUTDOWN,		/* the gateway is stopping */
	POOL_NOMEM,
};

struct pool_outcome {
	char  *result;		/* POOL_OK: hex (a document: base64), free
				   with enclave_free() */
	size_t result_len;
	char   code[64];	/* POOL_REMOTE: the protocol's msg code */
	char   details[512];
	int    enclave;		/* index of the enclave that answered, or -1 */
	/* The key id the request opened with ("" when the enclave chose). */
	char   key_id[GATEWAY_KEY_ID_MAX + 1];
};

struct pool;

struct pool *pool_new(const struct pool_config *cfg);
/* Start the probe thread (first probe and configure right away; probe.c). */
int  pool_start(struct pool *p);
/* Wake every waiting request (they get POOL_SHUTDOWN), stop probing. */
void pool_shutdown(struct pool *p);
void pool_free(struct pool *p);

/*
 * One process request, with the retries the pool's rules allow. The
 * request's aad, keys and grant go to the enclave as they are, except a
 * NULL key_id: the keyring's default (none: the enclave's own).
 */
enum pool_status pool_process(struct pool *p, const char *hex, size_t hex_len,
    const struct enclave_process_options *req, struct pool_outcome *out);
/*
 * A fresh attestation document binding nonce_hex (and user_data_hex,
 * NULL for none) from one of the enclaves (attest.c): POOL_OK with the
 * base64 document in out->result, or as pool_process fails.
 */
enum pool_status pool_attest(struct pool *p, const char *nonce_hex,
    const char *user_data_hex, struct pool_outcome *out);
/*
 * New keys (a reference is taken): every enclave is brought to them by
 * the probe thread (configure what was added or changed, forget what was
 * removed) while requests go on with the keys it already holds.
 */
void pool_set_keys(struct pool *p, struct keyring *keys);
/*
 * The keys enclave i refused and has not taken since (up to max; the
 * count). Only the id and the wire code: never the enclave's details,
 * which may quote KMS (F35).
 */
size_t pool_key_troubles(struct pool *p, size_t i, struct pool_key_trouble *out,
    size_t max);
/* The endpoint of enclave i (as pool_outcome.enclave names it). */
const char *pool_enclave_name(const struct pool *p, int i);
/* The per-enclave view for /metrics (names valid while the pool is). */
size_t pool_snapshot(struct pool *p, struct metrics_enclave *out, size_t max,
    struct metrics_queue *q);

#endif
