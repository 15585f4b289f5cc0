/*
 * broker_wire.c - encoding and bounds-checked decoding of broker messages.
 */
#include "enclave/kms/broker_wire.h"

#include <string.h>

#include "common/guard.h"
#include "common/kms_key_ref.h"

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

/* One length-prefixed field of a received message (buf.h's cursor). */
static int
get_field(struct buf_reader *c, const uint8_t **data, size_t *n)
{
	uint32_t len;

	GUARD(buf_read_u32be(c, &len));
	GUARD_PTR(*data = buf_read(c, len));
	*n = len;
	return 0;
}

/* A field as a NUL-terminated secret; embedded NULs are refused. */
static int
get_secret_string(struct buf_reader *c, struct secret *s)
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
	uint8_t count[4];
	size_t i;

	if (req->context.n > KMS_CONTEXT_PAIRS_MAX)
		return -1;
	store_u32be(count, (uint32_t)req->context.n);
	GUARD(put_string(out, req->ciphertext_b64));
	GUARD(put_string(out, req->region));
	GUARD(put_string(out, req->key_id != NULL ? req->key_id : ""));
	GUARD(put_field(out, count, sizeof(count)));
	for (i = 0; i < req->context.n; i++) {
		GUARD(put_string(out, req->context.pair[i].key));
		GUARD(put_string(out, req->context.pair[i].value));
	}
	GUARD(put_string(out, (const char *)req->creds->access_key_id.data));
	GUARD(put_string(out, (const char *)req->creds->secret_access_key.data));
	return put_string(out, (const char *)req->creds->session_token.data);
}

/* A plain text field, to be terminated in place once all are read. */
struct text_field {
	const uint8_t *data;
	size_t         len;
};

static int
get_text(struct buf_reader *c, struct text_field *f)
{
	GUARD(get_field(c, &f->data, &f->len));
	return memchr(f->data, '\0', f->len) == NULL ? 0 : -1;
}

/*
 * The plain fields (ciphertext, region, context) are terminated in place:
 * each is followed by at least the credentials' length prefixes, consumed
 * before the NUL overwrites a first byte.
 */
static int
decode_request(uint8_t *msg, size_t n, struct kms_decrypt_request *req,
    struct kms_credentials *creds)
{
	struct text_field text[3 + 2 * KMS_CONTEXT_PAIRS_MAX];
	struct buf_reader c = BUF_READER(msg, n);
	const uint8_t *count;
	size_t count_len, pairs, n_text, i;

	memset(creds, 0, sizeof(*creds));
	memset(req, 0, sizeof(*req));
	GUARD(get_text(&c, &text[0]));
	GUARD(get_text(&c, &text[1]));
	GUARD(get_text(&c, &text[2]));
	GUARD(get_field(&c, &count, &count_len));
	if (count_len != 4 || (pairs = load_u32be(count)) > KMS_CONTEXT_PAIRS_MAX)
		return -1;
	n_text = 3 + 2 * pairs;
	for (i = 3; i < n_text; i++)
		GUARD(get_text(&c, &text[i]));
	GUARD(get_secret_string(&c, &creds->access_key_id));
	GUARD(get_secret_string(&c, &creds->secret_access_key));
	GUARD(get_secret_string(&c, &creds->session_token));
	if (buf_read_left(&c) != 0)
		return -1;
	for (i = 0; i < n_text; i++) {
		uint8_t *term = msg + (text[i].data - msg) + text[i].len;

		if (term >= msg + n)
			return -1;
		*term = '\0';
	}
	req->ciphertext_b64 = (const char *)text[0].data;
	req->region = (const char *)text[1].data;
	/* The key goes onto the tool's command line: a key ARN or id only. */
	if (text[2].len > 0) {
		req->key_id = (const char *)text[2].data;
		if (kms_key_ref_check(req->key_id, NULL) < 0)
			return -1;
	}
	req->creds = creds;
	req->context.n = pairs;
	for (i = 0; i < pairs; i++) {
		req->context.pair[i].key = (const char *)text[3 + 2 * i].data;
		req->context.pair[i].value = (const char *)text[4 + 2 * i].data;
		if (!kms_context_key_valid(req->context.pair[i].key,
		    text[3 + 2 * i].len))
			return -1;
	}
	return 0;
}

/* On failure nothing is left allocated: the credentials are wiped. */
int
broker_decode_request(uint8_t *msg, size_t n, struct kms_decrypt_request *req,
    struct kms_credentials *creds)
{
	if (decode_request(msg, n, req, creds) == 0)
		return 0;
	kms_credentials_free(creds);
	return -1;
}

int
broker_encode_reply(struct buf *out, const struct kms_result *res)
{
	uint8_t status = (uint8_t)res->status;

	GUARD(buf_append(out, &status, 1, BROKER_MESSAGE_MAX));
	GUARD(put_string(out, res->reason.text));
	return put_field(out, res->plaintext.data, res->plaintext.len);
}

int
broker_decode_reply(const uint8_t *msg, size_t n, struct kms_result *res)
{
	struct buf_reader c = BUF_READER(msg + 1, n > 0 ? n - 1 : 0);
	const uint8_t *reason, *pt;
	size_t reason_len, pt_len;

	memset(res, 0, sizeof(*res));
	if (n < 1 || msg[0] > KMS_INTERNAL)
		return -1;
	GUARD(get_field(&c, &reason, &reason_len));
	GUARD(get_field(&c, &pt, &pt_len));
	if (buf_read_left(&c) != 0 || reason_len >= sizeof(res->reason.text))
		return -1;
	res->status = (enum kms_status)msg[0];
	memcpy(res->reason.text, reason, reason_len);
	res->reason.text[reason_len] = '\0';
	if (res->status == KMS_OK)
		GUARD(secret_dup(&res->plaintext, pt, pt_len));
	return 0;
}
