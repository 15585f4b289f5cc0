/*
 * attest.c - a fresh attestation document from one of the pool's
 * enclaves (pool_attest, pool.h), for GET /v1/attestation: a data owner
 * or an auditor checks which image runs before sending data.
 *
 * The nonce and user data go to the enclave as they are (it checks
 * them); a public key never does: KMS encrypts to the public key inside
 * a document, so no caller may put one there (the enclave refuses it
 * too). A connection that breaks, or a `busy` enclave, sends the request
 * to another enclave; any other answer, `attestation_unavailable`
 * included, is the enclave's word and goes back as it is.
 */
#include "host/gateway/pool_internal.h"

#include <stdio.h>
#include <string.h>

#include "common/timefmt.h"
#include "common/wire_error.h"

enum pool_status
pool_attest(struct pool *p, const char *nonce_hex, const char *user_data_hex,
    struct pool_outcome *out)
{
	long long deadline = clock_monotonic_ms() + p->cfg.timeout_ms;
	int attempts = 0, max_attempts = (int)p->n + 2, rc;
	long exclude = -1;
	enum pool_status st;
	struct lease l;

	memset(out, 0, sizeof(*out));
	out->enclave = -1;
	for (;;) {
		if (attempts++ >= max_attempts)
			return POOL_FAILED;
		if ((st = pool_acquire(p, exclude, 1, deadline, &l)) != POOL_OK)
			return st;
		if (!enclave_client_connected(l.s->client) &&
		    enclave_client_connect(l.s->client, l.e->endpoint) < 0) {
			pool_take_down(p, l.e, enclave_client_error(l.s->client));
			pool_release(p, &l, 1);
			exclude = l.e - p->enc;
			continue;
		}
		rc = enclave_attest(l.s->client, nonce_hex, user_data_hex,
		    &out->result, &out->result_len);
		out->enclave = (int)(l.e - p->enc);
		if (rc == ENCLAVE_OK) {
			pool_release(p, &l, 0);
			return POOL_OK;
		}
		if (rc == ENCLAVE_ERR_REMOTE && !wire_error_is(
		    enclave_client_remote_code(l.s->client), WIRE_BUSY)) {
			pool_outcome_remote(l.s->client, out);
			pool_release(p, &l, 0);
			return POOL_REMOTE;
		}
		if (rc == ENCLAVE_ERR_USAGE) {
			/* The client library's check of the nonce and user
			 * data (the enclave's own limits): a bad query. */
			pool_outcome_refused(l.s->client, out);
			pool_release(p, &l, 0);
			return POOL_REMOTE;
		}
		if (rc == ENCLAVE_ERR_NOMEM) {
			pool_release(p, &l, 0);
			return POOL_NOMEM;
		}
		/* busy, or the connection broke: another enclave. */
		pool_release(p, &l, 1);
		exclude = l.e - p->enc;
	}
}
