/*
 * error.c - failure text, status names and deadlines for the client.
 */
#include "client/client_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/timefmt.h"

static void
set_error(struct enclave_client *c, const char *fmt, va_list ap)
{
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
}

int
client_set_error(struct enclave_client *c, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(c, fmt, ap);
	va_end(ap);
	return status;
}

/*
 * After a broken stream, a timeout or a response we could not read, the
 * next bytes on the connection can no longer be matched to a request:
 * closing is the only safe state.
 */
int
client_fail(struct enclave_client *c, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(c, fmt, ap);
	va_end(ap);
	if (status == ENCLAVE_ERR_IO || status == ENCLAVE_ERR_TIMEOUT ||
	    status == ENCLAVE_ERR_PROTOCOL)
		enclave_client_close(c);
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

/* One deadline per call, so a slow trickle cannot stretch it. */
long long
client_deadline(int timeout_ms)
{
	if (timeout_ms <= 0)
		return 0;
	return clock_monotonic_ms() + timeout_ms;
}

/*
 * Wait until the socket is ready for `events` or the deadline passes.
 * Readiness includes errors and hang-ups: the following send or recv
 * then reports what happened.
 */
int
client_wait(struct enclave_client *c, short events, long long deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	long long left;
	int rc;

	for (;;) {
		left = -1;
		if (deadline != 0) {
			left = deadline - clock_monotonic_ms();
			if (left <= 0)
				break;
			if (left > 60 * 60 * 1000)
				left = 60 * 60 * 1000;
		}
		rc = poll(&pfd, 1, (int)left);
		if (rc > 0)
			return ENCLAVE_OK;
		if (rc < 0 && errno != EINTR)
			return client_set_error(c, ENCLAVE_ERR_IO, "poll: %s",
			    strerror(errno));
		if (rc == 0 && deadline != 0 && clock_monotonic_ms() >= deadline)
			break;
	}
	return client_set_error(c, ENCLAVE_ERR_TIMEOUT,
	    "timed out after %d ms waiting for the enclave", c->opts.io_timeout_ms);
}
