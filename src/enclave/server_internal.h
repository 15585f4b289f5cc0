/*
 * server_internal.h - the structures server.c, connection.c, job.c and
 * inbox.c share.
 */
#ifndef ENCLAVE_SERVER_INTERNAL_H
#define ENCLAVE_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/endpoint.h"
#include "common/frame.h"
#include "enclave/buffer_cache.h"
#include "enclave/context.h"
#include "enclave/options.h"
#include "enclave/reply.h"
#include "enclave/request.h"

/* What an epoll event points at: the first member of each watched thing. */
enum watch_kind { WATCH_LISTENER, WATCH_WAKEUP, WATCH_CONNECTION };

struct watch {
	enum watch_kind kind;
	int             fd;
};

struct worker;

/* A request running off the event loop, and its answer. */
struct job {
	struct connection *conn;
	struct request    *req;
	struct reply       reply;
	enum frame_kind    framing;
	long long          started_ms;
	struct job        *next;
};

struct connection {
	struct watch       watch;	/* must be first */
	struct worker     *worker;
	struct connection *prev, *next;
	uint64_t           id;

	struct buf          in;
	struct frame_scanner scan;
	long long           message_started_ms;	/* 0: between messages */

	struct buf         out;
	size_t             out_sent;
	size_t             claimed;	/* on the memory budget: in, out, answer */

	long long          last_io_ms;
	uint32_t           events;	/* current epoll interest */
	int                in_epoll;
	int                busy;	/* a job runs for it */
	int                peer_done;	/* the client half-closed */
	int                close_after_write;
	int                dead;	/* I/O failed: close when not busy */
};

/* A connection accepted by one worker and handed to another. */
struct incoming {
	int              fd;
	char             peer[ENDPOINT_STR_MAX];
	struct incoming *next;
};

struct worker {
	struct server     *server;
	unsigned           index;
	pthread_t          thread;
	int                epoll_fd;
	struct watch       wakeup;	/* eventfd */
	struct connection *conns;	/* all of this worker's connections */
	struct buffer_cache cache;	/* big buffers closed connections left */
	pthread_mutex_t    inbox_lock;	/* guards the two lists below */
	struct job        *done;	/* finished jobs to hand back */
	struct incoming   *incoming;	/* connections handed to this worker */
	int                draining;
};

struct server {
	struct enclave_ctx *ctx;
	struct watch        listeners[OPTIONS_MAX_LISTEN];
	size_t              n_listeners;
	struct worker      *workers;
	unsigned            n_workers;
	atomic_int          stopping;
	atomic_uint_fast64_t next_conn_id;
	atomic_uint          next_worker;	/* round-robin for new connections */
};

/*
 * inbox.c: what other threads leave for a worker. Wake it in epoll_wait
 * (its eventfd: jobs, connections, stop); leave it a finished job or a
 * connection, waking it; take all it was left.
 */
void worker_wake(struct worker *w);
void inbox_post_job(struct worker *w, struct job *job);
void inbox_post_connection(struct worker *w, struct incoming *in);
void inbox_take(struct worker *w, struct job **done, struct incoming **in);

/*
 * job.c: run a blocking request on its own thread, its reply taken over;
 * 0 when started, -1 when no thread could be made (reply left as it was).
 */
int  job_start(struct connection *c, struct request *req,
    struct reply *reply, enum frame_kind kind, long long started_ms);

/* connection.c */
/* A connection for fd on worker w; its slot in the count is already taken. */
struct connection *connection_new(struct worker *w, int fd);
void connection_on_event(struct connection *c, uint32_t events);
void connection_job_done(struct job *job);
/* Periodic: enforce the read, idle and write-stall timeouts. */
void connection_sweep(struct connection *c, long long now);
/* The server is stopping: close now if idle, else once answered. */
void connection_drain(struct connection *c);

#endif
