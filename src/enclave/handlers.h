/*
 * handlers.h - one handler per request type, and the parsed request they
 * share with request.c. Each handler lives in handlers/<type>.c.
 */
#ifndef ENCLAVE_HANDLERS_H
#define ENCLAVE_HANDLERS_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "enclave/context.h"
#include "enclave/kms/kms.h"
#include "enclave/reply.h"

enum request_type {
	REQUEST_PING,
	REQUEST_HEALTH,
	REQUEST_CONFIGURE,
	REQUEST_PROCESS,
};

struct process_request {
	uint8_t    *data;	/* nonce||ct||tag, decoded in place of the hex */
	size_t      len;
	const char *aad;	/* NULL or "" means none */
	size_t      aad_len;
};

struct configure_request {
	const char            *encrypted_tsk;
	const char            *region;
	struct kms_credentials creds;
};

struct request {
	enum request_type type;
	cJSON            *root;		/* owns every string the request uses */
	union {
		struct process_request   process;
		struct configure_request configure;
	} u;
};

struct handler {
	/* Check the fields; on failure write the error reply and return -1. */
	int  (*parse)(struct enclave_ctx *ctx, struct request *req,
	    struct reply *reply);
	void (*execute)(struct enclave_ctx *ctx, struct request *req,
	    struct reply *reply);
	void (*cleanup)(struct request *req);	/* may be NULL */
};

const struct handler *handler_for(enum request_type type);

enum field_state { FIELD_OK, FIELD_MISSING, FIELD_WRONG_TYPE };

enum field_state request_string_field(const cJSON *root, const char *name,
    const char **out);

extern const struct handler handler_ping;
extern const struct handler handler_health;
extern const struct handler handler_configure;
extern const struct handler handler_process;

#endif
