/*
 * requests.c - the small requests: ping, health, configure.
 */
#include "client/client_internal.h"

#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>

/* Send a constant request; *root gets the parsed answer on ENCLAVE_OK. */
static int
simple(struct enclave_client *c, const char *req, cJSON **root)
{
	struct iovec iov;

	iov.iov_base = (void *)(uintptr_t)req;
	iov.iov_len = strlen(req);
	return client_exchange(c, &iov, 1, root);
}

/* A status that is not "error" but not the one expected either. */
static int
expect_status(struct enclave_client *c, cJSON *root, const char *want,
    const char *what)
{
	const char *status = json_string_field(root, "status");
	int ok = status != NULL && strcmp(status, want) == 0;

	cJSON_Delete(root);
	if (!ok)
		return client_fail(c, ENCLAVE_ERR_PROTOCOL,
		    "unexpected answer to %s (status is not \"%s\")", what, want);
	return ENCLAVE_OK;
}

int
enclave_ping(struct enclave_client *c)
{
	cJSON *root;
	int rc;

	if ((rc = simple(c, "{\"type\":\"ping\"}", &root)) < 0)
		return rc;
	return expect_status(c, root, "ok", "ping");
}

int
enclave_health(struct enclave_client *c, const char **json, size_t *json_len)
{
	int rc;

	if (json != NULL)
		*json = NULL;
	if (json_len != NULL)
		*json_len = 0;
	if ((rc = simple(c, "{\"type\":\"health\"}", NULL)) < 0)
		return rc;
	if (json != NULL)
		*json = c->resp;
	if (json_len != NULL)
		*json_len = c->resp_len;
	return ENCLAVE_OK;
}

struct field {
	const char *name;	/* plain ASCII, written as it is */
	const char *value;	/* escaped */
};

/*
 * The request holds the credentials, so it is sized exactly first and
 * written once into one block: growing a buffer with realloc would leave
 * unwiped copies behind in freed memory.
 */
static int
build_configure(struct enclave_client *c, const struct field *f, size_t nf,
    struct buf *b)
{
	static const char head[] = "{\"type\":\"configure\"";
	size_t total = sizeof(head) - 1 + 1, lit, i;
	char *p;

	for (i = 0; i < nf; i++) {
		/* ,"name":literal */
		if (json_string_len(f[i].value, strlen(f[i].value), &lit) < 0 ||
		    size_add(total, lit + strlen(f[i].name) + 4, &total) < 0)
			return client_set_error(c, ENCLAVE_ERR_USAGE,
			    "configure request too large");
	}
	if (buf_reserve(b, total, total) < 0)
		return client_set_error(c, ENCLAVE_ERR_NOMEM, "out of memory");
	p = (char *)b->data;
	memcpy(p, head, sizeof(head) - 1);
	p += sizeof(head) - 1;
	for (i = 0; i < nf; i++) {
		*p++ = ',';
		*p++ = '"';
		memcpy(p, f[i].name, strlen(f[i].name));
		p += strlen(f[i].name);
		*p++ = '"';
		*p++ = ':';
		p = json_string_write(p, f[i].value, strlen(f[i].value));
	}
	*p++ = '}';
	b->len = (size_t)(p - (char *)b->data);
	return ENCLAVE_OK;
}

static int
missing(const char *s)
{
	return s == NULL || s[0] == '\0';
}

int
enclave_configure(struct enclave_client *c, const char *encrypted_tsk,
    const struct enclave_credentials *creds, const char *region)
{
	struct field f[5];
	struct buf b = BUF_INIT;
	struct iovec iov;
	cJSON *root;
	size_t nf = 0;
	int rc;

	client_clear_error(c);
	if (missing(encrypted_tsk))
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "configure needs the encrypted TSK");
	if (creds == NULL || missing(creds->access_key_id) ||
	    missing(creds->secret_access_key) || missing(creds->session_token))
		return client_set_error(c, ENCLAVE_ERR_USAGE, "configure needs "
		    "an access key id, a secret access key and a session token");
	f[nf++] = (struct field){ "encrypted_tsk", encrypted_tsk };
	f[nf++] = (struct field){ "aws_access_key_id", creds->access_key_id };
	f[nf++] = (struct field){ "aws_secret_access_key",
	    creds->secret_access_key };
	f[nf++] = (struct field){ "aws_session_token", creds->session_token };
	if (!missing(region))
		f[nf++] = (struct field){ "region", region };
	if ((rc = build_configure(c, f, nf, &b)) < 0) {
		buf_free(&b, 1);
		return rc;
	}
	iov.iov_base = b.data;
	iov.iov_len = b.len;
	rc = client_exchange(c, &iov, 1, &root);
	buf_free(&b, 1);
	if (rc < 0)
		return rc;
	return expect_status(c, root, "ok", "configure");
}
