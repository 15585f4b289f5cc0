/*
 * errors.c - protocol error codes to HTTP statuses (see errors.h for the
 * table and the reasons).
 */
#include "host/gateway/errors.h"

#include <string.h>

#include "common/guard.h"

struct code_status {
	const char *code;
	int         status;
};

static const struct code_status table[] = {
	{ "missing_fields", 400 },
	{ "invalid_field", 400 },
	{ "invalid_hex", 400 },
	{ "invalid_ciphertext", 400 },
	{ "invalid_json", 400 },
	{ "unknown_type", 400 },
	{ "unknown_key", 400 },
	{ "too_large", 413 },
	{ "decrypt_failed", 422 },
	{ "step_failed", 422 },
	{ "not_configured", 503 },
	{ "key_exhausted", 503 },
	{ "busy", 503 },
	{ "kms_decrypt_failed", 503 },
	{ "kms_timeout", 503 },
	{ "invalid_key", 503 },
	{ "too_many_keys", 503 },
	{ "internal_error", 502 },
};

int
gateway_status_for_code(const char *code)
{
	size_t i;

	if (code == NULL)
		return 502;
	for (i = 0; i < ARRAY_LEN(table); i++)
		if (strcmp(table[i].code, code) == 0)
			return table[i].status;
	return 502;
}

int
gateway_status_retryable(int status)
{
	return status == 503;
}
