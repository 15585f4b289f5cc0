/*
 * nsm_unix.c - the NSM simulator transport, for tests without Nitro
 * hardware (tests/simulators/nsm_sim.py). The request and response are the same CBOR
 * bytes the ioctl carries; only the carrier differs: a Unix stream socket,
 * connected per exchange, each message a 4-byte big-endian length and the
 * bytes. The response is bounded by the caller's buffer (0x3000 bytes),
 * as the driver's is.
 */
#include "enclave/nsm/nsm.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/endpoint.h"
#include "common/log.h"
#include "common/nsm_cbor.h"
#include "common/timefmt.h"

/* Wait for `events` on fd until the deadline; -1 with errno on timeout. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int rc;

	for (;;) {
		left = deadline - clock_monotonic_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

static int
send_all(int fd, const uint8_t *p, size_t n, long long deadline)
{
	ssize_t w;

	while (n > 0) {
		if (wait_fd(fd, POLLOUT, deadline) < 0)
			return -1;
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
recv_exact(int fd, uint8_t *p, size_t n, long long deadline)
{
	ssize_t r;

	while (n > 0) {
		if (wait_fd(fd, POLLIN, deadline) < 0)
			return -1;
		r = recv(fd, p, n, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r == 0)
			errno = ECONNRESET;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
unix_exchange(struct nsm *nsm, const uint8_t *req, size_t req_len,
    uint8_t *resp, size_t *resp_len, int timeout_ms, struct reason *reason)
{
	struct endpoint ep;
	uint8_t head[4];
	long long deadline;
	uint32_t n;
	int fd, rc = -1;

	if (req_len > NSM_REQUEST_MAX) {
		reason_fail(reason, "NSM request of %zu bytes is over "
		    "the driver's %d", req_len, NSM_REQUEST_MAX);
		return -1;
	}
	if (timeout_ms <= 0)
		timeout_ms = 120000;	/* the driver's limit */
	deadline = clock_monotonic_ms() + timeout_ms;
	memset(&ep, 0, sizeof(ep));
	ep.kind = ENDPOINT_UNIX;
	memcpy(ep.path, nsm->path, sizeof(ep.path));
	if ((fd = endpoint_connect(&ep, timeout_ms)) < 0) {
		reason_fail(reason, "cannot reach the NSM simulator "
		    "at %s: %s", nsm->path, strerror(errno));
		return -1;
	}
	store_u32be(head, (uint32_t)req_len);
	if (send_all(fd, head, sizeof(head), deadline) < 0 ||
	    send_all(fd, req, req_len, deadline) < 0 ||
	    recv_exact(fd, head, sizeof(head), deadline) < 0) {
		reason_fail(reason, "NSM simulator at %s: %s",
		    nsm->path, errno == ETIMEDOUT ? "no answer in time" :
		    strerror(errno));
		goto out;
	}
	n = load_u32be(head);
	if (n == 0 || n > *resp_len) {
		reason_fail(reason, "NSM simulator at %s sent a "
		    "%u-byte response (at most %zu)", nsm->path, n, *resp_len);
		goto out;
	}
	if (recv_exact(fd, resp, n, deadline) < 0) {
		reason_fail(reason, "NSM simulator at %s: %s",
		    nsm->path, errno == ETIMEDOUT ? "no answer in time" :
		    strerror(errno));
		goto out;
	}
	*resp_len = n;
	rc = 0;
out:
	close(fd);
	return rc;
}

static void
unix_close(struct nsm *nsm)
{
	free(nsm);
}

static const struct nsm_transport unix_transport = {
	.name = "simulator",
	.exchange = unix_exchange,
	.close = unix_close,
};

struct nsm *
nsm_unix_open(const char *path, struct reason *reason)
{
	struct nsm *nsm;
	struct stat st;

	if (path[0] != '/' || strlen(path) >= sizeof(nsm->path)) {
		reason_fail(reason, "NSM simulator socket must be an "
		    "absolute path shorter than %zu bytes", sizeof(nsm->path));
		return NULL;
	}
	/* Only checked: the simulator may start after us. */
	if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		log_warn("NSM simulator socket %s is not there yet: attestation "
		    "fails until it is", path);
	if ((nsm = calloc(1, sizeof(*nsm))) == NULL) {
		reason_fail(reason, "out of memory");
		return NULL;
	}
	nsm->t = &unix_transport;
	nsm->fd = -1;
	snprintf(nsm->path, sizeof(nsm->path), "%s", path);
	return nsm;
}
