/*
 * server.h - listeners, event-loop threads and connections.
 *
 * `--threads N` workers each run an epoll loop; every listener is in every
 * worker's epoll set (EPOLLEXCLUSIVE), so the kernel spreads new
 * connections across workers and each connection stays on one thread.
 * Requests that block (configure waits for KMS) run on a thread of their
 * own and hand their response back to the connection's worker, so a slow
 * KMS delays nobody else.
 */
#ifndef ENCLAVE_SERVER_H
#define ENCLAVE_SERVER_H

#include "enclave/context.h"

struct server;

/*
 * Blocking requests that run at once (job.c); more wait their turn. It
 * also bounds the configures holding credentials in locked memory.
 */
#define SERVER_MAX_RUNNING_JOBS 64

/*
 * Bind every --listen endpoint and set up the workers' event loops; NULL
 * on failure. Nothing runs yet: the caller may confine the process first.
 */
struct server *server_open(struct enclave_ctx *ctx);
/* Start the worker threads and announce the listeners. */
int            server_run(struct server *srv);
/* Stop accepting, finish requests in flight, close, join, free. */
void           server_stop(struct server *srv);

#endif
