/*
 * main.c - enclave-gateway: startup, signals, graceful shutdown.
 *
 * Order at start: harden the process and set up locked memory, read the
 * TSK file, get credentials (environment: read and wiped from it), start
 * the pool's probe thread (which configures every enclave at once), then
 * serve HTTP. SIGTERM or SIGINT: stop accepting, let requests in flight
 * finish (up to --timeout), wake anything still waiting, close, wipe.
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
#include "host/gateway/metrics.h"
#include "host/gateway/pool.h"

#define TSK_FILE_MAX ((size_t)1 << 20)

/* The base64 KMS blob, whitespace around it dropped, checked, NUL-ended. */
static char *
read_tsk(const char *path)
{
	struct buf b = BUF_INIT;
	char chunk[4096], *out = NULL;
	size_t start = 0, end, dec_len;
	uint8_t *dec = NULL;
	FILE *f;
	size_t n;

	if ((f = fopen(path, "re")) == NULL) {
		log_error("cannot open the TSK file %s: %m", path);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n, TSK_FILE_MAX) < 0) {
			log_error("the TSK file %s is too large", path);
			goto done;
		}
	end = b.len;
	while (start < end && strchr(" \t\r\n", b.data[start]) != NULL)
		start++;
	while (end > start && strchr(" \t\r\n", b.data[end - 1]) != NULL)
		end--;
	if (start == end || (dec = malloc(base64_decoded_max(end - start))) ==
	    NULL || base64_decode(dec, &dec_len, (const char *)b.data + start,
	    end - start) < 0) {
		log_error("the TSK file %s does not hold base64 (the KMS "
		    "CiphertextBlob)", path);
		goto done;
	}
	if ((out = strndup((const char *)b.data + start, end - start)) == NULL)
		log_error("out of memory");
done:
	fclose(f);
	free(dec);
	buf_free(&b, 0);
	return out;
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
	char *tsk = NULL;
	int sig = 0, rc = 1;

	if (o->tsk_path != NULL && (tsk = read_tsk(o->tsk_path)) == NULL)
		return 1;
	if (metrics_init(&m) < 0)
		goto out_tsk;
	if (creds_init(&cc, o->creds, &m) < 0)
		goto out_metrics;
	memset(&pc, 0, sizeof(pc));
	pc.endpoints = o->enclaves;
	pc.n_endpoints = o->n_enclaves;
	pc.conns_per_enclave = o->conns_per_enclave;
	pc.queue = o->queue;
	pc.timeout_ms = o->timeout_ms;
	pc.tsk = tsk;
	pc.region = o->region;
	pc.creds = &cc;
	pc.metrics = &m;
	if ((g.pool = pool_new(&pc)) == NULL) {
		log_error("cannot set up the enclave pool");
		goto out_creds;
	}
	g.metrics = &m;
	if (tsk == NULL)
		log_warn("no --tsk: enclaves are never configured by the gateway");
	if (pool_start(g.pool) < 0 || (h = http_start(&g)) == NULL)
		goto out_pool;
	while (sigwait(sigs, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
		;
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
	metrics_destroy(&m);
out_tsk:
	free(tsk);
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
