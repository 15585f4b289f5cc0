/*
 * request.h - one protocol request: parse, check, execute.
 *
 * Parsing checks everything that depends only on the request (JSON shape,
 * type, required fields, field types, hex), so a bad request is answered
 * before the daemon's state is consulted, as the spec orders. Executing
 * may block (configure waits on KMS); request_blocks() tells the server to
 * run it away from the event loop.
 */
#ifndef ENCLAVE_REQUEST_H
#define ENCLAVE_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "enclave/context.h"
#include "enclave/reply.h"

struct request;

/*
 * Parse a message. Returns the request, or NULL with `reply` holding the
 * error. The message may be changed in place (a process request decodes
 * its ciphertext where it lies); unless request_holds_message() says so,
 * it is not referenced afterwards.
 */
struct request *request_parse(struct enclave_ctx *ctx, uint8_t *msg,
    size_t len, struct reply *reply);
/* The request still uses the message's bytes: hand over their buffer. */
int             request_holds_message(const struct request *req);
/* Take `buf` (emptied) as the request's own, freed with the request. */
void            request_adopt_message(struct request *req, struct buf *buf);
/* Give an adopted buffer back once executed (its bytes hold no plaintext). */
void            request_release_message(struct request *req, struct buf *buf);
int             request_blocks(const struct request *req);
/*
 * The message's own bytes may hold secrets (configure's AWS credentials):
 * wipe them once parsed. NULL (a message that did not parse) may too.
 */
int             request_message_is_secret(const struct request *req);
void            request_execute(struct enclave_ctx *ctx, struct request *req,
    struct reply *reply);
/* Frees the request, wiping whatever plaintext or credentials it held. */
void            request_free(struct request *req);

/* The largest response body for this daemon's message limit. */
size_t          request_reply_limit(const struct options *opt);

#endif
