/*
 * wire_error.c - the protocol's error codes (see wire_error.h).
 *
 * The HTTP statuses are the gateway's answer to an enclave's error
 * (src/host/gateway/errors.h says why each): 400 a malformed request or
 * a key nobody holds, 403 a re-encryption the input key's holder did
 * not allow, 413 too large, 422 a request that will never succeed, 503
 * the service (not the request) is the problem, 502 the enclave failed.
 */
#include "common/wire_error.h"

#include <string.h>

struct wire_error_entry {
	const char *code;
	int         http_status;
	const char *meaning;
};

static const struct wire_error_entry table[WIRE_ERROR_COUNT] = {
	[WIRE_INVALID_JSON] = { "invalid_json", 400,
	    "not a JSON object, no string type, or not I-JSON" },
	[WIRE_MISSING_FIELDS] = { "missing_fields", 400,
	    "a required field absent, null or empty" },
	[WIRE_INVALID_FIELD] = { "invalid_field", 400,
	    "a field of the wrong JSON type or an unusable value" },
	[WIRE_UNKNOWN_TYPE] = { "unknown_type", 400,
	    "type names no request" },
	[WIRE_TOO_LARGE] = { "too_large", 413,
	    "the message is over --max-message" },
	[WIRE_BUSY] = { "busy", 503,
	    "the daemon is at its connection or memory limit" },
	[WIRE_NOT_CONFIGURED] = { "not_configured", 503,
	    "no key yet" },
	[WIRE_UNKNOWN_KEY] = { "unknown_key", 400,
	    "no key with that id" },
	[WIRE_TOO_MANY_KEYS] = { "too_many_keys", 503,
	    "--max-keys ids held, or too many distinct keys counted" },
	[WIRE_INVALID_HEX] = { "invalid_hex", 400,
	    "odd length or a non-hex character" },
	[WIRE_INVALID_CIPHERTEXT] = { "invalid_ciphertext", 400,
	    "the ciphertext decodes to fewer than 28 bytes" },
	[WIRE_DECRYPT_FAILED] = { "decrypt_failed", 422,
	    "the tag does not verify: wrong key, tampered data or aad" },
	[WIRE_STEP_FAILED] = { "step_failed", 422,
	    "the workflow step refused its input" },
	[WIRE_GRANT_REQUIRED] = { "grant_required", 403,
	    "the result key is not the input key and no grant was given" },
	[WIRE_GRANT_INVALID] = { "grant_invalid", 403,
	    "the grant is expired, names another result key or is forged" },
	[WIRE_KEY_EXHAUSTED] = { "key_exhausted", 503,
	    "the key sealed --max-encryptions messages" },
	[WIRE_KMS_DECRYPT_FAILED] = { "kms_decrypt_failed", 503,
	    "KMS refused or failed the decrypt" },
	[WIRE_KMS_TIMEOUT] = { "kms_timeout", 503,
	    "KMS gave no answer within --kms-timeout" },
	[WIRE_INVALID_KEY] = { "invalid_key", 503,
	    "KMS returned a plaintext that is not 32 bytes" },
	[WIRE_ATTESTATION_UNAVAILABLE] = { "attestation_unavailable",
	    WIRE_HTTP_UNKNOWN, "no NSM device, or the NSM failed" },
	[WIRE_INTERNAL_ERROR] = { "internal_error", 502,
	    "out of memory, or the KMS tool could not be run" },
};

static const struct wire_error_entry *
entry(enum wire_error e)
{
	if ((unsigned)e >= WIRE_ERROR_COUNT)
		e = WIRE_INTERNAL_ERROR;
	return &table[e];
}

const char *
wire_error_code(enum wire_error e)
{
	return entry(e)->code;
}

const char *
wire_error_meaning(enum wire_error e)
{
	return entry(e)->meaning;
}

int
wire_error_http_status(enum wire_error e)
{
	return entry(e)->http_status;
}

int
wire_error_lookup(const char *code, enum wire_error *out)
{
	unsigned i;

	if (code == NULL)
		return -1;
	for (i = 0; i < WIRE_ERROR_COUNT; i++) {
		if (strcmp(table[i].code, code) == 0) {
			*out = (enum wire_error)i;
			return 0;
		}
	}
	return -1;
}

int
wire_error_is(const char *code, enum wire_error e)
{
	enum wire_error got;

	return wire_error_lookup(code, &got) == 0 && got == e;
}
