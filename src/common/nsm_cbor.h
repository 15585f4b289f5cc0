/*
 * nsm_cbor.h - the CBOR messages of the Nitro Secure Module's Attestation
 * operation (the bytes that go through NSM_IOCTL_RAW on /dev/nsm, or to a
 * simulator standing in for it).
 *
 *   request:  {"Attestation": {"user_data": bstr|null, "nonce": bstr|null,
 *                              "public_key": bstr|null}}
 *   response: {"Attestation": {"document": bstr}}  or  {"Error": "<code>"}
 *
 * The messages as AWS's aws-nitro-enclaves-nsm-api defines them
 * (src/api/mod.rs).
 */
#ifndef COMMON_NSM_CBOR_H
#define COMMON_NSM_CBOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/reason.h"

#define NSM_REQUEST_MAX   0x1000	/* the driver refuses more (EMSGSIZE) */
#define NSM_RESPONSE_MAX  0x3000	/* the response buffer for the driver */
#define NSM_FIELD_MAX     1024		/* user_data, nonce, public_key */

/*
 * Encode an Attestation request into `out` (appended, at most
 * NSM_REQUEST_MAX). A NULL slice, or one with NULL data, encodes null.
 * -1 when a field passes NSM_FIELD_MAX or encoding fails.
 */
int nsm_attestation_request(struct buf *out, const struct slice *user_data,
    const struct slice *nonce, const struct slice *public_key);

/*
 * Parse an Attestation response: 0 with the document appended to `doc`
 * (at most NSM_RESPONSE_MAX). -1 with a reason: the NSM error code for
 * {"Error": code} ("NSM error: InvalidArgument"), or what was malformed.
 */
int nsm_attestation_response(const uint8_t *resp, size_t len,
    struct buf *doc, struct reason *reason);

#endif
