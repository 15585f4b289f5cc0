/*
 * probe.c - the probe thread: health checks, configure, credentials.
 *
 * Every enclave gets a health request on its own connection: an up one
 * every PROBE_UP_MS, a down one from PROBE_DOWN_MIN_MS doubling to
 * PROBE_DOWN_MAX_MS, and any at once when a request saw it fail. An
 * enclave that answers `configured: false` restarted (or never was
 * configured): its old connections are dropped and it is configured with
 * every key. One that lacks a key it took in its health `keys` gets them
 * all again; one that has not seen the latest reading of the key files
 * (SIGHUP) gets what changed; a key it refused is tried again when its
 * own retry time comes (key_sync.c), the others serving meanwhile. The
 * same thread keeps the credentials fresh, so requests never wait on IMDS.
 */
#include "host/gateway/pool_internal.h"

#include <stdio.h>
#include <string.h>

#include "common/json_parse.h"
#include "common/log.h"
#include "common/reason.h"
#include "common/timefmt.h"

/* 1 when health's "keys" lists every key id of `want` (what the enclave
 * took from us: a key it refused is not looked for). */
static int
holds_every_key(const cJSON *root, const struct keyring *want)
{
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(root, "keys"), *k;
	size_t i;
	int found;

	if (want == NULL)
		return 1;
	if (!cJSON_IsArray(keys))
		return want->n == 0;
	for (i = 0; i < want->n; i++) {
		found = 0;
		cJSON_ArrayForEach(k, keys) {
			const char *id = json_string_field(k, "key_id");

			if (id != NULL && strcmp(id, want->key[i].key_id) == 0)
				found = 1;
		}
		if (!found)
			return 0;
	}
	return 1;
}

/*
 * -1: no answer; 0: answered, not configured; 1: configured; 2:
 * configured, but without some key of `want`.
 */
static int
health(struct enclave *e, const struct keyring *want, struct reason *why)
{
	const char *json;
	size_t len;
	cJSON *root;
	int rc;

	if (!enclave_client_connected(e->probe) &&
	    enclave_client_connect(e->probe, e->endpoint) < 0) {
		reason_fail(why, "%s", enclave_client_error(e->probe));
		return -1;
	}
	if ((rc = enclave_health(e->probe, &json, &len)) < 0) {
		reason_fail(why, "health: %s", rc == ENCLAVE_ERR_REMOTE ?
		    enclave_client_remote_code(e->probe) :
		    enclave_client_error(e->probe));
		enclave_client_close(e->probe);
		return -1;
	}
	if ((root = json_parse_exact(json, len)) == NULL) {
		reason_fail(why, "health answer is not JSON");
		enclave_client_close(e->probe);
		return -1;
	}
	rc = cJSON_IsTrue(json_member(root, "configured"));
	if (rc && !holds_every_key(root, want))
		rc = 2;
	cJSON_Delete(root);
	return rc;
}

static void
schedule_down(struct enclave *e, long long now)
{
	e->next_probe_ms = now + e->probe_backoff_ms;
	e->probe_backoff_ms *= 2;
	if (e->probe_backoff_ms > PROBE_DOWN_MAX_MS)
		e->probe_backoff_ms = PROBE_DOWN_MAX_MS;
}

/* Drop the connections of an enclave that restarted: they are dead. */
static void
forget_connections_locked(struct pool *p, struct enclave *e)
{
	int i;

	e->epoch++;
	for (i = 0; i < p->cfg.conns_per_enclave; i++)
		if (!e->slots[i].busy)
			enclave_client_close(e->slots[i].client);
}

static void
probe_one(struct pool *p, struct enclave *e)
{
	struct reason why;
	struct keyring *want;
	uint64_t gen;
	int configured, ok, behind;

	pthread_mutex_lock(&p->lock);
	want = keyring_ref(e->synced);
	pthread_mutex_unlock(&p->lock);
	configured = health(e, want, &why);
	keyring_unref(want);
	pthread_mutex_lock(&p->lock);
	if (configured < 0) {
		pool_mark_down_locked(p, e, why.text);
		e->probe_now = 0;
		schedule_down(e, clock_monotonic_ms());
		pthread_mutex_unlock(&p->lock);
		return;
	}
	behind = p->keys != NULL && (configured == 2 || e->synced == NULL ||
	    e->keys_gen != p->keys_gen ||
	    pool_trouble_due_locked(e, clock_monotonic_ms()));
	/* Holding none of the gateway's keys (each refused, waiting for its
	 * retry) is not up, however the enclave answers. */
	if (configured && !behind && p->keys != NULL && e->synced->n == 0) {
		e->state = ENCLAVE_UNCONFIGURED;
		schedule_down(e, clock_monotonic_ms());
		pthread_mutex_unlock(&p->lock);
		return;
	}
	if (configured && (!behind || e->state == ENCLAVE_UP)) {
		if (e->state != ENCLAVE_UP) {
			log_info("enclave %s is up", e->endpoint);
		}
		e->state = ENCLAVE_UP;
		pool_wake_locked(p);
		e->probe_backoff_ms = PROBE_DOWN_MIN_MS;
		e->next_probe_ms = clock_monotonic_ms() + PROBE_UP_MS;
		gen = e->config_gen;
		if (configured == 2 && e->synced != NULL) {
			log_warn("enclave %s lacks some of the keys it took: "
			    "configuring all of them", e->endpoint);
			keyring_unref(e->synced);
			e->synced = NULL;
		}
		pthread_mutex_unlock(&p->lock);
		/* Up, and serving with what it holds while it catches up. */
		if (behind)
			(void)pool_configure(p, e, e->probe, gen);
		return;
	}
	if (e->state == ENCLAVE_UP)
		log_warn("enclave %s answers but is not configured (it "
		    "restarted?)", e->endpoint);
	if (!configured) {
		forget_connections_locked(p, e);
		keyring_unref(e->synced);
		e->synced = NULL;
	}
	gen = e->config_gen;
	want = p->keys;
	if (want == NULL)
		e->state = ENCLAVE_UNCONFIGURED;
	pthread_mutex_unlock(&p->lock);

	ok = want != NULL && pool_configure(p, e, e->probe, gen) == 0;
	pthread_mutex_lock(&p->lock);
	if (ok)
		e->next_probe_ms = clock_monotonic_ms() + PROBE_UP_MS;
	else
		schedule_down(e, clock_monotonic_ms());
	pthread_mutex_unlock(&p->lock);
}

static void
wait_tick(struct pool *p)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += PROBE_TICK_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	(void)pthread_cond_timedwait(&p->wake, &p->lock, &ts);
}

static void *
probe_main(void *arg)
{
	struct pool *p = arg;
	long long now;
	size_t i;

	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		pthread_mutex_unlock(&p->lock);
		creds_maintain(p->cfg.creds);
		pthread_mutex_lock(&p->lock);
		for (i = 0; i < p->n && !p->stopping; i++) {
			struct enclave *e = &p->enc[i];

			now = clock_monotonic_ms();
			if (!e->probe_now && now < e->next_probe_ms)
				continue;
			e->probe_now = 0;
			pthread_mutex_unlock(&p->lock);
			probe_one(p, e);
			pthread_mutex_lock(&p->lock);
		}
		if (!p->stopping)
			wait_tick(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/*
 * Here rather than in pool.c: the probe thread drives the pool (marks
 * enclaves down, configures them), so calls go from probe.c to the
 * pool's files only.
 */
int
pool_start(struct pool *p)
{
	if (pthread_create(&p->thread, NULL, probe_main, p) != 0)
		return -1;
	p->started = 1;
	return 0;
}
