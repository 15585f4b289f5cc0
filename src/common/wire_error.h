/*
 * wire_error.h - the protocol's error codes, in one table.
 *
 * An error response is {"status":"error","msg":CODE,"details":TEXT}
 * (docs/protocol.md, "Error codes at a glance"). The daemon answers with
 * an enum wire_error, never a string of its own; the client, enclavectl
 * and the gateway compare a received code against the same table; the
 * gateway takes its HTTP status for an enclave's error from it.
 */
#ifndef COMMON_WIRE_ERROR_H
#define COMMON_WIRE_ERROR_H

/* In the order of docs/protocol.md's table. */
enum wire_error {
	WIRE_INVALID_JSON,
	WIRE_MISSING_FIELDS,
	WIRE_INVALID_FIELD,
	WIRE_UNKNOWN_TYPE,
	WIRE_TOO_LARGE,
	WIRE_BUSY,
	WIRE_NOT_CONFIGURED,
	WIRE_UNKNOWN_KEY,
	WIRE_TOO_MANY_KEYS,
	WIRE_INVALID_HEX,
	WIRE_INVALID_CIPHERTEXT,
	WIRE_DECRYPT_FAILED,
	WIRE_STEP_FAILED,
	WIRE_GRANT_REQUIRED,
	WIRE_GRANT_INVALID,
	WIRE_KEY_EXHAUSTED,
	WIRE_KMS_DECRYPT_FAILED,
	WIRE_KMS_TIMEOUT,
	WIRE_INVALID_KEY,
	WIRE_ATTESTATION_UNAVAILABLE,
	WIRE_INTERNAL_ERROR,
	WIRE_ERROR_COUNT
};

/* The HTTP status the gateway gives a code it does not know. */
#define WIRE_HTTP_UNKNOWN 502

/* The code as it travels in `msg`, e.g. "not_configured". */
const char *wire_error_code(enum wire_error e);
/* What it means, in a few words (docs/protocol.md). */
const char *wire_error_meaning(enum wire_error e);
/* The status enclave-gateway answers an enclave's error with. */
int         wire_error_http_status(enum wire_error e);
/* The code named `code`: 0 and *out, or -1 when no such code exists. */
int         wire_error_lookup(const char *code, enum wire_error *out);
/* 1 when the received `code` (may be NULL) is `e`. */
int         wire_error_is(const char *code, enum wire_error e);

#endif
