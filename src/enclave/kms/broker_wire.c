/*
 * broker_wire.c - encoding and bounds-checked decoding of broker messages.
 */
#include "enclave/kms/broker_wire.h"

#include <string.h>

#include "common/guard.h"

/* A read cursor over a received message. */
struct cursor {
	const uint8_t *p;
	size_t         left;
};

static int
put_field(struct buf *out, const void *data, size_t n)
{
	if (n > UINT32_MAX)
		return -1;
	GUARD(buf_append_u32be(out, (uint32_t)n, BROKER_MESSAGE_MAX));
	return buf_append(out, data, n, BROKER_MESSAGE_MAX);
}

static int
put_string(struct buf *out, const char *s)
{
	return put_field(out, s, strlen(s));
}

static int
get_field(struct cursor *c, const uint8_t **data, size_t *n)
{
	uint32_t len;

	if (c->left < 4)
		return -1;
	len = load_u32be(c->p);
	if (len > c->left - 4)
		return -1;
	*data = c->p + 4;
	*n = len;
	c->p += 4 + (size_t)len;
	c->left -= 4 + (size_t)len;
	return 0;
}

/* A field as a NUL-terminated secret; embedded NULs are refused. */
static int
get_secret_string(struct cursor *c, struct secret *s)
{
	const uint8_t *data;
	size_t n;

	GUARD(get_field(c, &data, &n));
	if (memchr(data, '\0', n) != NULL)
		return -1;
	GUARD(secret_alloc(s, n + 1));
	memcpy(s->data, data, n);
	return 0;
}

int
broker_encode_request(struct buf *out, const struct kms_decrypt_request *req)
{
	GUARD(put_string(out, req->ciphertext_b64));
	GUARD(put_string(out, req->region));
	GUARD(put_string(out, (const char *)req->creds->access_key_id.data));
	GUARD(put_string(out, (const char *)req->creds->secret_access_key.data));
	return put_string(out, (const char *)req->creds->session_token.data);
}

/*
 * The two plain fields are terminated in place: each length prefix that
 * follows a field is consumed before the NUL overwrites its first byte.
 */
int
broker_decode_request(uint8_t *msg, size_t n, struct kms_decrypt_request *req,
    struct kms_credentials *creds)
{
	struct cursor c = { msg, n };
	const uint8_t *ct, *region;
	size_t ct_len, region_len;
	uint8_t *term;

	memset(creds, 0, sizeof(*creds));
	GUARD(get_field(&c, &ct, &ct_len));
	GUARD(get_field(&c, &region, &region_len));
	GUARD(get_secret_string(&c, &creds->access_key_id));
	GUARD(get_secret_string(&c, &creds->secret_access_key));
	GUARD(get_secret_string(&c, &creds->session_token));
	if (c.left != 0 || memchr(ct, '\0', ct_len) != NULL ||
	    memchr(region, '\0', region_len) != NULL)
		return -1;
	/* Fields are followed by at least one more byte (a prefix) or end. */
	term = msg + (ct - msg) + ct_len;
	if (term >= msg + n)
		return -1;
	*term = '\0';
	term = msg + (region - msg) + region_len;
	if (term >= msg + n)
		return -1;
	*term = '\0';
	req->ciphertext_b64 = (const char *)ct;
	req->region = (const char *)region;
	req->creds = creds;
	return 0;
}

int
broker_encode_reply(struct buf *out, const struct kms_result *res)
{
	uint8_t status = (uint8_t)res->status;

	GUARD(buf_append(out, &status, 1, BROKER_MESSAGE_MAX));
	GUARD(put_string(out, res->reason));
	return put_field(out, res->plaintext.data, res->plaintext.len);
}

int
broker_decode_reply(const uint8_t *msg, size_t n, struct kms_result *res)
{
	struct cursor c = { msg + 1, n > 0 ? n - 1 : 0 };
	const uint8_t *reason, *pt;
	size_t reason_len, pt_len;

	memset(res, 0, sizeof(*res));
	if (n < 1 || msg[0] > KMS_INTERNAL)
		return -1;
	GUARD(get_field(&c, &reason, &reason_len));
	GUARD(get_field(&c, &pt, &pt_len));
	if (c.left != 0 || reason_len >= sizeof(res->reason))
		return -1;
	res->status = (enum kms_status)msg[0];
	memcpy(res->reason, reason, reason_len);
	res->reason[reason_len] = '\0';
	if (res->status == KMS_OK)
		GUARD(secret_dup(&res->plaintext, pt, pt_len));
	return 0;
}
