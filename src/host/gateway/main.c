/*
 * main.c - enclave-gateway: startup, signals, graceful shutdown.
 *
 * Order at start: harden the process and set up locked memory, read the
 * TSK files, get credentials (environment: read and wiped from it), start
 * the pool's probe thread (which configures every enclave at once), then
 * serve HTTP. SIGHUP: read the TSK files again, on reload.c's thread
 * (this one only waits for signals, so SIGTERM is always heard). SIGTERM or
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
#include "host/gateway/reload.h"

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
	struct reloader *reloader = NULL;
	struct keyring *keys = NULL;
	int sig = 0, rc = 1;

	if (metrics_init(&m) < 0)
		return 1;
	if (reload_load_keys(o, &m, NULL, &keys) < 0)
		goto out_metrics;
	if (creds_init(&cc, o->creds, o->n_tsks > 0 || o->tsk_dir != NULL,
	    &m) < 0)
		goto out_metrics;
	memset(&pc, 0, sizeof(pc));
	pc.endpoints = o->enclaves;
	pc.n_endpoints = o->n_enclaves;
	pc.conns_per_enclave = o->conns_per_enclave;
	pc.queue = o->queue;
	pc.timeout_ms = o->timeout_ms;
	pc.keys = keys;
	pc.region = o->region;
	pc.kms_key_id = o->kms_key_id;
	pc.creds = &cc;
	pc.metrics = &m;
	if ((g.pool = pool_new(&pc)) == NULL) {
		log_error("cannot set up the enclave pool");
		goto out_creds;
	}
	g.metrics = &m;
	if (keys == NULL)
		log_warn("no --tsk: enclaves are never configured by the gateway");
	if (pool_start(g.pool) < 0 || (h = http_start(&g)) == NULL ||
	    (reloader = reloader_start(o, &m, g.pool, keys)) == NULL)
		goto out_pool;
	/* This thread only waits for signals: a reading is done elsewhere. */
	while (sigwait(sigs, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
		if (sig == SIGHUP)
			reloader_request(reloader);
	log_info("signal %d: stopping (finishing requests in flight)", sig);
	atomic_store(&g.draining, 1);
	http_quiesce(h);
	drain(&m, o->timeout_ms);
	rc = 0;
out_pool:
	reloader_stop(reloader);
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
