/*
 * table.c - request type -> handler.
 */
#include "enclave/handlers.h"

const struct handler *
handler_for(enum request_type type)
{
	switch (type) {
	case REQUEST_PING:
		return &handler_ping;
	case REQUEST_HEALTH:
		return &handler_health;
	case REQUEST_CONFIGURE:
		return &handler_configure;
	case REQUEST_ATTEST:
		return &handler_attest;
	case REQUEST_FORGET:
		return &handler_forget;
	case REQUEST_PROCESS:
		break;
	}
	return &handler_process;
}
