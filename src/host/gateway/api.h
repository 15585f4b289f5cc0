/*
 * api.h - the gateway's three endpoints, independent of the HTTP library:
 * each turns a request into a reply (status, JSON or text, headers).
 */
#ifndef GATEWAY_API_H
#define GATEWAY_API_H

#include <stddef.h>

#include "common/buf.h"
#include "common/wire_error.h"
#include "host/gateway/gateway.h"

struct api_reply {
	int         status;
	struct buf  body;
	const char *content_type;
	int         retry_after;	/* seconds; 0: no header */
	char        error[64];		/* the error code, "" on success */
	int         enclave;		/* index of the enclave used, or -1 */
	int         close;		/* 1: close the connection after it */
};

void api_reply_init(struct api_reply *r);
void api_reply_free(struct api_reply *r);
/* {"error": code, "details": details} with the status. */
void api_error(struct api_reply *r, int status, const char *code,
    const char *details);
/* The same for a protocol code, with its status from the table. */
void api_wire_error(struct api_reply *r, enum wire_error code,
    const char *details);

void api_process(struct gateway_ctx *g, const char *body, size_t len,
    struct api_reply *r);
/*
 * GET /v1/attestation?nonce=HEX[&user_data=HEX]: a fresh document from an
 * enclave, {"document": BASE64}. The query was read by the HTTP front
 * (http.c): `query_error`, when set, is why it cannot be used.
 */
void api_attestation(struct gateway_ctx *g, const char *nonce,
    const char *user_data, const char *query_error, struct api_reply *r);
void api_healthz(struct gateway_ctx *g, struct api_reply *r);
void api_metrics(struct gateway_ctx *g, struct api_reply *r);

#endif
