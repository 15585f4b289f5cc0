/*
 * pool.c - requests through the enclave pool (see pool.h).
 *
 * A request takes a free connection ("slot") of the up enclave with the
 * fewest requests in flight, round robin among equals, waiting in a
 * bounded queue when every connection is busy. What happens when the
 * enclave does not answer with a result:
 *   - `not_configured`: the enclave restarted; configure it (once, however
 *     many requests saw it) and send the request again, once; likewise
 *     `unknown_key` for a key the gateway has (the enclave lost it, or a
 *     reload has not reached it yet);
 *   - `busy`, or a connection that breaks: the request goes to another
 *     enclave (a connection that had been idle gets one more chance on the
 *     same enclave first: the enclave may simply have closed it), and an
 *     enclave whose fresh connection fails is taken out until the probe
 *     thread sees it answer again;
 *   - any other code is the request's own fault and goes back as it is.
 * Processing is a pure function of the ciphertext (fresh nonce, same key),
 * so sending a request again can never do harm; a result is only ever
 * the enclave's own answer.
 */
#include "host/gateway/pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/wire_error.h"

struct enclave_client *
pool_client_new(const struct pool *p)
{
	struct enclave_client_options o;

	enclave_client_options_init(&o);
	o.framing = ENCLAVE_FRAMING_LEN;
	o.connect_timeout_ms = p->cfg.timeout_ms < POOL_CONNECT_TIMEOUT_MS ?
	    p->cfg.timeout_ms : POOL_CONNECT_TIMEOUT_MS;
	o.io_timeout_ms = p->cfg.timeout_ms;
	return enclave_client_new(&o);
}

/* Backslash, quote and newline escaped, as the text format requires. */
static void
label_escape(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	for (; *src != '\0' && n + 3 < size; src++) {
		if (*src == '\\' || *src == '"') {
			dst[n++] = '\\';
			dst[n++] = *src;
		} else if (*src == '\n') {
			dst[n++] = '\\';
			dst[n++] = 'n';
		} else {
			dst[n++] = *src;
		}
	}
	dst[n] = '\0';
}

static int
enclave_init(struct pool *p, struct enclave *e, const char *text)
{
	struct endpoint ep;
	int i;

	if (endpoint_parse(&ep, text, 0, NULL) < 0)
		return -1;
	endpoint_format(&ep, e->endpoint, sizeof(e->endpoint));
	label_escape(e->label, sizeof(e->label), e->endpoint);
	e->state = ENCLAVE_DOWN;
	e->probe_backoff_ms = PROBE_DOWN_MIN_MS;
	if ((e->slots = calloc((size_t)p->cfg.conns_per_enclave,
	    sizeof(*e->slots))) == NULL)
		return -1;
	for (i = 0; i < p->cfg.conns_per_enclave; i++)
		if ((e->slots[i].client = pool_client_new(p)) == NULL)
			return -1;
	return (e->probe = pool_client_new(p)) == NULL ? -1 : 0;
}

struct pool *
pool_new(const struct pool_config *cfg)
{
	struct pool *p;
	size_t i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->cfg = *cfg;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->keys = keyring_ref(cfg->keys);
	if ((cfg->region != NULL && (p->region = strdup(cfg->region)) == NULL) ||
	    (p->enc = calloc(cfg->n_endpoints, sizeof(*p->enc))) == NULL)
		goto fail;
	p->n = cfg->n_endpoints;
	for (i = 0; i < p->n; i++)
		if (enclave_init(p, &p->enc[i], cfg->endpoints[i]) < 0)
			goto fail;
	return p;
fail:
	pool_free(p);
	return NULL;
}

void
pool_shutdown(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pool_wake_locked(p);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	if (p->started)
		pthread_join(p->thread, NULL);
	p->started = 0;
}

void
pool_free(struct pool *p)
{
	size_t i;
	int j;

	if (p == NULL)
		return;
	pool_shutdown(p);
	for (i = 0; p->enc != NULL && i < p->n; i++) {
		for (j = 0; p->enc[i].slots != NULL &&
		    j < p->cfg.conns_per_enclave; j++)
			enclave_client_free(p->enc[i].slots[j].client);
		free(p->enc[i].slots);
		enclave_client_free(p->enc[i].probe);
		keyring_unref(p->enc[i].synced);
	}
	free(p->enc);
	keyring_unref(p->keys);
	free(p->region);
	pthread_cond_destroy(&p->freed);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void
pool_mark_down_locked(struct pool *p, struct enclave *e, const char *why)
{
	int i;

	if (e->state != ENCLAVE_DOWN) {
		e->failures++;
		e->probe_backoff_ms = PROBE_DOWN_MIN_MS;
		log_warn("enclave %s taken out of service: %s", e->endpoint,
		    why);
	}
	e->state = ENCLAVE_DOWN;
	e->epoch++;
	e->probe_now = 1;
	for (i = 0; i < p->cfg.conns_per_enclave; i++)
		if (!e->slots[i].busy)
			enclave_client_close(e->slots[i].client);
	pool_wake_locked(p);
	pthread_cond_signal(&p->wake);
}

/* The up enclave (not `exclude`) with a free slot and the fewest busy. */
static struct enclave *
pick(struct pool *p, long exclude, int *any_up)
{
	struct enclave *best = NULL;
	size_t k, i;

	*any_up = 0;
	for (k = 0; k < p->n; k++) {
		i = (p->rr + k) % p->n;
		if ((long)i == exclude || p->enc[i].state != ENCLAVE_UP)
			continue;
		*any_up = 1;
		if (p->enc[i].busy >= p->cfg.conns_per_enclave)
			continue;
		if (best == NULL || p->enc[i].busy < best->busy)
			best = &p->enc[i];
	}
	if (best != NULL)
		p->rr = (size_t)(best - p->enc) + 1;
	return best;
}

/* A free slot, a connected and current one when there is. */
static int
take_slot(struct enclave *e, int n)
{
	int i, any = -1;

	for (i = 0; i < n; i++) {
		if (e->slots[i].busy)
			continue;
		if (e->slots[i].epoch != e->epoch)
			enclave_client_close(e->slots[i].client);
		if (enclave_client_connected(e->slots[i].client)) {
			any = i;
			break;
		}
		if (any < 0)
			any = i;
	}
	e->slots[any].busy = 1;
	e->busy++;
	return any;
}

struct lease {
	struct enclave *e;
	struct slot    *s;
	uint64_t        gen;
};

/* A request waiting for a connection: served first come, first served. */
struct waiter {
	struct waiter  *next, *prev;
	pthread_cond_t  cv;
	long            exclude;
	struct lease   *lease;
	int             granted;
};

static void
grant(struct enclave *e, int conns, struct lease *l)
{
	int i = take_slot(e, conns);

	l->e = e;
	l->s = &e->slots[i];
	l->gen = e->config_gen;
	if (!enclave_client_connected(l->s->client))
		l->s->epoch = e->epoch;
}

static int
has_up(const struct pool *p, long exclude)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if ((long)i != exclude && p->enc[i].state == ENCLAVE_UP)
			return 1;
	return 0;
}

static void
dequeue(struct pool *p, struct waiter *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		p->wq_head = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	else
		p->wq_tail = w->prev;
	w->next = w->prev = NULL;
}

/*
 * Hand free connections to the waiters in arrival order. A waiter that
 * cannot use what is free (it excludes that enclave) lets the next one
 * have it rather than hold up the line.
 */
static void
dispatch_locked(struct pool *p)
{
	struct waiter *w = p->wq_head, *next;
	struct enclave *e;
	int any_up;

	for (; w != NULL; w = next) {
		next = w->next;
		if ((e = pick(p, w->exclude, &any_up)) != NULL) {
			grant(e, p->cfg.conns_per_enclave, w->lease);
			w->granted = 1;
			dequeue(p, w);
			pthread_cond_signal(&w->cv);
		} else if (!any_up) {
			pthread_cond_signal(&w->cv);	/* it gives up */
		}
	}
}

void
pool_wake_locked(struct pool *p)
{
	struct waiter *w;

	dispatch_locked(p);
	for (w = p->wq_head; w != NULL; w = w->next)
		pthread_cond_signal(&w->cv);
	pthread_cond_broadcast(&p->freed);
}

static void
deadline_ts(long long deadline, struct timespec *ts)
{
	long long left = deadline - clock_monotonic_ms();

	if (left < 0)
		left = 0;
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += left / 1000;
	ts->tv_nsec += (left % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * A connection now when one is free and nobody is waiting; otherwise a
 * place in the queue (if there is room) until one is handed over, every
 * candidate enclave goes down, the deadline passes or the pool stops.
 */
static enum pool_status
acquire(struct pool *p, long exclude, long long deadline, struct lease *l)
{
	struct waiter w = { .exclude = exclude, .lease = l };
	struct timespec ts;
	enum pool_status st;
	struct enclave *e = NULL;
	int any_up;

	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		pthread_mutex_unlock(&p->lock);
		return POOL_SHUTDOWN;
	}
	if (p->wq_head == NULL)
		e = pick(p, exclude, &any_up);
	else
		any_up = has_up(p, exclude);
	if (e != NULL || !any_up || p->waiting >= p->cfg.queue) {
		if (e != NULL)
			grant(e, p->cfg.conns_per_enclave, l);
		pthread_mutex_unlock(&p->lock);
		return e != NULL ? POOL_OK : !any_up ? POOL_UNAVAILABLE :
		    POOL_OVERLOADED;
	}
	pthread_cond_init(&w.cv, NULL);
	w.prev = p->wq_tail;
	if (p->wq_tail != NULL)
		p->wq_tail->next = &w;
	else
		p->wq_head = &w;
	p->wq_tail = &w;
	p->waiting++;
	for (;;) {
		if (w.granted) {
			st = POOL_OK;
			break;
		}
		st = p->stopping ? POOL_SHUTDOWN : !has_up(p, exclude) ?
		    POOL_UNAVAILABLE : clock_monotonic_ms() >= deadline ?
		    POOL_TIMEOUT : POOL_OK;
		if (st != POOL_OK) {
			dequeue(p, &w);
			break;
		}
		deadline_ts(deadline, &ts);
		(void)pthread_cond_timedwait(&w.cv, &p->lock, &ts);
	}
	p->waiting--;
	pthread_mutex_unlock(&p->lock);
	pthread_cond_destroy(&w.cv);
	return st;
}

static void
release(struct pool *p, struct lease *l, int close_conn)
{
	pthread_mutex_lock(&p->lock);
	if (close_conn || l->s->epoch != l->e->epoch)
		enclave_client_close(l->s->client);
	l->s->busy = 0;
	l->e->busy--;
	dispatch_locked(p);
	pthread_mutex_unlock(&p->lock);
}

static void
take_down(struct pool *p, struct enclave *e, const char *why)
{
	pthread_mutex_lock(&p->lock);
	pool_mark_down_locked(p, e, why);
	pthread_mutex_unlock(&p->lock);
}

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
	int rc, was_up;

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
		rc = ENCLAVE_ERR_USAGE;
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
	} else {
		/* No credentials: an enclave that holds keys still serves
		 * them (and is tried again at its next probe). */
		if (was_up && rc == ENCLAVE_ERR_USAGE)
			;
		else if (rc == ENCLAVE_ERR_USAGE || rc == ENCLAVE_ERR_NOMEM)
			e->state = ENCLAVE_UNCONFIGURED;
		else
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

static void
remote_outcome(struct enclave_client *c, struct pool_outcome *out)
{
	snprintf(out->code, sizeof(out->code), "%s",
	    enclave_client_remote_code(c)[0] ? enclave_client_remote_code(c) :
	    wire_error_code(WIRE_INTERNAL_ERROR));
	snprintf(out->details, sizeof(out->details), "%s",
	    enclave_client_remote_details(c));
}

/* The key id a request opens with: its own, or the keyring's default. */
static void
resolve_key_id(struct pool *p, const char *key_id, char *out, size_t size)
{
	pthread_mutex_lock(&p->lock);
	if (key_id == NULL && p->keys != NULL && p->keys->default_id != NULL)
		key_id = p->keys->default_id;
	snprintf(out, size, "%s", key_id != NULL ? key_id : "");
	pthread_mutex_unlock(&p->lock);
}

static int
gateway_has_any_key(struct pool *p)
{
	int yes;

	pthread_mutex_lock(&p->lock);
	yes = p->keys != NULL;
	pthread_mutex_unlock(&p->lock);
	return yes;
}

/* 1 when the gateway configures its enclaves with `key_id`. */
static int
gateway_has_key(struct pool *p, const char *key_id)
{
	int yes;

	pthread_mutex_lock(&p->lock);
	yes = key_id != NULL && key_id[0] != '\0' &&
	    keyring_find(p->keys, key_id) != NULL;
	pthread_mutex_unlock(&p->lock);
	return yes;
}

/*
 * 1 when enclave e refused key_id or result_key_id and waits to try it
 * again: a reconfigure now would only ask KMS what it just refused, so
 * the request gets not_configured (503, Retry-After) instead, with the
 * key and the enclave's code (never its details: F35).
 */
static int
key_refused(struct pool *p, struct enclave *e, const char *key_id,
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

enum pool_status
pool_process(struct pool *p, const char *hex, size_t hex_len,
    const struct enclave_process_options *req, struct pool_outcome *out)
{
	struct enclave_process_options po = *req;
	long long deadline = clock_monotonic_ms() + p->cfg.timeout_ms;
	int attempts = 0, max_attempts = (int)p->n + 2;
	int reconfigured = 0, stale_retry = 0, reused, rc;
	long exclude = -1;
	enum pool_status st;
	struct lease l;

	memset(out, 0, sizeof(*out));
	out->enclave = -1;
	resolve_key_id(p, req->key_id, out->key_id, sizeof(out->key_id));
	po.key_id = out->key_id;
	for (;;) {
		if (attempts > 0)
			metrics_retry(p->cfg.metrics);
		if (attempts++ >= max_attempts)
			return POOL_FAILED;
		if ((st = acquire(p, exclude, deadline, &l)) != POOL_OK)
			return st;
		reused = enclave_client_connected(l.s->client);
		if (!reused &&
		    enclave_client_connect(l.s->client, l.e->endpoint) < 0) {
			take_down(p, l.e, enclave_client_error(l.s->client));
			release(p, &l, 1);
			exclude = l.e - p->enc;
			continue;
		}
		rc = enclave_process_ex(l.s->client, hex, hex_len, &po,
		    &out->result, &out->result_len);
		if (rc == ENCLAVE_OK) {
			out->enclave = (int)(l.e - p->enc);
			release(p, &l, 0);
			return POOL_OK;
		}
		if (rc == ENCLAVE_ERR_REMOTE) {
			const char *code = enclave_client_remote_code(l.s->client);

			if ((wire_error_is(code, WIRE_NOT_CONFIGURED) ||
			    wire_error_is(code, WIRE_UNKNOWN_KEY)) &&
			    key_refused(p, l.e, out->key_id, po.result_key_id,
			    out)) {
				out->enclave = (int)(l.e - p->enc);
				release(p, &l, 0);
				return POOL_REMOTE;
			}
			if (!reconfigured && (wire_error_is(code,
			    WIRE_NOT_CONFIGURED) || (wire_error_is(code,
			    WIRE_UNKNOWN_KEY) &&
			    (gateway_has_key(p, out->key_id) ||
			    gateway_has_key(p, req->result_key_id)))) &&
			    gateway_has_any_key(p)) {
				reconfigured = 1;
				if (pool_reconfigure(p, l.e, l.s->client,
				    l.gen) < 0)
					exclude = l.e - p->enc;
				release(p, &l, 0);
				continue;
			}
			if (wire_error_is(code, WIRE_BUSY)) {
				exclude = l.e - p->enc;
				release(p, &l, 1);
				continue;
			}
			remote_outcome(l.s->client, out);
			out->enclave = (int)(l.e - p->enc);
			if (wire_error_is(code, WIRE_NOT_CONFIGURED)) {
				pthread_mutex_lock(&p->lock);
				l.e->probe_now = 1;
				pthread_cond_signal(&p->wake);
				pthread_mutex_unlock(&p->lock);
			}
			release(p, &l, 0);
			return POOL_REMOTE;
		}
		if (rc == ENCLAVE_ERR_USAGE) {
			/* The library would not build this request (aad). */
			snprintf(out->code, sizeof(out->code), "%s",
			    wire_error_code(WIRE_INVALID_FIELD));
			snprintf(out->details, sizeof(out->details), "%s",
			    enclave_client_error(l.s->client));
			release(p, &l, 0);
			return POOL_REMOTE;
		}
		if (rc == ENCLAVE_ERR_NOMEM) {
			release(p, &l, 0);
			return POOL_NOMEM;
		}
		/* The connection broke, timed out or spoke garbage. */
		if (rc == ENCLAVE_ERR_TIMEOUT) {
			take_down(p, l.e, "a request timed out");
			release(p, &l, 1);
			return POOL_TIMEOUT;
		}
		if (reused && !stale_retry) {
			stale_retry = 1;
			release(p, &l, 1);
			continue;
		}
		take_down(p, l.e, enclave_client_error(l.s->client));
		release(p, &l, 1);
		exclude = l.e - p->enc;
	}
}

int
pool_ready(struct pool *p)
{
	size_t i;
	int up = 0;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->n; i++)
		up |= p->enc[i].state == ENCLAVE_UP;
	pthread_mutex_unlock(&p->lock);
	return up;
}

size_t
pool_snapshot(struct pool *p, struct metrics_enclave *out, size_t max,
    struct metrics_queue *q)
{
	size_t i;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->n && i < max; i++) {
		out[i].name = p->enc[i].label;
		out[i].endpoint = p->enc[i].endpoint;
		out[i].state = p->enc[i].state;
		out[i].busy = p->enc[i].busy;
		out[i].connections = p->cfg.conns_per_enclave;
		out[i].configure_ok = p->enc[i].configure_ok;
		out[i].configure_failed = p->enc[i].configure_failed;
		out[i].last_configure = p->enc[i].last_configure;
		out[i].failures = p->enc[i].failures;
		out[i].keys_current = p->enc[i].synced != NULL &&
		    p->enc[i].keys_gen == p->keys_gen &&
		    p->enc[i].n_trouble == 0;
		out[i].keys_failing = (int)p->enc[i].n_trouble;
	}
	if (q != NULL) {
		q->waiting = p->waiting;
		q->capacity = p->cfg.queue;
	}
	pthread_mutex_unlock(&p->lock);
	return i;
}

size_t
pool_key_troubles(struct pool *p, size_t i, struct pool_key_trouble *out,
    size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&p->lock);
	for (; i < p->n && n < p->enc[i].n_trouble && n < max; n++) {
		memcpy(out[n].key_id, p->enc[i].trouble[n].key_id,
		    sizeof(out[n].key_id));
		memcpy(out[n].code, p->enc[i].trouble[n].code,
		    sizeof(out[n].code));
		out[n].failures = p->enc[i].trouble[n].failures;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* Endpoints never change after pool_new: no lock needed. */
const char *
pool_enclave_name(const struct pool *p, int i)
{
	return i >= 0 && (size_t)i < p->n ? p->enc[i].endpoint : "";
}
