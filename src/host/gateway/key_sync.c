/*
 * key_sync.c - bringing each enclave to the gateway's keys: configure the
 * keys it lacks or holds in another version (the default one last),
 * forget the ones dropped, with fresh credentials for each configure.
 * Keys are independent (F29): one an enclave refuses is noted with its
 * code, left out of what the enclave holds and tried again on its own
 * schedule, while the enclave serves its other keys.
 */
#include "host/gateway/pool_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/wire_error.h"

static int
configure_key(struct pool *p, struct enclave *e, struct enclave_client *c,
    const struct gateway_key *k, const struct enclave_credentials *view)
{
	struct enclave_configure_options o = { .region = p->region,
	    .key_id = k->key_id, .kms_key_id = p->cfg.kms_key_id };
	int rc;

	if (!enclave_client_connected(c))
		(void)enclave_client_connect(c, e->endpoint);
	rc = enclave_configure_ex(c, k->tsk, view, &o);
	if (rc == ENCLAVE_OK)
		log_info("configured enclave %s with key %s", e->endpoint,
		    k->key_id);
	else if (rc == ENCLAVE_ERR_REMOTE)
		log_warn("configure of %s with key %s refused: %s: %s",
		    e->endpoint, k->key_id, enclave_client_remote_code(c),
		    enclave_client_remote_details(c));
	else
		log_warn("configure of %s with key %s failed: %s", e->endpoint,
		    k->key_id, enclave_client_error(c));
	return rc;
}

/* Which version of a key file a trouble record is about. */
static void
tsk_hash(const char *tsk, uint8_t out[32])
{
	(void)SHA256((const unsigned char *)tsk, strlen(tsk), out);
}

/* Lock held. */
static struct key_trouble *
trouble_find(struct enclave *e, const char *key_id)
{
	size_t i;

	for (i = 0; i < e->n_trouble; i++)
		if (strcmp(e->trouble[i].key_id, key_id) == 0)
			return &e->trouble[i];
	return NULL;
}

/* Lock held. */
static void
trouble_drop(struct enclave *e, struct key_trouble *t)
{
	*t = e->trouble[--e->n_trouble];
}

/*
 * 1 when key k waits for its retry time on e: this version of it failed
 * there, and the time has not come. A changed file is tried at once.
 * Lock held.
 */
static int
trouble_waiting(struct enclave *e, const struct gateway_key *k, long long now)
{
	struct key_trouble *t = trouble_find(e, k->key_id);
	uint8_t h[32];

	if (t == NULL)
		return 0;
	tsk_hash(k->tsk, h);
	return memcmp(h, t->tsk_hash, sizeof(h)) == 0 && now < t->retry_ms;
}

/*
 * The enclave refused key k with `code`: note it and when to try again
 * (KEY_RETRY_MIN_MS doubling to KEY_RETRY_MAX_MS), so one bad key costs
 * a few KMS calls a minute, not a reconfigure of everything each probe.
 * Lock held.
 */
static void
trouble_record(struct pool *p, struct enclave *e, const struct gateway_key *k,
    const char *code)
{
	struct key_trouble *t = trouble_find(e, k->key_id);
	enum wire_error we;
	uint8_t h[32];
	long long wait = KEY_RETRY_MIN_MS;
	uint64_t i;

	if (t == NULL) {
		if (e->n_trouble == GATEWAY_MAX_KEYS)
			return;
		t = &e->trouble[e->n_trouble++];
		memset(t, 0, sizeof(*t));
		snprintf(t->key_id, sizeof(t->key_id), "%s", k->key_id);
	}
	tsk_hash(k->tsk, h);
	if (memcmp(h, t->tsk_hash, sizeof(h)) != 0)
		t->failures = 0;
	memcpy(t->tsk_hash, h, sizeof(h));
	t->failures++;
	for (i = 1; i < t->failures && wait < KEY_RETRY_MAX_MS; i++)
		wait *= 2;
	if (wait > KEY_RETRY_MAX_MS)
		wait = KEY_RETRY_MAX_MS;
	t->retry_ms = clock_monotonic_ms() + wait;
	/* Only a code this gateway knows reaches /healthz, never details. */
	snprintf(t->code, sizeof(t->code), "%s", wire_error_lookup(code, &we)
	    == 0 ? wire_error_code(we) : wire_error_code(WIRE_INTERNAL_ERROR));
	log_warn("enclave %s could not take key %s (%s, %llu in a row): tried "
	    "again in %lld s; its other keys serve", e->endpoint, k->key_id,
	    t->code, (unsigned long long)t->failures, wait / 1000);
	metrics_key_configure_failed(p->cfg.metrics, k->key_id);
}

/* Records of keys no longer in `want` go. Lock held. */
static void
trouble_prune(struct enclave *e, const struct keyring *want)
{
	size_t i = 0;

	while (i < e->n_trouble)
		if (keyring_find(want, e->trouble[i].key_id) == NULL)
			trouble_drop(e, &e->trouble[i]);
		else
			i++;
}

/* 1 when some key e refused is due for another try. Lock held. */
int
pool_trouble_due_locked(struct enclave *e, long long now)
{
	size_t i;

	for (i = 0; i < e->n_trouble; i++)
		if (now >= e->trouble[i].retry_ms)
			return 1;
	return 0;
}

static int
hold(struct keyring *held, const struct gateway_key *k)
{
	return keyring_add(held, k) < 0 ? ENCLAVE_ERR_NOMEM : ENCLAVE_OK;
}

/*
 * Bring e to key k of `want`, adding what it then holds under k's id to
 * `held`. A refusal of k is k's own trouble (the enclave keeps the version
 * it had, if any): only a broken connection fails the whole sync.
 */
static int
sync_one(struct pool *p, struct enclave *e, struct enclave_client *c,
    const struct gateway_key *k, const struct keyring *have,
    const struct enclave_credentials *view, struct keyring *held)
{
	const struct gateway_key *old = keyring_find(have, k->key_id);
	int rc, waiting;

	if (old != NULL && strcmp(old->tsk, k->tsk) == 0)
		return hold(held, k);
	pthread_mutex_lock(&p->lock);
	waiting = trouble_waiting(e, k, clock_monotonic_ms());
	pthread_mutex_unlock(&p->lock);
	if (waiting)
		return old != NULL ? hold(held, old) : ENCLAVE_OK;
	rc = configure_key(p, e, c, k, view);
	if (rc != ENCLAVE_OK && rc != ENCLAVE_ERR_REMOTE &&
	    rc != ENCLAVE_ERR_USAGE)
		return rc;
	pthread_mutex_lock(&p->lock);
	if (rc == ENCLAVE_OK) {
		struct key_trouble *t = trouble_find(e, k->key_id);

		if (t != NULL)
			trouble_drop(e, t);
		e->configure_ok++;
		e->last_configure = time(NULL);
	} else {
		e->configure_failed++;
		/* USAGE: the client library would not send it (the blob). */
		trouble_record(p, e, k, rc == ENCLAVE_ERR_REMOTE ?
		    enclave_client_remote_code(c) :
		    wire_error_code(WIRE_INVALID_FIELD));
	}
	pthread_mutex_unlock(&p->lock);
	if (rc == ENCLAVE_OK)
		return hold(held, k);
	return old != NULL ? hold(held, old) : ENCLAVE_OK;
}

/*
 * From `have` (what the enclave holds, NULL: unknown) to `want`: the
 * added and changed keys first, the default one last (so an enclave's own
 * "latest key" is the gateway's default), then forget the dropped ones;
 * `held` gets what the enclave then holds. Every step is atomic in the
 * enclave: a request meets an old key or a new one, never a gap, and a
 * key it holds stays until it ends. Keys are independent: one the
 * enclave refuses is left out of `held` and retried on its own schedule.
 */
static int
sync_keys(struct pool *p, struct enclave *e, struct enclave_client *c,
    const struct keyring *want, const struct keyring *have,
    const struct enclave_credentials *view, struct keyring *held)
{
	const struct gateway_key *def = keyring_find(want, want->default_id);
	size_t i;
	int rc;

	for (i = 0; i < want->n; i++)
		if (&want->key[i] != def && (rc = sync_one(p, e, c,
		    &want->key[i], have, view, held)) < 0)
			return rc;
	if (def != NULL && (rc = sync_one(p, e, c, def, have, view,
	    held)) < 0)
		return rc;
	for (i = 0; have != NULL && i < have->n; i++) {
		if (keyring_find(want, have->key[i].key_id) != NULL)
			continue;
		rc = enclave_forget(c, have->key[i].key_id);
		if (rc == ENCLAVE_ERR_REMOTE && !wire_error_is(
		    enclave_client_remote_code(c), WIRE_UNKNOWN_KEY)) {
			log_warn("forget of key %s on %s refused: %s",
			    have->key[i].key_id, e->endpoint,
			    enclave_client_remote_code(c));
			if ((rc = hold(held, &have->key[i])) < 0)
				return rc;
			continue;
		}
		if (rc < 0 && rc != ENCLAVE_ERR_REMOTE) {
			log_warn("forget of key %s on %s failed: %s",
			    have->key[i].key_id, e->endpoint,
			    enclave_client_error(c));
			return rc;
		}
		log_info("enclave %s forgot key %s", e->endpoint,
		    have->key[i].key_id);
	}
	return ENCLAVE_OK;
}

int
pool_configure(struct pool *p, struct enclave *e, struct enclave_client *c,
    uint64_t seen_gen)
{
	struct host_credentials hc = HOST_CREDENTIALS_INIT;
	struct enclave_credentials view;
	struct keyring *want, *have, *held = NULL;
	uint64_t want_gen;
	int rc, was_up, no_credentials = 0;

	pthread_mutex_lock(&p->lock);
	while (e->configuring && !p->stopping)
		pthread_cond_wait(&p->freed, &p->lock);
	if (e->config_gen != seen_gen || p->keys == NULL || p->stopping) {
		rc = e->config_gen != seen_gen && e->state == ENCLAVE_UP ? 0 : -1;
		pthread_mutex_unlock(&p->lock);
		return rc;
	}
	e->configuring = 1;
	want = keyring_ref(p->keys);
	want_gen = p->keys_gen;
	have = keyring_ref(e->synced);
	was_up = e->state == ENCLAVE_UP && have != NULL;
	pthread_mutex_unlock(&p->lock);

	if ((held = keyring_new()) == NULL) {
		rc = ENCLAVE_ERR_NOMEM;
	} else if (creds_get(p->cfg.creds, &hc) < 0) {
		rc = -1;
		no_credentials = 1;
		log_warn("cannot configure %s: no valid credentials", e->endpoint);
	} else {
		host_credentials_view(&hc, &view);
		rc = sync_keys(p, e, c, want, have, &view, held);
		host_credentials_clear(&hc);
	}

	pthread_mutex_lock(&p->lock);
	e->configuring = 0;
	if (rc == ENCLAVE_OK) {
		trouble_prune(e, want);
		keyring_unref(e->synced);
		e->synced = held;
		held = NULL;
		e->keys_gen = want_gen;
		e->config_gen++;
		/* Up while it holds any key: the others are retried alone. */
		if (e->synced->n > 0) {
			if (e->state != ENCLAVE_UP)
				log_info("enclave %s is up", e->endpoint);
			e->state = ENCLAVE_UP;
			e->probe_backoff_ms = PROBE_DOWN_MIN_MS;
		} else {
			if (e->state == ENCLAVE_UP)
				log_warn("enclave %s holds none of the "
				    "gateway's keys", e->endpoint);
			e->state = ENCLAVE_UNCONFIGURED;
		}
	} else if (no_credentials) {
		/* An enclave that holds keys still serves them; it is tried
		 * again at its next probe. */
		if (!was_up)
			e->state = ENCLAVE_UNCONFIGURED;
	} else if (rc == ENCLAVE_ERR_NOMEM) {
		e->state = ENCLAVE_UNCONFIGURED;
	} else {
		pool_mark_down_locked(p, e, "configure failed");
	}
	rc = rc == ENCLAVE_OK && e->state == ENCLAVE_UP ? 0 : -1;
	pool_wake_locked(p);
	pthread_mutex_unlock(&p->lock);
	keyring_unref(held);
	keyring_unref(want);
	keyring_unref(have);
	return rc;
}

int
pool_reconfigure(struct pool *p, struct enclave *e, struct enclave_client *c,
    uint64_t seen_gen)
{
	pthread_mutex_lock(&p->lock);
	if (e->config_gen == seen_gen && !e->configuring) {
		keyring_unref(e->synced);
		e->synced = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return pool_configure(p, e, c, seen_gen);
}

void
pool_set_keys(struct pool *p, struct keyring *keys)
{
	size_t i;

	pthread_mutex_lock(&p->lock);
	keyring_unref(p->keys);
	p->keys = keyring_ref(keys);
	p->keys_gen++;
	for (i = 0; i < p->n; i++) {
		size_t j;

		p->enc[i].probe_now = 1;
		/* The operator may have fixed what a key lacked: try now. */
		for (j = 0; j < p->enc[i].n_trouble; j++)
			p->enc[i].trouble[j].retry_ms = 0;
	}
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

/*
 * 1 when enclave e refused key_id or result_key_id and waits to try it
 * again: a reconfigure now would only ask KMS what it just refused, so
 * the request gets not_configured (503, Retry-After) instead, with the
 * key and the enclave's code (never its details: F35).
 */
int
pool_key_refused(struct pool *p, struct enclave *e, const char *key_id,
    const char *result_key_id, struct pool_outcome *out)
{
	const struct key_trouble *t = NULL;

	pthread_mutex_lock(&p->lock);
	if (key_id != NULL && key_id[0] != '\0')
		t = trouble_find(e, key_id);
	if (t == NULL && result_key_id != NULL)
		t = trouble_find(e, result_key_id);
	if (t != NULL) {
		snprintf(out->code, sizeof(out->code), "%s",
		    wire_error_code(WIRE_NOT_CONFIGURED));
		snprintf(out->details, sizeof(out->details), "the enclave "
		    "could not take key %s (%s); it is tried again with "
		    "backoff", t->key_id, t->code);
	}
	pthread_mutex_unlock(&p->lock);
	return t != NULL;
}
