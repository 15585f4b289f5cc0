/*
 * endpoint.c - parse, listen on and connect to endpoints (see endpoint.h).
 */
#include "common/endpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include "common/guard.h"
#include "common/number.h"
#include "common/reason.h"

/* CIDs and ports by the common rule for numbers (common/number.h). */
static int
parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (number_parse(s, 0, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_vsock(struct endpoint *ep, const char *rest, int for_listen,
    struct reason *why)
{
	const char *colon = strchr(rest, ':');
	char cid[16];

	ep->kind = ENDPOINT_VSOCK;
	if (colon == NULL) {
		if (!for_listen)
			return reason_fail(why,
			    "vsock endpoint needs CID:PORT");
		ep->cid = VMADDR_CID_ANY;
		if (parse_u32(rest, UINT32_MAX, &ep->port) < 0)
			return reason_fail(why, "bad vsock port");
		return 0;
	}
	if ((size_t)(colon - rest) >= sizeof(cid))
		return reason_fail(why, "bad vsock CID");
	memcpy(cid, rest, (size_t)(colon - rest));
	cid[colon - rest] = '\0';
	if (parse_u32(cid, UINT32_MAX, &ep->cid) < 0)
		return reason_fail(why, "bad vsock CID");
	if (parse_u32(colon + 1, UINT32_MAX, &ep->port) < 0)
		return reason_fail(why, "bad vsock port");
	return 0;
}

static int
parse_tcp(struct endpoint *ep, const char *rest, struct reason *why)
{
	const char *colon = strrchr(rest, ':');
	const char *host = rest;
	size_t len;

	ep->kind = ENDPOINT_TCP;
	if (colon == NULL)
		return reason_fail(why, "tcp endpoint needs HOST:PORT");
	len = (size_t)(colon - rest);
	/* [v6addr]:port */
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(ep->host))
		return reason_fail(why, "bad tcp host");
	memcpy(ep->host, host, len);
	ep->host[len] = '\0';
	if (parse_u32(colon + 1, 65535, &ep->port) < 0)
		return reason_fail(why, "bad tcp port (0-65535)");
	return 0;
}

int
endpoint_parse(struct endpoint *ep, const char *text, int for_listen,
    struct reason *why)
{
	memset(ep, 0, sizeof(*ep));
	if (strncmp(text, "vsock:", 6) == 0)
		return parse_vsock(ep, text + 6, for_listen, why);
	if (strncmp(text, "tcp:", 4) == 0)
		return parse_tcp(ep, text + 4, why);
	if (strncmp(text, "unix:", 5) == 0) {
		ep->kind = ENDPOINT_UNIX;
		if (text[5] == '\0' || strlen(text + 5) >= sizeof(ep->path))
			return reason_fail(why, "bad unix socket path");
		strcpy(ep->path, text + 5);
		return 0;
	}
	return reason_fail(why,
	    "endpoint must start with vsock:, tcp: or unix:");
}

void
endpoint_format(const struct endpoint *ep, char *out, size_t size)
{
	switch (ep->kind) {
	case ENDPOINT_VSOCK:
		if (ep->cid == VMADDR_CID_ANY)
			snprintf(out, size, "vsock:%u", ep->port);
		else
			snprintf(out, size, "vsock:%u:%u", ep->cid, ep->port);
		break;
	case ENDPOINT_TCP:
		snprintf(out, size, strchr(ep->host, ':') ? "tcp:[%s]:%u" :
		    "tcp:%s:%u", ep->host, ep->port);
		break;
	case ENDPOINT_UNIX:
		snprintf(out, size, "unix:%s", ep->path);
		break;
	}
}

void
endpoint_format_peer(const struct sockaddr *sa, unsigned len, char *out,
    size_t size)
{
	char host[64];

	switch (len >= sizeof(sa->sa_family) ? sa->sa_family : AF_UNSPEC) {
	case AF_INET: {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, size, "tcp:%s:%u", host, ntohs(in->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, size, "tcp:[%s]:%u", host, ntohs(in6->sin6_port));
		break;
	}
	case AF_VSOCK: {
		const struct sockaddr_vm *vm = (const struct sockaddr_vm *)sa;

		snprintf(out, size, "vsock:%u:%u", vm->svm_cid, vm->svm_port);
		break;
	}
	case AF_UNIX:
		snprintf(out, size, "unix");
		break;
	default:
		snprintf(out, size, "unknown");
		break;
	}
}

/* Resolve a TCP endpoint; the caller frees the list. */
static struct addrinfo *
tcp_resolve(const struct endpoint *ep, int passive)
{
	struct addrinfo hints, *res = NULL;
	char port[8];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	snprintf(port, sizeof(port), "%u", ep->port);
	if (getaddrinfo(ep->host, port, &hints, &res) != 0) {
		errno = EADDRNOTAVAIL;
		return NULL;
	}
	return res;
}

/*
 * The address of a vsock or Unix endpoint (TCP goes through getaddrinfo).
 * Returns its length; the family is in ss->ss_family.
 */
static socklen_t
local_sockaddr(const struct endpoint *ep, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->kind == ENDPOINT_VSOCK) {
		struct sockaddr_vm *vm = (struct sockaddr_vm *)ss;

		vm->svm_family = AF_VSOCK;
		vm->svm_cid = ep->cid;
		vm->svm_port = ep->port;
		return sizeof(*vm);
	} else {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, ep->path, strlen(ep->path) + 1);
		return sizeof(*un);
	}
}

static int
bind_listen(int fd, const struct sockaddr *sa, socklen_t len, int backlog)
{
	if (bind(fd, sa, len) < 0 || listen(fd, backlog) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
endpoint_listen(const struct endpoint *ep, int backlog)
{
	const int flags = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
	const int one = 1;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (ep->kind == ENDPOINT_TCP) {
		struct addrinfo *res = tcp_resolve(ep, 1);

		if (res == NULL)
			return -1;
		fd = socket(res->ai_family, flags, 0);
		if (fd >= 0) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			fd = bind_listen(fd, res->ai_addr, res->ai_addrlen,
			    backlog);
		}
		freeaddrinfo(res);
		return fd;
	}
	len = local_sockaddr(ep, &ss);
	if ((fd = socket(ss.ss_family, flags, 0)) < 0)
		return -1;
	/* A stale socket file from an earlier run would make bind fail. */
	if (ep->kind == ENDPOINT_UNIX)
		unlink(ep->path);
	return bind_listen(fd, (struct sockaddr *)&ss, len, backlog);
}

/* Non-blocking connect bounded by timeout_ms, then back to blocking. */
static int
connect_with_timeout(int fd, const struct sockaddr *sa, socklen_t len,
    int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int flags, err = 0, rc;
	socklen_t errlen = sizeof(err);

	if (timeout_ms <= 0)
		return connect(fd, sa, len);
	flags = fcntl(fd, F_GETFL);
	GUARD(fcntl(fd, F_SETFL, flags | O_NONBLOCK));
	rc = connect(fd, sa, len);
	if (rc < 0 && errno == EINPROGRESS) {
		do {
			rc = poll(&pfd, 1, timeout_ms);
		} while (rc < 0 && errno == EINTR);
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		GUARD(rc);
		GUARD(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen));
		if (err != 0) {
			errno = err;
			return -1;
		}
	} else if (rc < 0) {
		return -1;
	}
	return fcntl(fd, F_SETFL, flags);
}

static int
connect_or_close(int fd, const struct sockaddr *sa, socklen_t len,
    int timeout_ms)
{
	if (connect_with_timeout(fd, sa, len, timeout_ms) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
endpoint_vsock_connect_timeout(int fd, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
	    .tv_usec = (timeout_ms % 1000) * 1000 };

	return setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv,
	    sizeof(tv));
}

int
endpoint_connect(const struct endpoint *ep, int timeout_ms)
{
	const int one = 1;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = -1;

	if (ep->kind == ENDPOINT_TCP) {
		struct addrinfo *res = tcp_resolve(ep, 0), *ai;

		if (res == NULL)
			return -1;
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
			if (fd < 0)
				continue;
			fd = connect_or_close(fd, ai->ai_addr, ai->ai_addrlen,
			    timeout_ms);
			if (fd >= 0)
				break;
		}
		freeaddrinfo(res);
		if (fd >= 0)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return fd;
	}
	len = local_sockaddr(ep, &ss);
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (ep->kind == ENDPOINT_VSOCK && timeout_ms > 0 &&
	    endpoint_vsock_connect_timeout(fd, timeout_ms) < 0) {
		close(fd);
		return -1;
	}
	return connect_or_close(fd, (struct sockaddr *)&ss, len, timeout_ms);
}
