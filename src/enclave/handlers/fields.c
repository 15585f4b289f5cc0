/*
 * fields.c - reading a parsed request's top-level fields (handlers.h): the
 * one member lookup every field goes through, and string fields as the
 * spec sees them, U+0000 included. request.c reads "type" with them, each
 * handler the rest.
 */
#include "enclave/handlers/handlers.h"

#include <string.h>

#include "common/json_parse.h"
#include "common/json_scan.h"

const cJSON *
request_member(const struct request *req, const char *name)
{
	return json_member(req->root, name);
}

int
request_string_exact(const struct request *req, const char *name,
    struct buf *out)
{
	return json_string_exact(req->msg, req->msg_len, name, out);
}

/*
 * A string field as the spec sees it: absent, null or "" is missing,
 * another JSON type is wrong. cJSON's C string stops at a NUL, so when the
 * message escapes U+0000 the field's true bytes are decoded to check.
 */
enum field_state
request_string_field(const struct request *req, const char *name,
    const char **out)
{
	const cJSON *item = request_member(req, name);
	enum field_state state = FIELD_OK;

	*out = NULL;
	if (item == NULL || cJSON_IsNull(item))
		return FIELD_MISSING;
	if (!cJSON_IsString(item))
		return FIELD_WRONG_TYPE;
	if (req->msg_has_nul) {
		struct buf exact = BUF_INIT;

		if (request_string_exact(req, name, &exact) < 0 ||
		    (exact.len > 0 && memchr(exact.data, '\0', exact.len) != NULL))
			state = FIELD_HAS_NUL;
		buf_free(&exact, 1);
		if (state != FIELD_OK)
			return state;
	}
	if (item->valuestring[0] == '\0')
		return FIELD_MISSING;
	*out = item->valuestring;
	return FIELD_OK;
}
