/*
 * main.c - enclave-gateway: startup, signals, graceful shutdown.
 *
 * Order at start: harden the process and set up locked memory, read the
 * TSK files, get credentials (environment: read and wiped from it), start
 * the pool's probe thread (which configures every enclave at once), then
 * serve HTTP. SIGHUP: read the TSK files again (keyring.h). SIGTERM or
 * SIGINT: stop accepting, let requests in flight finish (up to
 * --timeout), wake anything still waiting, close, wipe.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/base64.h"
#include "common/buf.h"
#include "common/guard.h"
#include "common/json_parse.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/timefmt.h"
#include "host/gateway/creds.h"
#include "host/gateway/gateway.h"
#include "host/gateway/http.h"
#include "host/gateway/keyring.h"
#include "host/gateway/metrics.h"
#include "host/gateway/pool.h"

/* The keyring of the --tsk files, its ids in the metrics; NULL: none. */
static int
load_keys(const struct gateway_options *o, struct metrics *m,
    struct keyring **out)
{
	const char *ids[GATEWAY_MAX_KEYS];
	struct keyring *k;
	size_t i;
	int empty;

	*out = NULL;
	if (o->n_tsks == 0 && o->tsk_dir == NULL)
		return 0;
	if ((k = keyring_load(o->tsks, o->n_tsks, o->tsk_dir, &empty)) ==
	    NULL) {
		if (empty) {
			/* An empty directory: no key (yet), not an error. */
			log_warn("the key directory %s holds no ID.b64 file",
			    o->tsk_dir);
			metrics_keys_loaded(m, NULL, 0, 1);
			return 0;
		}
		metrics_keys_loaded(m, NULL, 0, 0);
		return -1;
	}
	for (i = 0; i < k->n; i++)
		ids[i] = k->key[i].key_id;
	metrics_keys_loaded(m, ids, k->n, 1);
	*out = k;
	return 0;
}

/*
 * SIGHUP: read the key files again. A file that cannot be read keeps
 * every key as it was (nothing half-applied); otherwise the pool brings
 * each enclave to the new keys while requests go on.
 */
static void
reload_keys(const struct gateway_options *o, struct metrics *m,
    struct pool *pool)
{
	struct keyring *k;

	if (o->n_tsks == 0 && o->tsk_dir == NULL) {
		log_info("SIGHUP: no --tsk files to read again");
		return;
	}
	if (load_keys(o, m, &k) < 0) {
		log_error("SIGHUP: the key files could not all be read: "
		    "keeping the keys as they were");
		return;
	}
	if (k == NULL) {
		log_error("SIGHUP: no key left: keeping the keys as they were "
		    "(the enclaves would hold none)");
		return;
	}
	log_info("SIGHUP: %zu keys read; bringing every enclave to them",
	    k->n);
	pool_set_keys(pool, k);
	keyring_unref(k);
}

/* Requests in flight finish, up to the request timeout. */
static void
drain(struct metrics *m, int timeout_ms)
{
	long long until = clock_monotonic_ms() + timeout_ms;

	while (metrics_in_flight_now(m) > 0 && clock_monotonic_ms() < until)
		usleep(10000);
	if (metrics_in_flight_now(m) > 0)
		log_warn("%lld requests still in flight at shutdown",
		    (long long)metrics_in_flight_now(m));
}

static int
run(const struct gateway_options *o, sigset_t *sigs)
{
	struct gateway_ctx g = { .opts = o };
	struct pool_config pc;
	struct creds_cache cc;
	struct metrics m;
	struct http_front *h = NULL;
	struct keyring *keys = NULL;
	int sig = 0, rc = 1;

	if (metrics_init(&m) < 0)
		return 1;
	if (load_keys(o, &m, &keys) < 0)
		goto out_metrics;
	if (creds_init(&cc, o->creds, &m) < 0)
		goto out_metrics;
	memset(&pc, 0, sizeof(pc));
	pc.endpoints = o->enclaves;
	pc.n_endpoints = o->n_enclaves;
	pc.conns_per_enclave = o->conns_per_enclave;
	pc.queue = o->queue;
	pc.timeout_ms = o->timeout_ms;
	pc.keys = keys;
	pc.region = o->region;
	pc.creds = &cc;
	pc.metrics = &m;
	if ((g.pool = pool_new(&pc)) == NULL) {
		log_error("cannot set up the enclave pool");
		goto out_creds;
	}
	g.metrics = &m;
	if (keys == NULL)
		log_warn("no --tsk: enclaves are never configured by the gateway");
	if (pool_start(g.pool) < 0 || (h = http_start(&g)) == NULL)
		goto out_pool;
	while (sigwait(sigs, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
		if (sig == SIGHUP)
			reload_keys(o, &m, g.pool);
	log_info("signal %d: stopping (finishing requests in flight)", sig);
	atomic_store(&g.draining, 1);
	http_quiesce(h);
	drain(&m, o->timeout_ms);
	rc = 0;
out_pool:
	pool_shutdown(g.pool);
	http_stop(h);
	pool_free(g.pool);
out_creds:
	creds_destroy(&cc);
out_metrics:
	keyring_unref(keys);
	metrics_destroy(&m);
	if (rc == 0)
		log_info("stopped");
	return rc;
}

int
main(int argc, char **argv)
{
	struct gateway_options o;
	sigset_t sigs;
	int rc;

	if ((rc = gateway_options_parse(argc, argv, &o)) >= 0)
		return rc;
	log_set_level(o.log_level);
	/* Credentials live in locked memory when the system allows it. */
	if (secret_heap_init(1 << 16) < 0 || !secret_heap_locked())
		log_warn("secrets are not in locked memory (mlock refused)");
	if (process_harden() < 0)
		log_warn("cannot disable core dumps");
	json_use_wiping_allocator();
	if (imds_global_init() < 0) {
		log_error("cannot initialise libcurl");
		return 1;
	}
	/* Every thread inherits this: only sigwait() sees the signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = run(&o, &sigs);
	return rc;
}
