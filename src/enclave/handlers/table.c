/*
 * table.c - the request types, one row each: the name a request carries
 * in "type", its handler, whether it blocks (runs on a job thread, job.c)
 * and whether its message holds secrets (wiped once parsed, request.c).
 * A type not in the table is unknown_type; there is no default.
 */
#include "enclave/handlers/handlers.h"

#include <string.h>

static const struct request_type request_types[] = {
	{ .name = "ping", .handler = &handler_ping },
	{ .name = "health", .handler = &handler_health },
	/* Waits on KMS for up to --kms-timeout; carries AWS credentials. */
	{ .name = "configure", .handler = &handler_configure, .blocks = 1,
	  .message_is_secret = 1 },
	{ .name = "process", .handler = &handler_process },
	/* Waits on the NSM, up to its 120 s. */
	{ .name = "attest", .handler = &handler_attest, .blocks = 1 },
	{ .name = "forget", .handler = &handler_forget },
};

const struct request_type *
request_type_named(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(request_types) / sizeof(request_types[0]); i++)
		if (strcmp(name, request_types[i].name) == 0)
			return &request_types[i];
	return NULL;
}
