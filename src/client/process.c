/*
 * process.c - the process request, written around the caller's hex.
 *
 * The ciphertext is the one large thing a client sends (up to the
 * daemon's 64 MiB limit). Hex needs no escaping, so the request goes out
 * as pieces gathered by sendmsg: head, the caller's own bytes, tail. No
 * copy of the ciphertext is made, neither into a buffer nor into cJSON.
 */
#include "client/client_internal.h"

#include <stdint.h>
#include <string.h>

#include "common/aead.h"
#include "common/guard.h"

static const char head[] = "{\"type\":\"process\",\"ciphertext\":";
static const char quote[] = "\"";

/* One optional string member of the tail. */
struct tail_field {
	const char *name;	/* plain ASCII */
	const char *value;	/* NULL or "": left out */
};

/*
 * ,"aad":literal,"key_id":literal,...} after the closing quote of the
 * ciphertext (if plain): only what is given.
 */
static int
build_tail(struct enclave_client *c, int close_quote,
    const struct tail_field *f, size_t nf, struct buf *tail)
{
	size_t total = (size_t)close_quote + 1, lit, i;
	char *start, *p;

	for (i = 0; i < nf; i++) {
		if (f[i].value == NULL || f[i].value[0] == '\0')
			continue;
		/* ,"name":literal */
		if (json_string_len(f[i].value, strlen(f[i].value), &lit) < 0 ||
		    size_add(total, lit + strlen(f[i].name) + 4, &total) < 0)
			return client_set_error(c, ENCLAVE_ERR_USAGE,
			    "%s too large", f[i].name);
	}
	if ((start = (char *)buf_tail(tail, total, total)) == NULL)
		return client_set_error(c, ENCLAVE_ERR_NOMEM, "out of memory");
	p = start;
	if (close_quote)
		*p++ = '"';
	for (i = 0; i < nf; i++) {
		if (f[i].value == NULL || f[i].value[0] == '\0')
			continue;
		*p++ = ',';
		*p++ = '"';
		memcpy(p, f[i].name, strlen(f[i].name));
		p += strlen(f[i].name);
		*p++ = '"';
		*p++ = ':';
		p = json_string_write(p, f[i].value, strlen(f[i].value));
	}
	*p++ = '}';
	if (buf_commit(tail, (size_t)(p - start)) < 0)
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "request tail longer than counted");
	return ENCLAVE_OK;
}

/*
 * Text that is not plain (a quote, a backslash, a control byte) cannot go
 * between quotes as it is; escape it, and let the enclave answer
 * `invalid_hex`, so the caller hears the protocol's own verdict.
 */
static int
escape_ciphertext(struct enclave_client *c, const char *hex, size_t n,
    struct buf *esc)
{
	size_t lit;
	char *dst, *end;

	if (json_string_len(hex, n, &lit) < 0)
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "ciphertext too large");
	if ((dst = (char *)buf_tail(esc, lit, lit)) == NULL)
		return client_set_error(c, ENCLAVE_ERR_NOMEM, "out of memory");
	end = json_string_write(dst, hex, n);
	if (buf_commit(esc, (size_t)(end - dst)) < 0)
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "escaped ciphertext longer than counted");
	return ENCLAVE_OK;
}

/* Take the result string out of the parsed answer instead of copying it. */
static int
take_result(struct enclave_client *c, cJSON *root, char **result,
    size_t *result_len)
{
	cJSON *item = json_member(root, "result");
	const char *status = json_string_field(root, "status");
	size_t len;

	if (status == NULL || strcmp(status, "ok") != 0 ||
	    !cJSON_IsString(item) || item->valuestring == NULL) {
		cJSON_Delete(root);
		return client_fail(c, ENCLAVE_ERR_PROTOCOL,
		    "unexpected answer to process (no status \"ok\" with a "
		    "string result)");
	}
	len = strlen(item->valuestring);
	if (len % 2 != 0 || len < 2 * AEAD_OVERHEAD ||
	    strspn(item->valuestring, "0123456789abcdefABCDEF") != len) {
		cJSON_Delete(root);
		return client_fail(c, ENCLAVE_ERR_PROTOCOL,
		    "the enclave's result is not hex of nonce || ct || tag");
	}
	*result = item->valuestring;
	item->valuestring = NULL;
	if (result_len != NULL)
		*result_len = len;
	cJSON_Delete(root);
	return ENCLAVE_OK;
}

int
enclave_process(struct enclave_client *c, const char *hex, size_t hex_len,
    const char *aad, char **result, size_t *result_len)
{
	struct enclave_process_options o = { .aad = aad };

	return enclave_process_ex(c, hex, hex_len, &o, result, result_len);
}

int
enclave_process_ex(struct enclave_client *c, const char *hex, size_t hex_len,
    const struct enclave_process_options *options, char **result,
    size_t *result_len)
{
	const struct enclave_process_options none = { 0 };
	const struct enclave_process_options *o = options ? options : &none;
	const struct tail_field fields[] = {
		{ "aad", o->aad },
		{ "key_id", o->key_id },
		{ "result_key_id", o->result_key_id },
		{ "grant", o->grant },
	};
	struct buf esc = BUF_INIT, tail = BUF_INIT;
	struct iovec iov[4];
	cJSON *root;
	int n = 0, plain, rc;

	client_clear_error(c);
	if (result_len != NULL)
		*result_len = 0;
	if (result == NULL || (hex == NULL && hex_len > 0))
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "process needs a ciphertext and a place for the result");
	*result = NULL;
	plain = json_string_plain(hex, hex_len);
	iov[n].iov_base = (void *)(uintptr_t)head;
	iov[n++].iov_len = sizeof(head) - 1;
	if (plain) {
		iov[n].iov_base = (void *)(uintptr_t)quote;
		iov[n++].iov_len = 1;
		iov[n].iov_base = (void *)(uintptr_t)hex;
		iov[n++].iov_len = hex_len;
	} else {
		GUARD_GOTO(rc = escape_ciphertext(c, hex, hex_len, &esc), done);
		iov[n].iov_base = esc.data;
		iov[n++].iov_len = esc.len;
	}
	GUARD_GOTO(rc = build_tail(c, plain, fields, ARRAY_LEN(fields), &tail),
	    done);
	iov[n].iov_base = tail.data;
	iov[n++].iov_len = tail.len;
	rc = client_exchange(c, iov, n, &root);
	if (rc == ENCLAVE_OK)
		rc = take_result(c, root, result, result_len);
done:
	buf_free(&esc, 0);
	buf_free(&tail, 0);
	return rc;
}
