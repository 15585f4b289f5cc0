/*
 * endpoint.h - where a daemon listens or a client connects.
 *
 *   vsock:CID:PORT   AF_VSOCK (listening: vsock:PORT binds VMADDR_CID_ANY)
 *   tcp:HOST:PORT    AF_INET/AF_INET6, HOST a name or address ([::1] too)
 *   unix:PATH        AF_UNIX stream socket
 *
 * One parser for the daemon, enclavectl and the gateway, so the three
 * always agree on what an endpoint string means.
 */
#ifndef COMMON_ENDPOINT_H
#define COMMON_ENDPOINT_H

#include <stdint.h>
#include <sys/un.h>

#include "common/reason.h"

enum endpoint_kind { ENDPOINT_VSOCK, ENDPOINT_TCP, ENDPOINT_UNIX };

#define ENDPOINT_HOST_MAX 256

struct endpoint {
	enum endpoint_kind kind;
	uint32_t           cid;		/* vsock */
	uint32_t           port;	/* vsock, tcp */
	char               host[ENDPOINT_HOST_MAX];	/* tcp */
	char               path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

#define ENDPOINT_STR_MAX (ENDPOINT_HOST_MAX + 32)

/*
 * Parse `text`. for_listen=1 accepts vsock:PORT (any CID); for_listen=0
 * requires vsock:CID:PORT. On failure, `why` (may be NULL) says what is wrong.
 */
int  endpoint_parse(struct endpoint *ep, const char *text, int for_listen,
    struct reason *why);
void endpoint_format(const struct endpoint *ep, char *out, size_t size);
/* Name a connected peer the same way: tcp:ADDR:PORT, vsock:CID:PORT, unix. */
struct sockaddr;
void endpoint_format_peer(const struct sockaddr *sa, unsigned len, char *out,
    size_t size);

/* A listening, non-blocking, close-on-exec socket; -1 with errno set. */
int  endpoint_listen(const struct endpoint *ep, int backlog);
/*
 * A connected, blocking, close-on-exec socket, or -1 with errno set.
 * timeout_ms bounds the connect (0: the kernel's own timeout).
 */
int  endpoint_connect(const struct endpoint *ep, int timeout_ms);
/*
 * Make an AF_VSOCK socket's connect wait timeout_ms (> 0): the kernel
 * gives up after its own 2 s otherwise, whatever the caller polls for.
 */
int  endpoint_vsock_connect_timeout(int fd, int timeout_ms);

#endif
