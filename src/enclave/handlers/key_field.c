/*
 * key_field.c - the key id members of configure, process and forget.
 *
 * A key id names a key in the keystore and comes back in health and in
 * the gateway's metrics, so it is held to a plain alphabet
 * (keystore.h): anything else is refused, never cleaned up.
 */
#include "enclave/handlers/handlers.h"

#include "enclave/keystore.h"

int
request_key_id_field(const struct request *req, const char *name,
    const char **out, struct reply *reply)
{
	const cJSON *item = request_member(req, name);
	const char *text;

	*out = NULL;
	if (item == NULL || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsString(item)) {
		reply_error(reply, WIRE_INVALID_FIELD, "%s must be a string", name);
		return -1;
	}
	if (request_string_field(req, name, &text) == FIELD_HAS_NUL) {
		reply_error(reply, WIRE_INVALID_FIELD,
		    "%s contains a NUL character", name);
		return -1;
	}
	if (!key_id_valid(item->valuestring, strlen(item->valuestring))) {
		reply_error(reply, WIRE_INVALID_FIELD, "%s must be 1 to %d "
		    "characters from A-Z a-z 0-9 . _ -", name, KEY_ID_MAX);
		return -1;
	}
	*out = item->valuestring;
	return 0;
}

void
reply_key_error(struct reply *reply, enum keystore_status st,
    const char *key_id)
{
	switch (st) {
	case KEYSTORE_NOT_CONFIGURED:
		reply_error(reply, WIRE_NOT_CONFIGURED,
		    "no key yet: send a configure request first");
		break;
	case KEYSTORE_UNKNOWN_KEY:
		reply_error(reply, WIRE_UNKNOWN_KEY,
		    "the enclave holds no key \"%s\"", key_id);
		break;
	case KEYSTORE_TOO_MANY_KEYS:
		reply_error(reply, WIRE_TOO_MANY_KEYS, "the enclave holds its "
		    "limit of keys (--max-keys): forget one first");
		break;
	case KEYSTORE_HISTORY_FULL:
		reply_error(reply, WIRE_TOO_MANY_KEYS, "the enclave has counted "
		    "all the distinct keys it can remember; restart it to "
		    "configure new ones");
		break;
	case KEYSTORE_OK:
	case KEYSTORE_INVALID:
	case KEYSTORE_NO_MEMORY:
		reply_error(reply, WIRE_INTERNAL_ERROR, "cannot install the key");
		break;
	}
}
