/*
 * slots.c - the scheduler: which connection ("slot") of which enclave a
 * request gets. The up enclave with the fewest requests in flight, round
 * robin among equals; when every connection is busy, a bounded queue
 * served first come, first served; past it, overloaded. An enclave taken
 * out of service gets no request until the probe thread sees it answer.
 */
#include "host/gateway/pool_internal.h"

#include <time.h>

#include "common/log.h"
#include "common/timefmt.h"

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
/* Whether enclave e may take a request of this kind. */
static int
serves(const struct enclave *e, int reachable)
{
	return e->state == ENCLAVE_UP ||
	    (reachable && e->state == ENCLAVE_UNCONFIGURED);
}

static struct enclave *
pick(struct pool *p, long exclude, int reachable, int *any_up)
{
	struct enclave *best = NULL;
	size_t k, i;

	*any_up = 0;
	for (k = 0; k < p->n; k++) {
		i = (p->rr + k) % p->n;
		if ((long)i == exclude || !serves(&p->enc[i], reachable))
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
has_up(const struct pool *p, long exclude, int reachable)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if ((long)i != exclude && serves(&p->enc[i], reachable))
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
		if ((e = pick(p, w->exclude, w->reachable, &any_up)) != NULL) {
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
enum pool_status
pool_acquire(struct pool *p, long exclude, int reachable, long long deadline,
    struct lease *l)
{
	struct waiter w = { .exclude = exclude, .reachable = reachable,
	    .lease = l };
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
		e = pick(p, exclude, reachable, &any_up);
	else
		any_up = has_up(p, exclude, reachable);
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
		st = p->stopping ? POOL_SHUTDOWN : !has_up(p, exclude, reachable) ?
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

void
pool_release(struct pool *p, struct lease *l, int close_conn)
{
	pthread_mutex_lock(&p->lock);
	if (close_conn || l->s->epoch != l->e->epoch)
		enclave_client_close(l->s->client);
	l->s->busy = 0;
	l->e->busy--;
	dispatch_locked(p);
	pthread_mutex_unlock(&p->lock);
}

void
pool_take_down(struct pool *p, struct enclave *e, const char *why)
{
	pthread_mutex_lock(&p->lock);
	pool_mark_down_locked(p, e, why);
	pthread_mutex_unlock(&p->lock);
}
