/*
 * server.c - listeners and the worker event loops (see server.h).
 */
#include "enclave/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/vm_sockets.h>

#include "common/guard.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "enclave/server_internal.h"

#define MAX_EVENTS     64
#define SWEEP_EVERY_MS 250
#define LISTEN_BACKLOG 1024

/* WIRE_BUSY, written out: sent before any buffer exists for the fd. */
static const char busy_reply[] =
    "{\"status\":\"error\",\"msg\":\"busy\","
    "\"details\":\"the daemon is at its connection limit\"}\n";

/* Past the limit: say so in one write and close, holding nothing. */
static void
refuse_busy(struct server *srv, int fd)
{
	if (send(fd, busy_reply, sizeof(busy_reply) - 1,
	    MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("busy reply not sent: %s", strerror(errno));
	close(fd);
	atomic_fetch_add(&srv->ctx->stats.requests, 1);
	atomic_fetch_add(&srv->ctx->stats.errors, 1);
	log_warn("connection refused: limit of %u connections reached",
	    srv->ctx->opt->max_connections);
}

/* Set up an accepted connection on this worker, or close it if stopping. */
static void
adopt(struct worker *w, int fd, const char *peer)
{
	struct connection *c;

	if (w->draining || (c = connection_new(w, fd)) == NULL) {
		if (!w->draining)
			log_error("cannot set up a connection: %s",
			    strerror(errno));
		close(fd);
		atomic_fetch_sub(&w->server->ctx->stats.connections, 1);
		return;
	}
	log_info("connection %llu from %s on worker %u",
	    (unsigned long long)c->id, peer, w->index);
	/* A client usually sends at once: read now, not after another wait. */
	connection_on_event(c, EPOLLIN);
}

/*
 * Whichever worker the kernel wakes accepts, but connections are dealt to
 * the workers in turn: left to the kernel, one idle worker would take
 * every persistent connection and the other cores would watch.
 */
static void
hand_out(struct worker *w, int fd, const char *peer)
{
	struct server *srv = w->server;
	struct worker *to;
	struct incoming *in;

	to = &srv->workers[atomic_fetch_add(&srv->next_worker, 1) %
	    srv->n_workers];
	if (to == w || (in = malloc(sizeof(*in))) == NULL) {
		adopt(w, fd, peer);
		return;
	}
	in->fd = fd;
	snprintf(in->peer, sizeof(in->peer), "%s", peer);
	inbox_post_connection(to, in);
}

static void
accept_all(struct worker *w, int listen_fd)
{
	struct server *srv = w->server;
	const int one = 1;
	int i;

	for (i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		char name[ENDPOINT_STR_MAX];
		int fd = accept4(listen_fd, (struct sockaddr *)&peer, &peer_len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		/* Take a slot first: the limit holds across workers. */
		if (atomic_fetch_add(&srv->ctx->stats.connections, 1) >=
		    srv->ctx->opt->max_connections) {
			atomic_fetch_sub(&srv->ctx->stats.connections, 1);
			refuse_busy(srv, fd);
			continue;
		}
		/* Harmless where it does not apply (Unix, vsock). */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		endpoint_format_peer((struct sockaddr *)&peer, peer_len, name,
		    sizeof(name));
		hand_out(w, fd, name);
	}
}

/* Take what other threads left for this worker: finished jobs, connections. */
static void
collect_inbox(struct worker *w)
{
	struct job *done;
	struct incoming *in;

	inbox_take(w, &done, &in);
	while (done != NULL) {
		struct job *next = done->next;

		connection_job_done(done);
		done = next;
	}
	while (in != NULL) {
		struct incoming *next = in->next;

		adopt(w, in->fd, in->peer);
		free(in);
		in = next;
	}
}

static void
start_draining(struct worker *w)
{
	struct connection *c, *next;
	size_t i;

	w->draining = 1;
	for (i = 0; i < w->server->n_listeners; i++)
		epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL,
		    w->server->listeners[i].fd, NULL);
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		connection_drain(c);
	}
}

static void
sweep(struct worker *w)
{
	struct connection *c, *next;
	long long now = clock_monotonic_ms();

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		connection_sweep(c, now);
	}
	buffer_cache_sweep(&w->cache, now, BUFFER_CACHE_IDLE_MS);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event events[MAX_EVENTS];
	long long next_sweep = clock_monotonic_ms() + SWEEP_EVERY_MS;

	for (;;) {
		long long now;
		int n, i;

		if (atomic_load(&w->server->stopping) && !w->draining)
			start_draining(w);
		if (w->draining && w->conns == NULL)
			break;
		n = epoll_wait(w->epoll_fd, events, MAX_EVENTS, SWEEP_EVERY_MS);
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			struct watch *wa = events[i].data.ptr;

			switch (wa->kind) {
			case WATCH_LISTENER:
				accept_all(w, wa->fd);
				break;
			case WATCH_WAKEUP:
				collect_inbox(w);
				break;
			case WATCH_CONNECTION:
				connection_on_event((struct connection *)wa,
				    events[i].events);
				break;
			}
		}
		now = clock_monotonic_ms();
		if (now >= next_sweep) {
			sweep(w);
			next_sweep = now + SWEEP_EVERY_MS;
		}
	}
	return NULL;
}

static int
worker_init(struct server *srv, struct worker *w, unsigned index)
{
	struct epoll_event ev;
	size_t i;

	w->server = srv;
	w->index = index;
	w->wakeup.kind = WATCH_WAKEUP;
	buffer_cache_init(&w->cache, &srv->ctx->memory);
	pthread_mutex_init(&w->inbox_lock, NULL);
	GUARD(w->epoll_fd = epoll_create1(EPOLL_CLOEXEC));
	GUARD(w->wakeup.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
	ev.events = EPOLLIN;
	ev.data.ptr = &w->wakeup;
	GUARD(epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->wakeup.fd, &ev));
	for (i = 0; i < srv->n_listeners; i++) {
		/* EPOLLEXCLUSIVE: one worker wakes per new connection. */
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.ptr = &srv->listeners[i];
		GUARD(epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD,
		    srv->listeners[i].fd, &ev));
	}
	return 0;
}

/* Is the socket bound to 127.0.0.0/8 or ::1 (or ::ffff:127.x)? */
static int
bound_to_loopback(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >>
		    24) == 127;
	if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		    (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

/*
 * Over loopback, TCP pacing only adds timer waits. Where the system's
 * default is BBR, which paces (as on the bench machine), a 16 MiB
 * request's round trip took 37 ms, against 21 ms with reno, which does not
 * (docs/bench.md). A loopback listener therefore
 * uses reno (always allowed to unprivileged processes), and its
 * connections inherit it; on a real network the system's choice stands.
 */
static void
unpaced_on_loopback(int fd)
{
	static const char reno[] = "reno";

	if (bound_to_loopback(fd) &&
	    setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, reno,
	    sizeof(reno) - 1) < 0)
		log_debug("TCP_CONGESTION reno: %s", strerror(errno));
}

static int
open_listeners(struct server *srv)
{
	const struct options *opt = srv->ctx->opt;
	size_t i;

	for (i = 0; i < opt->n_listen; i++) {
		char name[ENDPOINT_STR_MAX];
		int fd;

		endpoint_format(&opt->listen[i], name, sizeof(name));
		fd = endpoint_listen(&opt->listen[i], LISTEN_BACKLOG);
		if (fd < 0) {
			log_error("cannot listen on %s: %s", name,
			    strerror(errno));
			return -1;
		}
		if (opt->listen[i].kind == ENDPOINT_TCP)
			unpaced_on_loopback(fd);
		srv->listeners[i].kind = WATCH_LISTENER;
		srv->listeners[i].fd = fd;
		srv->n_listeners++;
	}
	return 0;
}

static void
announce_listeners(const struct server *srv)
{
	const struct options *opt = srv->ctx->opt;
	size_t i;

	for (i = 0; i < srv->n_listeners; i++) {
		struct endpoint bound = opt->listen[i];
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char name[ENDPOINT_STR_MAX];

		/* Port 0 asks the kernel for one: say which it chose. */
		if (getsockname(srv->listeners[i].fd, (struct sockaddr *)&ss,
		    &len) == 0) {
			if (ss.ss_family == AF_INET)
				bound.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			else if (ss.ss_family == AF_INET6)
				bound.port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
			else if (ss.ss_family == AF_VSOCK)
				bound.port = ((struct sockaddr_vm *)&ss)->svm_port;
		}
		endpoint_format(&bound, name, sizeof(name));
		log_info("listening on %s", name);
	}
}

static void
server_free(struct server *srv)
{
	unsigned i;
	size_t k;

	for (i = 0; srv->workers != NULL && i < srv->n_workers; i++) {
		struct worker *w = &srv->workers[i];

		/* Connections handed over as the worker stopped: never served. */
		while (w->incoming != NULL) {
			struct incoming *next = w->incoming->next;

			close(w->incoming->fd);
			free(w->incoming);
			w->incoming = next;
		}
		buffer_cache_drop(&w->cache);
		if (w->epoll_fd > 0)
			close(w->epoll_fd);
		if (w->wakeup.fd > 0)
			close(w->wakeup.fd);
		pthread_mutex_destroy(&w->inbox_lock);
	}
	/*
	 * A Unix socket's file stays behind: the sandbox forbids unlink(2),
	 * and the next start removes a stale one (endpoint_listen).
	 */
	for (k = 0; k < srv->n_listeners; k++)
		close(srv->listeners[k].fd);
	free(srv->workers);
	free(srv);
}

struct server *
server_open(struct enclave_ctx *ctx)
{
	struct server *srv = calloc(1, sizeof(*srv));
	unsigned i;

	if (srv == NULL)
		return NULL;
	srv->ctx = ctx;
	srv->n_workers = ctx->opt->threads;
	srv->workers = calloc(srv->n_workers, sizeof(*srv->workers));
	if (srv->workers == NULL || open_listeners(srv) < 0)
		goto fail;
	for (i = 0; i < srv->n_workers; i++) {
		if (worker_init(srv, &srv->workers[i], i) < 0) {
			log_error("cannot set up worker %u: %s", i,
			    strerror(errno));
			goto fail;
		}
	}
	return srv;
fail:
	server_free(srv);
	return NULL;
}

static void
wake_workers(struct server *srv, unsigned count)
{
	unsigned i;

	for (i = 0; i < count; i++)
		worker_wake(&srv->workers[i]);
}

int
server_run(struct server *srv)
{
	unsigned i;

	for (i = 0; i < srv->n_workers; i++) {
		if (pthread_create(&srv->workers[i].thread, NULL, worker_main,
		    &srv->workers[i]) != 0) {
			log_error("cannot start worker %u", i);
			srv->n_workers = i;
			return -1;
		}
	}
	announce_listeners(srv);
	return 0;
}

void
server_stop(struct server *srv)
{
	unsigned i;

	atomic_store(&srv->stopping, 1);
	wake_workers(srv, srv->n_workers);
	for (i = 0; i < srv->n_workers; i++)
		pthread_join(srv->workers[i].thread, NULL);
	server_free(srv);
}
