/*
 * send.c - writing one request, bounded by the call's deadline.
 */
#include "client/client_internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

/* Step past n sent bytes; returns the first iovec with bytes left. */
static struct iovec *
advance(struct iovec *iov, int *iovcnt, size_t n)
{
	while (*iovcnt > 0 && n >= iov->iov_len) {
		n -= iov->iov_len;
		iov++;
		(*iovcnt)--;
	}
	if (*iovcnt > 0) {
		iov->iov_base = (char *)iov->iov_base + n;
		iov->iov_len -= n;
	}
	return iov;
}

/*
 * sendmsg with MSG_NOSIGNAL: a daemon that closed on us must give EPIPE,
 * not kill the program with SIGPIPE. MSG_DONTWAIT keeps a full socket
 * buffer from blocking past the deadline; poll does the waiting. The
 * caller decides whether a failure closes the connection, because the
 * daemon may have answered before it closed (`too_large`, `busy`).
 */
int
client_send(struct enclave_client *c, struct iovec *iov, int iovcnt,
    long long deadline)
{
	struct msghdr mh;
	ssize_t n;
	int rc;

	iov = advance(iov, &iovcnt, 0);
	while (iovcnt > 0) {
		if ((rc = client_wait(c, POLLOUT, deadline)) < 0)
			return rc;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)iovcnt;
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return client_set_error(c, ENCLAVE_ERR_IO,
			    "sending to the enclave: %s", strerror(errno));
		}
		iov = advance(iov, &iovcnt, (size_t)n);
	}
	return ENCLAVE_OK;
}
