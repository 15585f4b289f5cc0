/*
 * wait.c - the client's deadlines, and waiting for its socket.
 *
 * Used by send.c and recv.c; calls only error.c.
 */
#include "client/client_internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "common/timefmt.h"

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
