/*
 * conn.c - enclavectl's side of the client library: connect per the global
 * options, send a command's request with --retry's retries, and turn a
 * failed call into a message and an exit status. Every command that talks
 * to the enclave goes through ctl_call.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "common/wire_error.h"
#include "host/enclavectl/ctl.h"

/*
 * --retry's budget is the whole command's: a connect that fails and a
 * request whose connection breaks draw on the same count (one command
 * runs per process).
 */
static int retries_used;

static int ctl_retry(const struct ctl_global *g, const char *cmd,
    struct enclave_client *c, int rc);
static int ctl_client_failure(const char *cmd, struct enclave_client *c,
    int rc);

/* A connected client per the global options, or NULL (*status says why). */
static struct enclave_client *
ctl_connect(const struct ctl_global *g, const char *cmd, int *status)
{
	struct enclave_client_options opts;
	struct enclave_client *c;
	int rc;

	enclave_client_options_init(&opts);
	opts.framing = g->framing;
	if (g->timeout_ms > 0) {
		opts.connect_timeout_ms = g->timeout_ms;
		opts.io_timeout_ms = g->timeout_ms;
	}
	if ((c = enclave_client_new(&opts)) == NULL) {
		ctl_error(cmd, "out of memory");
		*status = CTL_EXIT_CONN;
		return NULL;
	}
	while ((rc = enclave_client_connect(c, g->endpoint)) < 0 &&
	    ctl_retry(g, cmd, c, rc))
		;
	if (rc < 0) {
		*status = ctl_client_failure(cmd, c, rc);
		enclave_client_free(c);
		return NULL;
	}
	*status = CTL_EXIT_OK;
	return c;
}

/*
 * The exit status tells a script what to do next: 1 the enclave refused
 * (fix the request or configure it), 2 fix the command line, 3 the
 * enclave could not be reached or the exchange broke (retry later).
 */
static int
ctl_client_failure(const char *cmd, struct enclave_client *c, int rc)
{
	switch (rc) {
	case ENCLAVE_ERR_REMOTE:
		ctl_error(cmd, "enclave error: %s%s%s",
		    enclave_client_remote_code(c)[0] ?
		    enclave_client_remote_code(c) : "(no code)",
		    enclave_client_remote_details(c)[0] ? ": " : "",
		    enclave_client_remote_details(c));
		return CTL_EXIT_REMOTE;
	case ENCLAVE_ERR_USAGE:
		return ctl_usage_error(cmd, "%s", enclave_client_error(c));
	default:
		ctl_error(cmd, "%s: %s", enclave_strerror(rc),
		    enclave_client_error(c));
		return CTL_EXIT_CONN;
	}
}

/* Print the last response JSON and a newline on stdout. */
static int
ctl_print_response(const char *cmd, struct enclave_client *c)
{
	size_t len;
	const char *json = enclave_client_response(c, &len);

	if (json == NULL)
		return CTL_EXIT_OK;
	if (ctl_write_all(cmd, 1, json, len) < 0 ||
	    ctl_write_all(cmd, 1, "\n", 1) < 0)
		return CTL_EXIT_USAGE;
	return CTL_EXIT_OK;
}

/* Failures that another attempt may cure; the rest never will. */
static int
transient(struct enclave_client *c, int rc)
{
	return rc == ENCLAVE_ERR_CONNECT || rc == ENCLAVE_ERR_IO ||
	    rc == ENCLAVE_ERR_TIMEOUT || (rc == ENCLAVE_ERR_REMOTE &&
	    wire_error_is(enclave_client_remote_code(c), WIRE_BUSY));
}

/*
 * Exponential backoff from 200 ms, doubling to at most 5 s, with up to a
 * quarter taken off at random, so many clients retrying after one outage
 * do not arrive together.
 */
static int
ctl_retry(const struct ctl_global *g, const char *cmd,
    struct enclave_client *c, int rc)
{
	struct timespec ts;
	unsigned char r = 0;
	long ms = 200;
	int i;

	if (!transient(c, rc) || retries_used >= g->retries)
		return 0;
	for (i = 0; i < retries_used && ms < 5000; i++)
		ms *= 2;
	if (ms > 5000)
		ms = 5000;
	if (RAND_bytes(&r, 1) == 1)
		ms -= ms * r / 1024;
	retries_used++;
	ctl_error(cmd, "%s: %s; retrying in %ld ms (%d of %d)",
	    enclave_strerror(rc), rc == ENCLAVE_ERR_REMOTE ?
	    enclave_client_remote_code(c) : enclave_client_error(c), ms,
	    retries_used, g->retries);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0)
		;
	return 1;
}

/* Connect again after a broken call, retrying the connect as well. */
static int
ctl_reconnect(const struct ctl_global *g, const char *cmd,
    struct enclave_client *c)
{
	int rc;

	while ((rc = enclave_client_reconnect(c)) < 0 && ctl_retry(g, cmd, c, rc))
		;
	return rc;
}

int
ctl_call(const struct ctl_global *g, const char *cmd, ctl_request_fn *request,
    void *arg, int print)
{
	struct enclave_client *c;
	int rc;

	if ((c = ctl_connect(g, cmd, &rc)) == NULL)
		return rc;
	while ((rc = request(c, arg)) < 0 && ctl_retry(g, cmd, c, rc) &&
	    (rc = ctl_reconnect(g, cmd, c)) == 0)
		;
	if (rc < 0)
		rc = ctl_client_failure(cmd, c, rc);
	else
		rc = print ? ctl_print_response(cmd, c) : CTL_EXIT_OK;
	enclave_client_free(c);
	return rc;
}
