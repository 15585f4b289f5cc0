/*
 * error.c - failure text and status names for the client.
 *
 * The bottom of the library: it calls no other file of it, so every
 * other file may record a failure here (client_internal.h lists who
 * calls whom).
 */
#include "client/client_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
client_set_error_v(struct enclave_client *c, const char *fmt, va_list ap)
{
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
}

int
client_set_error(struct enclave_client *c, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	client_set_error_v(c, fmt, ap);
	va_end(ap);
	return status;
}

void
client_clear_error(struct enclave_client *c)
{
	c->error[0] = '\0';
	c->remote_code[0] = '\0';
	c->remote_details[0] = '\0';
}

const char *
enclave_strerror(int status)
{
	switch (status) {
	case ENCLAVE_OK:		return "ok";
	case ENCLAVE_ERR_USAGE:		return "usage error";
	case ENCLAVE_ERR_CONNECT:	return "connect failed";
	case ENCLAVE_ERR_IO:		return "connection broken";
	case ENCLAVE_ERR_TIMEOUT:	return "timeout";
	case ENCLAVE_ERR_PROTOCOL:	return "protocol error";
	case ENCLAVE_ERR_REMOTE:	return "enclave error";
	case ENCLAVE_ERR_NOMEM:		return "out of memory";
	default:			return "unknown error";
	}
}
