/*
 * server.h - what main.c opens, runs and stops: the listeners and the
 * event-loop workers.
 *
 * `--threads N` workers each run an epoll loop (server.c). Every listener
 * is in every worker's epoll set with EPOLLEXCLUSIVE, so a new connection
 * wakes one worker (or a few), not all of them; the worker that accepts it
 * serves it for its whole life (connection.c). Requests that block
 * (configure waits for KMS, attest for the NSM) run on a thread of their
 * own (job.c) and leave their response in the worker's inbox (inbox.c),
 * so a slow KMS delays nobody else. The four share server_internal.h.
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
