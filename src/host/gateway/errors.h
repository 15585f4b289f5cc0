/*
 * errors.h - which HTTP status answers which error.
 *
 * The enclave's protocol codes (`msg`) keep their names in the gateway's
 * answer, {"error": code, "details": ...}; only the status is chosen,
 * from common/wire_error.c's table:
 *
 *   400  missing_fields, invalid_field, invalid_hex, invalid_ciphertext,
 *        invalid_json, unknown_type (the request is malformed), unknown_key
 *        (it names a key the enclave does not hold, nor the gateway)
 *   403  grant_required, grant_invalid (the result key is not the input's
 *        and the input key's holder did not allow it: docs/protocol.md)
 *   413  too_large
 *   422  decrypt_failed, step_failed (well formed, but the ciphertext does
 *        not authenticate under the TSK with this aad, or the step refused
 *        it: retrying will not help)
 *   503  not_configured (after a configure and one retry), key_exhausted,
 *        busy, kms_*, too_many_keys (the service, not the request, is the
 *        problem; Retry-After is set)
 *   502  internal_error, attestation_unavailable and any code this
 *        gateway does not know
 *
 * The gateway's own codes: 400 invalid_json / missing_fields /
 * invalid_field (its own parse of the body), 400 ambiguous_framing (both
 * Content-Length and Transfer-Encoding; closed), 404 not_found, 405
 * method_not_allowed, 408 request_timeout (the body did not arrive whole
 * within --timeout, deadline.c), 413 too_large, 503 unavailable (no
 * enclave is up),
 * 503 overloaded (the queue is full, or --memory-limit is reached: then
 * closed), 503 not_configured (the enclave refused the key the request
 * names, retry.c), 503 shutting_down, 504 timeout,
 * 502 enclave_failed (the enclave connection broke on every attempt).
 */
#ifndef GATEWAY_ERRORS_H
#define GATEWAY_ERRORS_H

/* The HTTP status for an enclave's error code. */
int  gateway_status_for_code(const char *code);
/* 1 when the status should carry Retry-After. */
int  gateway_status_retryable(int status);

#endif
