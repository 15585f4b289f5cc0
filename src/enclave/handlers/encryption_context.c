/*
 * encryption_context.c - configure's optional "encryption_context": an
 * object of string to string, handed to KMS Decrypt as its
 * EncryptionContext (both backends).
 *
 * The pairs point into the request's cJSON tree, so they live as long as
 * the request. Everything KMS or the KMS tool could read differently is
 * refused here: a name with '=' or U+0000, a value with U+0000, a name
 * given twice, more pairs or bytes than kms.h allows.
 */
#include "enclave/handlers/handlers.h"

#include <string.h>

#include "common/json_scan.h"

/* 1 when the member's raw text escapes U+0000 in some name or value. */
static int
context_has_nul(const struct request *req)
{
	struct json_member m;
	int has_nul = 0;

	if (!req->msg_has_nul)
		return 0;
	if (json_find_member(req->msg, req->msg_len, "encryption_context",
	    &m) < 0 || json_check_text(m.value.data, m.value.len,
	    &has_nul) < 0)
		return 1;
	return has_nul;
}

static int
context_bad(struct reply *reply, const char *why)
{
	reply_error(reply, WIRE_INVALID_FIELD, "encryption_context %s", why);
	return -1;
}

int
request_encryption_context(const struct request *req,
    struct kms_context *out, struct reply *reply)
{
	const cJSON *ec, *item;
	size_t total = 0, i;

	out->n = 0;
	ec = request_member(req, "encryption_context");
	if (ec == NULL || cJSON_IsNull(ec))
		return 0;
	if (!cJSON_IsObject(ec))
		return context_bad(reply, "must be an object of strings");
	if (context_has_nul(req))
		return context_bad(reply, "contains a NUL character");
	cJSON_ArrayForEach(item, ec) {
		if (!cJSON_IsString(item))
			return context_bad(reply, "values must be strings");
		if (!kms_context_key_valid(item->string, strlen(item->string)))
			return context_bad(reply, "names must be 1 to 128 "
			    "characters without '='");
		if (out->n == KMS_CONTEXT_PAIRS_MAX)
			return context_bad(reply, "has more than 16 pairs");
		total += strlen(item->string) + strlen(item->valuestring);
		if (total > KMS_CONTEXT_BYTES_MAX)
			return context_bad(reply, "is longer than 4096 bytes");
		for (i = 0; i < out->n; i++)
			if (strcmp(out->pair[i].key, item->string) == 0)
				return context_bad(reply, "names a key twice");
		out->pair[out->n].key = item->string;
		out->pair[out->n].value = item->valuestring;
		out->n++;
	}
	return 0;
}
