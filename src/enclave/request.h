/*
 * request.h - one protocol request: parse, check, execute, finish.
 *
 * Parsing checks everything that depends only on the request (JSON shape,
 * type, required fields, field types, hex), so a bad request is answered
 * before the daemon's state is consulted, as the spec orders. Executing
 * may block (configure waits on KMS); request_blocks() tells the server to
 * run it away from the event loop. The connection lends the request its
 * input buffer and gets it back:
 *
 *	req = request_parse(ctx, &c->in, f->offset, f->len, &reply);
 *	if (req != NULL) request_execute(ctx, req, &reply);
 *	request_finish(req, &c->in);
 */
#ifndef ENCLAVE_REQUEST_H
#define ENCLAVE_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "enclave/context.h"
#include "enclave/reply.h"

struct request;

/*
 * Parse the message at in[offset .. offset + len) and take everything up
 * to its end out of `in`; what follows it stays in `in`, at the front.
 * Returns the request, or NULL with `reply` holding the error. Which
 * bytes stay and where is decided here: a request that decoded its
 * ciphertext where it lay (process) keeps the message's block, and `in`
 * gets a fresh one for what follows; any other message is dropped, wiped
 * first when it may hold secrets (configure's credentials, or a message
 * that did not parse), since the parsed request has its own copies.
 */
struct request *request_parse(struct enclave_ctx *ctx, struct buf *in,
    size_t offset, size_t len, struct reply *reply);
/* It waits on KMS or the NSM: run it on a job thread (job.c). */
int             request_blocks(const struct request *req);
void            request_execute(struct enclave_ctx *ctx, struct request *req,
    struct reply *reply);
/*
 * Free the request, wiping whatever plaintext or credentials it held. A
 * message block it kept goes back to be `in` (what `in` holds copied into
 * it, and wiped where it was), or is freed when `in` is NULL (a job
 * thread, which must not touch the connection's buffer). NULL: nothing.
 */
void            request_finish(struct request *req, struct buf *in);

/* The largest response body for this daemon's message limit. */
size_t          request_reply_limit(const struct options *opt);

#endif
