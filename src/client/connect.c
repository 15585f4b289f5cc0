/*
 * connect.c - opening and closing the client's connection.
 */
#include "client/client_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Dial the remembered endpoint; the text of a failure names it. */
static int
dial(struct enclave_client *c)
{
	char name[ENDPOINT_STR_MAX];
	int fd;

	endpoint_format(&c->ep, name, sizeof(name));
	fd = endpoint_connect(&c->ep, c->opts.connect_timeout_ms > 0 ?
	    c->opts.connect_timeout_ms : 0);
	if (fd < 0 && errno == ETIMEDOUT)
		return client_set_error(c, ENCLAVE_ERR_TIMEOUT,
		    "connecting to %s timed out", name);
	/* endpoint_connect reports a name that does not resolve this way. */
	if (fd < 0 && errno == EADDRNOTAVAIL && c->ep.kind == ENDPOINT_TCP)
		return client_set_error(c, ENCLAVE_ERR_CONNECT,
		    "cannot connect to %s: host not found or address not "
		    "available", name);
	if (fd < 0)
		return client_set_error(c, ENCLAVE_ERR_CONNECT,
		    "cannot connect to %s: %s", name, strerror(errno));
	return enclave_client_attach_fd(c, fd);
}

int
enclave_client_connect(struct enclave_client *c, const char *endpoint)
{
	struct reason why;

	enclave_client_close(c);
	client_clear_error(c);
	c->have_ep = 0;
	if (endpoint == NULL)
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "bad endpoint '': empty");
	if (endpoint_parse(&c->ep, endpoint, 0, &why) < 0)
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "bad endpoint '%s': %s", endpoint, why.text);
	c->have_ep = 1;
	return dial(c);
}

int
enclave_client_reconnect(struct enclave_client *c)
{
	enclave_client_close(c);
	client_clear_error(c);
	if (!c->have_ep)
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "reconnect without an earlier connect");
	return dial(c);
}

int
enclave_client_attach_fd(struct enclave_client *c, int fd)
{
	if (fd < 0)
		return client_set_error(c, ENCLAVE_ERR_USAGE, "bad descriptor");
	enclave_client_close(c);
	c->fd = fd;
	client_rx_reset(c);
	return ENCLAVE_OK;
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
	client_set_error_v(c, fmt, ap);
	va_end(ap);
	if (status == ENCLAVE_ERR_IO || status == ENCLAVE_ERR_TIMEOUT ||
	    status == ENCLAVE_ERR_PROTOCOL)
		enclave_client_close(c);
	return status;
}

/*
 * The last response stays readable after a close (the daemon's `too_large`
 * or `busy` arrives just before it hangs up); the next connection or call
 * drops it.
 */
void
enclave_client_close(struct enclave_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int
enclave_client_connected(const struct enclave_client *c)
{
	return c->fd >= 0;
}
