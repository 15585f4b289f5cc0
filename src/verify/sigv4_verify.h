/*
 * sigv4_verify.h - verifying AWS Signature Version 4, as KMS does.
 *
 * The signer's other side (sigv4.h), for tests: it takes a request as
 * received (all headers, Authorization among them), recomputes the
 * signature over the headers that SignedHeaders names and compares it in
 * constant time. The unit tests check the signer against it and the
 * SigV4 fuzz harness drives both; no daemon links it.
 */
#ifndef VERIFY_SIGV4_VERIFY_H
#define VERIFY_SIGV4_VERIFY_H

#include <time.h>

#include "common/reason.h"
#include "common/sigv4.h"

/*
 * Verify a received request: req->headers are all its headers, the
 * `authorization` one included. Checks the access key id, the scope's
 * region and service, that host and x-amz-date are signed, the scope date
 * against x-amz-date, the clock skew (when max_skew_s > 0) against `now`,
 * the session token (when creds has one: x-amz-security-token must carry
 * it), x-amz-content-sha256 against the body when present, and finally
 * the signature. 0 when valid; -1 with a reason (which may be NULL).
 */
int  sigv4_verify(const struct sigv4_request *req,
    const struct sigv4_credentials *creds, const char *region,
    const char *service, time_t now, long max_skew_s,
    struct reason *reason);

#endif
