/*
 * client_internal.h - what the files of libenclaveclient share.
 *
 * Not installed: callers see only include/enclaveclient/client.h. One file per
 * concept: client.c (the object), error.c (failure text), wait.c
 * (deadlines, waiting for the socket), connect.c (the connection, and
 * closing it on a failure that leaves it unusable), send.c, recv.c (one
 * response off the wire), exchange.c (request out, response in, its
 * status), json_string.c, requests.c (ping, health, configure, forget),
 * process.c, attest.c.
 *
 * Calls go one way, down this list, never back up (scripts/check-cycles.py):
 *   requests, process, attest -> exchange -> send, recv, connect
 *   connect -> recv (client_rx_reset) -> wait -> error
 */
#ifndef CLIENT_INTERNAL_H
#define CLIENT_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/uio.h>

#include <cJSON.h>

#include "common/buf.h"
#include "common/json_parse.h"
#include "common/json_text.h"
#include "common/endpoint.h"
#include "enclaveclient/client.h"

#define CLIENT_ERROR_MAX   256
#define CLIENT_CODE_MAX    64
#define CLIENT_DETAILS_MAX 1024
/* Receive buffer kept between calls; larger ones are given back. */
#define CLIENT_RX_KEEP     ((size_t)64 << 10)
/* Request pieces one exchange may carry (plus the length prefix). */
#define CLIENT_IOV_MAX     8

struct enclave_client {
	struct enclave_client_options opts;
	int             fd;		/* -1: not connected */
	struct endpoint ep;		/* for reconnect */
	int             have_ep;
	struct buf      rx;		/* received bytes; holds the response */
	const char     *resp;		/* last response, inside rx, or NULL */
	size_t          resp_len;
	char            error[CLIENT_ERROR_MAX];
	char            remote_code[CLIENT_CODE_MAX];
	char            remote_details[CLIENT_DETAILS_MAX];
};

/* error.c: record why a call failed and return `status`. */
int  client_set_error(struct enclave_client *c, int status, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
void client_set_error_v(struct enclave_client *c, const char *fmt,
    va_list ap) __attribute__((format(printf, 2, 0)));
void client_clear_error(struct enclave_client *c);

/* wait.c: a milliseconds deadline from now (0: none), and waiting for the
 * socket until it. */
long long client_deadline(int timeout_ms);
int  client_wait(struct enclave_client *c, short events, long long deadline);

/* connect.c: client_set_error, and close the connection when `status`
 * leaves it unusable. */
int  client_fail(struct enclave_client *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* send.c: all of iov (modified as it goes) before the deadline. */
int  client_send(struct enclave_client *c, struct iovec *iov, int iovcnt,
    long long deadline);
/* recv.c: one response into c->resp / c->resp_len. */
int  client_recv(struct enclave_client *c, long long deadline);
/* Drop the previous response before the next request. */
void client_rx_reset(struct enclave_client *c);

/*
 * exchange.c: send the request made of iov (framed per the options),
 * receive its response, parse it. ENCLAVE_OK with *root (the caller
 * deletes it; root may be NULL when not wanted), or a failure with the
 * connection closed where it is no longer usable.
 */
int  client_exchange(struct enclave_client *c, const struct iovec *iov,
    int iovcnt, cJSON **root);

/* 1 when s can go between quotes as it is (printable ASCII, no " or \). */
int  json_string_plain(const char *s, size_t n);

#endif
