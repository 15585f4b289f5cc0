/*
 * client.c - the client object and its accessors (see enclaveclient/client.h).
 */
#include "client/client_internal.h"

#include <stdlib.h>
#include <string.h>

void
enclave_client_options_init(struct enclave_client_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->framing = ENCLAVE_FRAMING_RAW;
	opts->connect_timeout_ms = ENCLAVE_DEFAULT_CONNECT_TIMEOUT_MS;
	opts->io_timeout_ms = ENCLAVE_DEFAULT_IO_TIMEOUT_MS;
	opts->max_response = ENCLAVE_DEFAULT_MAX_RESPONSE;
}

/*
 * A zero max_response would refuse every answer, and an unknown framing
 * would send bytes the daemon cannot frame: fall back to the defaults
 * rather than fail later with a confusing error. A max_response past the
 * ceiling could ask for no bound at all (SIZE_MAX): it is cut to it.
 */
struct enclave_client *
enclave_client_new(const struct enclave_client_options *opts)
{
	struct enclave_client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (opts != NULL)
		c->opts = *opts;
	else
		enclave_client_options_init(&c->opts);
	if (c->opts.framing != ENCLAVE_FRAMING_LEN)
		c->opts.framing = ENCLAVE_FRAMING_RAW;
	if (c->opts.max_response == 0)
		c->opts.max_response = ENCLAVE_DEFAULT_MAX_RESPONSE;
	if (c->opts.max_response > ENCLAVE_MAX_RESPONSE_CEILING)
		c->opts.max_response = ENCLAVE_MAX_RESPONSE_CEILING;
	c->fd = -1;
	return c;
}

void
enclave_client_free(struct enclave_client *c)
{
	if (c == NULL)
		return;
	enclave_client_close(c);
	buf_free(&c->rx, 0);
	free(c);
}

/* Results come from cJSON's allocator (the string is taken, not copied). */
void
enclave_free(void *p)
{
	if (p != NULL)
		cJSON_free(p);
}

const char *
enclave_client_response(const struct enclave_client *c, size_t *len)
{
	if (len != NULL)
		*len = c->resp != NULL ? c->resp_len : 0;
	return c->resp;
}

const char *
enclave_client_error(const struct enclave_client *c)
{
	return c->error;
}

const char *
enclave_client_remote_code(const struct enclave_client *c)
{
	return c->remote_code;
}

const char *
enclave_client_remote_details(const struct enclave_client *c)
{
	return c->remote_details;
}
