/*
 * deadline.c - the whole-request deadline's watchdog (see deadline.h).
 *
 * Connections sit on one list under one lock. Every DEADLINE_SWEEP_MS the
 * watchdog walks it and ends the connections whose time is up with
 * shutdown(2): libmicrohttpd's thread for the connection then reads end of
 * file and closes it as if the client had gone, which frees the slot.
 * The descriptor stays valid while it is on the list, since libmicrohttpd
 * reports a connection closed before it closes the descriptor.
 *
 * The 408 is written here, straight to the socket: libmicrohttpd cannot
 * queue an answer in the middle of a body. Nothing else writes to the
 * connection then (it is still receiving its request).
 */
#include "host/gateway/deadline.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "host/gateway/metrics.h"

#define DEADLINE_SWEEP_MS 250

struct deadline_conn {
	struct deadline_conn *prev, *next;
	int                   fd;
	enum deadline_phase   phase;
	long long             start_ms;	/* when the clock (re)started */
	int                   expired;	/* shut down by the watchdog */
};

struct deadlines {
	pthread_mutex_t       lock;
	pthread_cond_t        wake;
	pthread_t             thread;
	struct deadline_conn *head;
	struct metrics       *metrics;
	int                   limit_ms;
	int                   stopping;
};

#define TIMEOUT_BODY \
	"{\"error\":\"request_timeout\",\"details\":\"the request did not " \
	"arrive whole within --timeout\"}\n"

static const char timeout_reply[] =
	"HTTP/1.1 408 Request Timeout\r\n"
	"Content-Type: application/json\r\n"
	"Cache-Control: no-store\r\n"
	"Connection: close\r\n"
	"Content-Length: %zu\r\n"
	"\r\n"
	"%s";

/* Under the lock: answer 408 if the headers were in, then end it. */
static void
expire(struct deadlines *d, struct deadline_conn *c, long long now)
{
	if (c->phase == DEADLINE_BODY) {
		char reply[sizeof(timeout_reply) + sizeof(TIMEOUT_BODY) + 16];
		int n = snprintf(reply, sizeof(reply), timeout_reply,
		    sizeof(TIMEOUT_BODY) - 1, TIMEOUT_BODY);

		/* Best effort: a client that reads nothing just loses it. */
		if (n > 0 && (size_t)n < sizeof(reply))
			(void)send(c->fd, reply, (size_t)n,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		metrics_request(d->metrics, 408,
		    (double)(now - c->start_ms) / 1000.0, "request_timeout");
		log_info("408 request_timeout: the body was not in after %lld ms",
		    now - c->start_ms);
	} else {
		log_debug("connection closed: no request headers within %d ms",
		    d->limit_ms);
	}
	shutdown(c->fd, SHUT_RDWR);
	c->expired = 1;
}

static void *
watchdog_main(void *arg)
{
	struct deadlines *d = arg;
	struct timespec ts;

	pthread_mutex_lock(&d->lock);
	while (!d->stopping) {
		long long now = clock_monotonic_ms();
		struct deadline_conn *c;

		for (c = d->head; c != NULL; c = c->next)
			if (!c->expired && c->phase != DEADLINE_SERVING &&
			    now - c->start_ms >= d->limit_ms)
				expire(d, c, now);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += DEADLINE_SWEEP_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&d->wake, &d->lock, &ts);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

struct deadlines *
deadlines_start(int limit_ms, struct metrics *m)
{
	struct deadlines *d = calloc(1, sizeof(*d));
	pthread_condattr_t attr;
	int rc;

	if (d == NULL) {
		log_error("out of memory for the request deadlines");
		return NULL;
	}
	d->limit_ms = limit_ms;
	d->metrics = m;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &attr);
	pthread_condattr_destroy(&attr);
	if ((rc = pthread_create(&d->thread, NULL, watchdog_main, d)) != 0) {
		log_error("cannot start the request deadline thread: %s",
		    strerror(rc));
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return NULL;
	}
	return d;
}

void
deadlines_stop(struct deadlines *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = 1;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	while (d->head != NULL)
		deadline_forget(d, d->head);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

struct deadline_conn *
deadline_track(struct deadlines *d, int fd)
{
	struct deadline_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->phase = DEADLINE_HEADERS;
	c->start_ms = clock_monotonic_ms();
	pthread_mutex_lock(&d->lock);
	c->next = d->head;
	if (d->head != NULL)
		d->head->prev = c;
	d->head = c;
	pthread_mutex_unlock(&d->lock);
	return c;
}

void
deadline_forget(struct deadlines *d, struct deadline_conn *c)
{
	pthread_mutex_lock(&d->lock);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		d->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&d->lock);
	free(c);
}

int
deadline_enter(struct deadlines *d, struct deadline_conn *c,
    enum deadline_phase p)
{
	int expired;

	pthread_mutex_lock(&d->lock);
	expired = c->expired;
	if (!expired) {
		c->phase = p;
		if (p == DEADLINE_HEADERS)
			c->start_ms = clock_monotonic_ms();
	}
	pthread_mutex_unlock(&d->lock);
	return expired ? -1 : 0;
}
