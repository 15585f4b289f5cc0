/*
 * recv.c - reading one response, bounded in size and time.
 *
 * Bare responses are found by common/frame.h's scanner, so the client and
 * the daemon agree byte for byte on where a JSON object ends. The response
 * is left in the receive buffer, NUL-terminated, until the next call:
 * a 64 MiB answer is not copied again just to hand it to the parser.
 */
#include "client/client_internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "common/frame.h"

#define RX_CHUNK ((size_t)64 << 10)

void
client_rx_reset(struct enclave_client *c)
{
	buf_truncate(&c->rx, 0);
	c->resp = NULL;
	c->resp_len = 0;
	buf_shrink(&c->rx, CLIENT_RX_KEEP);
}

/*
 * The length prefix is read here rather than by frame_scan: the scanner
 * skips whitespace before a message, and a prefix may begin with a byte
 * that looks like whitespace (0x09, 0x0a, 0x0d, 0x20 for large lengths).
 */
static enum frame_result
scan_length(const struct buf *rx, size_t max, struct frame *fr)
{
	uint32_t n;

	memset(fr, 0, sizeof(*fr));
	fr->kind = FRAME_LENGTH;
	if (rx->len < FRAME_LENGTH_PREFIX)
		return FRAME_NEED_MORE;
	n = load_u32be(rx->data);
	if (n > max)
		return FRAME_TOO_LARGE;
	if (rx->len - FRAME_LENGTH_PREFIX < n)
		return FRAME_NEED_MORE;
	fr->offset = FRAME_LENGTH_PREFIX;
	fr->len = n;
	fr->end = FRAME_LENGTH_PREFIX + (size_t)n;
	return FRAME_READY;
}

/*
 * With length framing a bare object is still accepted: a daemon refusing
 * a connection (`busy`) answers before it has seen our framing.
 * Afterwards the skipped whitespace is gone from the buffer, so `end`
 * counts from the message's first byte.
 */
static enum frame_result
scan(struct enclave_client *c, struct frame_scanner *sc, struct frame *fr)
{
	enum frame_result r;

	if (c->opts.framing == ENCLAVE_FRAMING_LEN && sc->kind == FRAME_NONE &&
	    c->rx.data[0] != '{')
		return scan_length(&c->rx, c->opts.max_response, fr);
	r = frame_scan(sc, c->rx.data, c->rx.len, c->opts.max_response, fr);
	buf_consume(&c->rx, fr->skip);
	fr->end -= fr->skip;
	fr->skip = 0;
	return r;
}

/*
 * One request, one response: anything but whitespace after it was sent
 * unasked, and would be taken for the next answer.
 */
static int
finish(struct enclave_client *c, const struct frame *fr, size_t limit)
{
	uint8_t *nul;
	size_t i;

	for (i = fr->end; i < c->rx.len; i++)
		if (!frame_is_space(c->rx.data[i]))
			return client_set_error(c, ENCLAVE_ERR_PROTOCOL,
			    "unexpected bytes after the enclave's response");
	buf_truncate(&c->rx, fr->end);
	/* The terminator is written but not committed: it stays past len. */
	if ((nul = buf_tail(&c->rx, 1, limit)) == NULL)
		return client_set_error(c, ENCLAVE_ERR_NOMEM, "out of memory");
	*nul = '\0';
	c->resp = (const char *)c->rx.data + fr->offset;
	c->resp_len = fr->len;
	return ENCLAVE_OK;
}

static int
closed(struct enclave_client *c)
{
	return client_set_error(c, ENCLAVE_ERR_IO,
	    c->rx.len > 0 ? "the enclave closed the connection in the middle "
	    "of a response" : "the enclave closed the connection");
}

/*
 * Read until one whole response is buffered. The buffer never holds more
 * than the largest allowed response plus its prefix and a terminator, so
 * a daemon (or anything else on the port) cannot make us allocate more.
 */
int
client_recv(struct enclave_client *c, long long deadline)
{
	struct frame_scanner sc;
	struct frame fr;
	enum frame_result r;
	size_t limit, room;
	uint8_t *dst;
	ssize_t n;
	int rc;

	frame_reset(&sc);
	/* max_response is at most ENCLAVE_MAX_RESPONSE_CEILING (client.c). */
	if (size_add(c->opts.max_response, FRAME_LENGTH_PREFIX + 1, &limit) < 0)
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "max_response %zu is too large", c->opts.max_response);
	for (;;) {
		if (c->rx.len > 0) {
			r = scan(c, &sc, &fr);
			if (c->opts.framing == ENCLAVE_FRAMING_RAW &&
			    sc.kind == FRAME_LENGTH)
				return client_set_error(c, ENCLAVE_ERR_PROTOCOL,
				    "the enclave's answer is not a JSON object "
				    "(first byte 0x%02x)", c->rx.data[0]);
			if (r == FRAME_READY)
				return finish(c, &fr, limit);
			if (r == FRAME_TOO_LARGE)
				return client_set_error(c, ENCLAVE_ERR_PROTOCOL,
				    "the enclave's response is larger than "
				    "%zu bytes", c->opts.max_response);
		}
		if (c->rx.len >= limit - 1)
			return client_set_error(c, ENCLAVE_ERR_PROTOCOL,
			    "the enclave's response is larger than %zu bytes",
			    c->opts.max_response);
		room = c->rx.cap - c->rx.len;
		if (room < RX_CHUNK)
			room = RX_CHUNK;
		if (room > limit - 1 - c->rx.len)
			room = limit - 1 - c->rx.len;
		if ((dst = buf_tail(&c->rx, room, limit)) == NULL)
			return client_set_error(c, ENCLAVE_ERR_NOMEM,
			    "out of memory for a %zu-byte response",
			    c->rx.len + room);
		if ((rc = client_wait(c, POLLIN, deadline)) < 0)
			return rc;
		n = recv(c->fd, dst, room, MSG_DONTWAIT);
		if (n == 0)
			return closed(c);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return client_set_error(c, ENCLAVE_ERR_IO,
			    "receiving from the enclave: %s", strerror(errno));
		}
		if (buf_commit(&c->rx, (size_t)n) < 0)
			return client_set_error(c, ENCLAVE_ERR_IO,
			    "recv returned %zd bytes for %zu", n, room);
	}
}
