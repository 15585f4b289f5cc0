/*
 * conn.c - enclavectl's side of the client library: connect per the global
 * options, and turn a failed call into a message and an exit status.
 */
#include <stdio.h>

#include "host/enclavectl/ctl.h"

struct enclave_client *
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
	if ((rc = enclave_client_connect(c, g->endpoint)) < 0) {
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
int
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

int
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
