/*
 * credential_set.c - one set of AWS credentials in locked memory (see
 * credential_set.h).
 */
#include "host/credentials/credential_set.h"

#include <string.h>

#include "common/guard.h"

int
host_credentials_set_string(struct secret *s, const char *v, size_t n)
{
	GUARD(secret_alloc(s, n + 1));
	memcpy(s->data, v, n);
	s->data[n] = '\0';
	s->len = n;
	return 0;
}

int
host_credentials_copy(struct host_credentials *dst,
    const struct host_credentials *src)
{
	host_credentials_clear(dst);
	if (host_credentials_set_string(&dst->access_key_id,
	    (const char *)src->access_key_id.data, src->access_key_id.len) < 0 ||
	    host_credentials_set_string(&dst->secret_access_key,
	    (const char *)src->secret_access_key.data,
	    src->secret_access_key.len) < 0 ||
	    host_credentials_set_string(&dst->session_token,
	    (const char *)src->session_token.data, src->session_token.len) < 0) {
		host_credentials_clear(dst);
		return -1;
	}
	dst->expiration = src->expiration;
	return 0;
}

void
host_credentials_clear(struct host_credentials *c)
{
	secret_free(&c->access_key_id);
	secret_free(&c->secret_access_key);
	secret_free(&c->session_token);
	c->expiration = 0;
}

int
host_credentials_present(const struct host_credentials *c)
{
	return c->access_key_id.data != NULL && c->access_key_id.len > 0 &&
	    c->secret_access_key.data != NULL &&
	    c->secret_access_key.len > 0 &&
	    c->session_token.data != NULL && c->session_token.len > 0;
}

void
host_credentials_view(const struct host_credentials *c,
    struct enclave_credentials *view)
{
	view->access_key_id = (const char *)c->access_key_id.data;
	view->secret_access_key = (const char *)c->secret_access_key.data;
	view->session_token = (const char *)c->session_token.data;
}
