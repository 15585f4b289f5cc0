/*
 * credentials.c - the credential set and its environment source (see
 * credentials.h).
 */
#include "host/credentials/credentials.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/guard.h"

int
host_credentials_source_parse(const char *s, enum host_credentials_source *out)
{
	if (strcmp(s, "env") == 0)
		*out = HOST_CREDS_ENV;
	else if (strcmp(s, "imds") == 0)
		*out = HOST_CREDS_IMDS;
	else
		return -1;
	return 0;
}

/* A NUL-terminated secret: enclave_configure() takes C strings. */
static int
secret_string(struct secret *s, const char *v, size_t n)
{
	GUARD(secret_alloc(s, n + 1));
	memcpy(s->data, v, n);
	s->data[n] = '\0';
	s->len = n;
	return 0;
}

/*
 * Name every missing variable at once, so one run tells the operator all
 * that is wrong rather than one variable per attempt.
 */
int
host_credentials_from_env(struct host_credentials *out, int wipe_env,
    struct reason *why)
{
	static const char *const names[] = { "AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN" };
	struct secret *dst[3];
	char *v[3];
	char missing[128] = "";
	size_t i;

	dst[0] = &out->access_key_id;
	dst[1] = &out->secret_access_key;
	dst[2] = &out->session_token;
	host_credentials_clear(out);
	for (i = 0; i < 3; i++) {
		v[i] = getenv(names[i]);
		if (v[i] == NULL || v[i][0] == '\0') {
			if (missing[0] != '\0')
				strcat(missing, ", ");
			strcat(missing, names[i]);
		}
	}
	if (missing[0] != '\0') {
		reason_fail(why, "credentials come from the environment;"
		    " not set: %s", missing);
		return -1;
	}
	for (i = 0; i < 3; i++) {
		if (secret_string(dst[i], v[i], strlen(v[i])) < 0) {
			host_credentials_clear(out);
			reason_fail(why, "out of secure memory");
			return -1;
		}
	}
	if (wipe_env)
		for (i = 0; i < 3; i++)
			OPENSSL_cleanse(v[i], strlen(v[i]));
	out->expiration = 0;
	return 0;
}

int
host_credentials_fetch(struct host_credentials *out,
    enum host_credentials_source source, int wipe_env, int timeout_ms,
    struct reason *why)
{
	if (source == HOST_CREDS_IMDS)
		return host_credentials_from_imds(out, NULL, timeout_ms, why);
	return host_credentials_from_env(out, wipe_env, why);
}

int
host_credentials_copy(struct host_credentials *dst,
    const struct host_credentials *src)
{
	host_credentials_clear(dst);
	if (secret_string(&dst->access_key_id,
	    (const char *)src->access_key_id.data, src->access_key_id.len) < 0 ||
	    secret_string(&dst->secret_access_key,
	    (const char *)src->secret_access_key.data,
	    src->secret_access_key.len) < 0 ||
	    secret_string(&dst->session_token,
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

/* Internal to libhost: imds_parse.c shares it. */
int host_credentials_secret_string(struct secret *s, const char *v, size_t n);
int
host_credentials_secret_string(struct secret *s, const char *v, size_t n)
{
	return secret_string(s, v, n);
}
