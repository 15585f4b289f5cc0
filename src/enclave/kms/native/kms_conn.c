/*
 * kms_conn.c - the TLS connection to KMS, every step under one deadline.
 *
 * The socket goes to the parent's vsock-proxy (AF_VSOCK CID 3,
 * --proxy-port), which forwards bytes to kms.<region>.amazonaws.com:443;
 * or, for tests, to --kms-endpoint tcp:HOST:PORT. Either way TLS is end to
 * end and checked the same: SNI and certificate hostname are the KMS host
 * name, the chain must verify to the CA bundle, TLS 1.2 at least, ALPN
 * http/1.1. The socket is non-blocking and every wait is a poll bounded
 * by what is left of --kms-timeout, so a silent proxy or KMS ends as
 * KMS_TIMEOUT, never as a hang.
 *
 * Failures another attempt may not meet return NATIVE_RETRY: the proxy
 * or KMS refusing or resetting the connection, or closing it before a
 * whole response (native.c retries those with backoff). A certificate
 * that does not verify, or a TLS protocol error, is NATIVE_ERR: final.
 */
#include "enclave/kms/native/native_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/endpoint.h"
#include "common/guard.h"
#include "common/timefmt.h"

#define PARENT_CID            3
/* kmstool's own limit for reaching the proxy. */
#define PROXY_CONNECT_MAX_MS  3000

static int
left_ms(const struct kms_conn *c)
{
	long long left = c->deadline - clock_monotonic_ms();

	return left <= 0 ? 0 : left > 1000000 ? 1000000 : (int)left;
}

/* Wait until the TLS layer can go on; NATIVE_TIMEOUT past the deadline. */
static int
wait_for(struct kms_conn *c, int ssl_error)
{
	struct pollfd pfd = { .fd = c->fd };
	int rc, left;

	pfd.events = ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
	for (;;) {
		if ((left = left_ms(c)) == 0)
			return NATIVE_TIMEOUT;
		rc = poll(&pfd, 1, left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return NATIVE_ERR;
	}
}

/*
 * The most useful words for a TLS failure, verification first, and
 * whether it is worth another attempt: a reset or an end of the stream
 * (with or without close_notify) is; a certificate or protocol error is
 * not.
 */
static int
tls_failure(struct kms_conn *c, const char *what, int ssl_error,
    struct reason *reason)
{
	long v = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
	unsigned long e = ERR_peek_last_error();
	const char *why = ERR_reason_error_string(e);
	int saved = errno, transient;

	transient = v == X509_V_OK && (ssl_error == SSL_ERROR_SYSCALL ||
	    ssl_error == SSL_ERROR_ZERO_RETURN || (ssl_error == SSL_ERROR_SSL &&
	    ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING));
	if (v != X509_V_OK)
		reason_fail(reason, "TLS %s with KMS: certificate "
		    "verify failed: %s", what,
		    X509_verify_cert_error_string(v));
	else if (ssl_error == SSL_ERROR_SYSCALL && why == NULL && saved != 0)
		reason_fail(reason, "TLS %s with KMS: %s", what,
		    strerror(saved));
	else
		reason_fail(reason, "TLS %s with KMS: %s", what,
		    why ? why : "connection closed");
	ERR_clear_error();
	return transient ? NATIVE_RETRY : NATIVE_ERR;
}

/* A connect failure that may pass: nobody listening yet, a reset. */
static int
connect_transient(int err)
{
	return err == ECONNREFUSED || err == ECONNRESET ||
	    err == ECONNABORTED || err == ETIMEDOUT;
}

static int
connect_socket(struct kms_conn *c, const struct kms_native_config *cfg,
    unsigned proxy_port, struct reason *reason)
{
	struct endpoint ep;
	struct reason why;
	char name[ENDPOINT_STR_MAX];
	int limit = left_ms(c), flags;

	memset(&ep, 0, sizeof(ep));
	if (cfg->endpoint != NULL) {
		if (endpoint_parse(&ep, cfg->endpoint, 0, &why) < 0) {
			reason_fail(reason, "--kms-endpoint %s: %s",
			    cfg->endpoint, why.text);
			return NATIVE_ERR;
		}
	} else {
		ep.kind = ENDPOINT_VSOCK;
		ep.cid = PARENT_CID;
		ep.port = proxy_port;
		if (limit > PROXY_CONNECT_MAX_MS)
			limit = PROXY_CONNECT_MAX_MS;
	}
	endpoint_format(&ep, name, sizeof(name));
	if (limit == 0)
		return NATIVE_TIMEOUT;
	if ((c->fd = endpoint_connect(&ep, limit)) < 0) {
		int err = errno;

		if (err == ETIMEDOUT && left_ms(c) == 0)
			return NATIVE_TIMEOUT;
		reason_fail(reason, "cannot connect to KMS through "
		    "%s%s: %s", name, cfg->endpoint ? "" : " (the parent's "
		    "vsock-proxy)", strerror(err));
		return connect_transient(err) ? NATIVE_RETRY : NATIVE_ERR;
	}
	flags = fcntl(c->fd, F_GETFL);
	if (flags < 0 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		reason_fail(reason, "socket to KMS: %s",
		    strerror(errno));
		return NATIVE_ERR;
	}
	return 0;
}

static int
tls_setup(struct kms_conn *c, const struct kms_native_config *cfg,
    const char *host, struct reason *reason)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	const char *bundle = ca_bundle_path(cfg->ca_file);

	if (bundle == NULL) {
		reason_fail(reason, "no CA bundle to verify KMS "
		    "(none of the usual paths exists; see --kms-ca-file)");
		return NATIVE_ERR;
	}
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1) {
		reason_fail(reason, "cannot set up TLS");
		return NATIVE_ERR;
	}
	if (SSL_CTX_load_verify_locations(c->ctx, bundle, NULL) != 1) {
		reason_fail(reason, "cannot load the CA bundle %s",
		    bundle);
		ERR_clear_error();
		return NATIVE_ERR;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, host) != 1 ||
	    SSL_set1_host(c->ssl, host) != 1 ||
	    SSL_set_alpn_protos(c->ssl, alpn, sizeof(alpn) - 1) != 0) {
		reason_fail(reason, "cannot set up TLS for %s", host);
		ERR_clear_error();
		return NATIVE_ERR;
	}
	/* A name check only: no partial wildcards such as kms*.amazonaws.com. */
	SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return 0;
}

int
kms_conn_open(struct kms_conn *c, const struct kms_native_config *cfg,
    unsigned proxy_port, const char *host, long long deadline,
    struct reason *reason)
{
	int rc, err;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->deadline = deadline;
	/*
	 * A peer that resets the connection must end as an error to retry,
	 * not as SIGPIPE on the next write (OpenSSL writes with write(2)):
	 * the broker's children keep the default disposition.
	 */
	signal(SIGPIPE, SIG_IGN);
	if ((rc = connect_socket(c, cfg, proxy_port, reason)) < 0)
		return rc;
	if ((rc = tls_setup(c, cfg, host, reason)) < 0)
		return rc;
	for (;;) {
		ERR_clear_error();
		if ((rc = SSL_connect(c->ssl)) == 1)
			return 0;
		err = SSL_get_error(c->ssl, rc);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
			return tls_failure(c, "handshake", err, reason);
		if ((rc = wait_for(c, err)) < 0)
			return rc;
	}
}

int
kms_conn_write(struct kms_conn *c, const uint8_t *p, size_t n,
    struct reason *reason)
{
	size_t done;
	int rc, err;

	while (n > 0) {
		ERR_clear_error();
		if ((rc = SSL_write_ex(c->ssl, p, n, &done)) == 1) {
			p += done;
			n -= done;
			continue;
		}
		err = SSL_get_error(c->ssl, rc);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
			return tls_failure(c, "write", err, reason);
		if ((rc = wait_for(c, err)) < 0)
			return rc;
	}
	return 0;
}

int
kms_conn_read_response(struct kms_conn *c, struct buf *in,
    struct http_response *resp, struct reason *reason)
{
	const size_t limit = NATIVE_HTTP_HEADERS_MAX + NATIVE_HTTP_BODY_MAX;
	size_t got, want;
	uint8_t *room;
	int rc, err;

	for (;;) {
		rc = http_response_parse(in->data, in->len, NATIVE_HTTP_BODY_MAX,
		    resp, reason);
		if (rc != 0)
			return rc > 0 ? 0 : NATIVE_ERR;
		want = limit - in->len < 4096 ? limit - in->len : 4096;
		if ((room = buf_tail(in, want, limit)) == NULL) {
			reason_fail(reason, "HTTP response from KMS "
			    "larger than %zu bytes", limit);
			return NATIVE_ERR;
		}
		ERR_clear_error();
		rc = SSL_read_ex(c->ssl, room, want, &got);
		if (rc == 1) {
			/* SSL_read_ex reads at most `want`: refused past it. */
			if (buf_commit(in, got) < 0) {
				reason_fail(reason, "TLS read %zu bytes into %zu",
				    got, want);
				return NATIVE_ERR;
			}
			continue;
		}
		err = SSL_get_error(c->ssl, rc);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			if ((rc = wait_for(c, err)) < 0)
				return rc;
			continue;
		}
		if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SSL &&
		    ERR_GET_REASON(ERR_peek_last_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
			reason_fail(reason, "KMS closed the connection "
			    "before a whole response (%zu bytes)", in->len);
			ERR_clear_error();
			return NATIVE_RETRY;
		}
		return tls_failure(c, "read", err, reason);
	}
}

void
kms_conn_close(struct kms_conn *c)
{
	if (c->ssl != NULL) {
		/* Best effort close_notify; never waits. */
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	ERR_clear_error();
}
