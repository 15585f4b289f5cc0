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

/* Bind every --listen endpoint and start the workers; NULL on failure. */
struct server *server_start(struct enclave_ctx *ctx);
/* Stop accepting, finish requests in flight, close, join, free. */
void           server_stop(struct server *srv);

#endif
