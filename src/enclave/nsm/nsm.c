/*
 * nsm.c - what both NSM transports share (see nsm.h): choosing the
 * transport, and the Attestation request around the one exchange.
 */
#include "enclave/nsm/nsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "common/nsm_cbor.h"

int
nsm_spec_is_simulator(const char *spec)
{
	return spec != NULL &&
	    strncmp(spec, NSM_UNIX_PREFIX, strlen(NSM_UNIX_PREFIX)) == 0;
}

struct nsm *
nsm_open(const char *spec, struct reason *reason)
{
	if (spec == NULL || spec[0] == '\0')
		spec = NSM_DEFAULT_DEVICE;
	if (nsm_spec_is_simulator(spec))
		return nsm_unix_open(spec + strlen(NSM_UNIX_PREFIX), reason);
	return nsm_device_open(spec, reason);
}

void
nsm_close(struct nsm *nsm)
{
	if (nsm != NULL)
		nsm->t->close(nsm);
}

int
nsm_get_attestation(struct nsm *nsm, const struct slice *user_data,
    const struct slice *nonce, const struct slice *public_key, int timeout_ms,
    struct buf *doc, struct reason *reason)
{
	struct buf req = BUF_INIT;
	uint8_t *resp = NULL;
	size_t resp_len = NSM_RESPONSE_MAX;
	struct reason why;
	int rc = -1;

	if (nsm_attestation_request(&req, user_data, nonce, public_key) < 0) {
		reason_fail(reason, "cannot encode the NSM "
		    "Attestation request (a field over %d bytes?)",
		    NSM_FIELD_MAX);
		goto out;
	}
	if ((resp = malloc(NSM_RESPONSE_MAX)) == NULL) {
		reason_fail(reason, "out of memory");
		goto out;
	}
	if (nsm->t->exchange(nsm, req.data, req.len, resp, &resp_len,
	    timeout_ms, reason) < 0)
		goto out;
	if (nsm_attestation_response(resp, resp_len, doc, &why) < 0) {
		reason_fail(reason, "NSM attestation failed: %s",
		    why.text);
		goto out;
	}
	rc = 0;
out:
	free(resp);
	buf_free(&req, 0);
	return rc;
}
