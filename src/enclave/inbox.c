/*
 * inbox.c - what other threads leave for a worker, and the wake.
 *
 * A worker owns its connections; no other thread touches them. A job
 * thread that finished, or a worker that accepted a connection dealt to
 * another, leaves it in the worker's inbox and writes the worker's
 * eventfd, which wakes it in epoll_wait; the worker takes the lot
 * (server.c). The inbox is the only state two threads share here.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "enclave/server_internal.h"

void
worker_wake(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->wakeup.fd, &one, sizeof(one)) < 0)
		log_warn("cannot wake worker %u: %s", w->index, strerror(errno));
}

/*
 * The wake is written while the lock is held: once the worker can take
 * what was left, the daemon may stop and free the worker, so the sender
 * touches nothing of it after unlocking.
 */
void
inbox_post_job(struct worker *w, struct job *job)
{
	pthread_mutex_lock(&w->inbox_lock);
	job->next = w->done;
	w->done = job;
	worker_wake(w);
	pthread_mutex_unlock(&w->inbox_lock);
}

void
inbox_post_connection(struct worker *w, struct incoming *in)
{
	pthread_mutex_lock(&w->inbox_lock);
	in->next = w->incoming;
	w->incoming = in;
	worker_wake(w);
	pthread_mutex_unlock(&w->inbox_lock);
}

void
inbox_take(struct worker *w, struct job **done, struct incoming **in)
{
	uint64_t count;

	if (read(w->wakeup.fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_warn("eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&w->inbox_lock);
	*done = w->done;
	w->done = NULL;
	*in = w->incoming;
	w->incoming = NULL;
	pthread_mutex_unlock(&w->inbox_lock);
}
