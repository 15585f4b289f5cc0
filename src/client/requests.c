/*
 * requests.c - the small requests: ping, health, configure, forget.
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

/*
 * Send the request built in b, free b (wiping it when it held a secret:
 * configure's credentials), and expect {"status":"ok"}: the tail every
 * request without an answer of its own shares.
 */
static int
exchange_expecting_ok(struct enclave_client *c, struct buf *b, int wipe,
    const char *what)
{
	struct iovec iov = { .iov_base = b->data, .iov_len = b->len };
	cJSON *root;
	int rc;

	rc = client_exchange(c, &iov, 1, &root);
	buf_free(b, wipe);
	if (rc < 0)
		return rc;
	return expect_status(c, root, "ok", what);
}

struct field {
	const char *name;	/* plain ASCII, written as it is */
	const char *value;	/* escaped, unless raw */
	int         raw;	/* value is JSON already (the context object) */
};

static int
field_len(const struct field *f, size_t *lit)
{
	if (f->raw) {
		*lit = strlen(f->value);
		return 0;
	}
	return json_string_len(f->value, strlen(f->value), lit);
}

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
	char *start, *p;

	for (i = 0; i < nf; i++) {
		/* ,"name":literal */
		if (field_len(&f[i], &lit) < 0 ||
		    size_add(total, lit + strlen(f[i].name) + 4, &total) < 0)
			return client_set_error(c, ENCLAVE_ERR_USAGE,
			    "configure request too large");
	}
	if ((start = (char *)buf_tail(b, total, total)) == NULL)
		return client_set_error(c, ENCLAVE_ERR_NOMEM, "out of memory");
	p = start;
	memcpy(p, head, sizeof(head) - 1);
	p += sizeof(head) - 1;
	for (i = 0; i < nf; i++) {
		*p++ = ',';
		*p++ = '"';
		memcpy(p, f[i].name, strlen(f[i].name));
		p += strlen(f[i].name);
		*p++ = '"';
		*p++ = ':';
		if (f[i].raw) {
			memcpy(p, f[i].value, strlen(f[i].value));
			p += strlen(f[i].value);
		} else {
			p = json_string_write(p, f[i].value, strlen(f[i].value));
		}
	}
	*p++ = '}';
	if (buf_commit(b, (size_t)(p - start)) < 0)
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "configure request longer than counted");
	return ENCLAVE_OK;
}

static int
missing(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* {"K":"V",...} of the encryption context (not secret), in `out`. */
static int
context_json(struct enclave_client *c,
    const struct enclave_configure_options *o, struct buf *out)
{
	const size_t limit = 64 * 1024;
	size_t i;

	if (o->context_len > 0 && (o->context_keys == NULL ||
	    o->context_values == NULL))
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "an encryption context needs its keys and values");
	if (buf_append_str(out, "{", limit) < 0)
		goto nomem;
	for (i = 0; i < o->context_len; i++) {
		const char *k = o->context_keys[i], *v = o->context_values[i];

		if (k == NULL || v == NULL)
			return client_set_error(c, ENCLAVE_ERR_USAGE,
			    "an encryption context pair is missing");
		if ((i > 0 && buf_append_str(out, ",", limit) < 0) ||
		    json_append_string(out, (const uint8_t *)k, strlen(k),
		    limit) < 0 || buf_append_str(out, ":", limit) < 0 ||
		    json_append_string(out, (const uint8_t *)v, strlen(v),
		    limit) < 0)
			goto nomem;
	}
	if (buf_append_str(out, "}", limit) < 0 ||
	    buf_append(out, "", 1, limit) < 0)
		goto nomem;
	return ENCLAVE_OK;
nomem:
	return client_set_error(c, ENCLAVE_ERR_USAGE,
	    "encryption context too large");
}

int
enclave_configure(struct enclave_client *c, const char *encrypted_tsk,
    const struct enclave_credentials *creds, const char *region)
{
	struct enclave_configure_options o = { .region = region };

	return enclave_configure_ex(c, encrypted_tsk, creds, &o);
}

int
enclave_configure_ex(struct enclave_client *c, const char *encrypted_tsk,
    const struct enclave_credentials *creds,
    const struct enclave_configure_options *options)
{
	const struct enclave_configure_options none = { 0 };
	const struct enclave_configure_options *o = options ? options : &none;
	struct field f[8];
	struct buf b = BUF_INIT, ctx = BUF_INIT;
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
	f[nf++] = (struct field){ "encrypted_tsk", encrypted_tsk, 0 };
	f[nf++] = (struct field){ "aws_access_key_id", creds->access_key_id, 0 };
	f[nf++] = (struct field){ "aws_secret_access_key",
	    creds->secret_access_key, 0 };
	f[nf++] = (struct field){ "aws_session_token", creds->session_token, 0 };
	if (!missing(o->region))
		f[nf++] = (struct field){ "region", o->region, 0 };
	if (!missing(o->key_id))
		f[nf++] = (struct field){ "key_id", o->key_id, 0 };
	if (!missing(o->kms_key_id))
		f[nf++] = (struct field){ "kms_key_id", o->kms_key_id, 0 };
	if (o->context_len > 0) {
		if ((rc = context_json(c, o, &ctx)) < 0) {
			buf_free(&ctx, 0);
			return rc;
		}
		f[nf++] = (struct field){ "encryption_context",
		    (const char *)ctx.data, 1 };
	}
	rc = build_configure(c, f, nf, &b);
	buf_free(&ctx, 0);
	if (rc < 0) {
		buf_free(&b, 1);
		return rc;
	}
	return exchange_expecting_ok(c, &b, 1, "configure");
}

int
enclave_forget(struct enclave_client *c, const char *key_id)
{
	static const char head[] = "{\"type\":\"forget\",\"key_id\":";
	struct buf b = BUF_INIT;

	client_clear_error(c);
	if (missing(key_id))
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "forget needs a key id");
	if (buf_append_str(&b, head, 4096) < 0 ||
	    json_append_string(&b, (const uint8_t *)key_id, strlen(key_id),
	    4096) < 0 || buf_append_str(&b, "}", 4096) < 0) {
		buf_free(&b, 0);
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "forget: key id too long");
	}
	return exchange_expecting_ok(c, &b, 0, "forget");
}
