/*
 * retry.c - one request through the enclave pool (pool_process, pool.h):
 * the retry policy.
 *
 * A request takes a connection of an up enclave (slots.c) and sends the
 * process request. What happens when the enclave does not answer with a
 * result:
 *   - `not_configured`: the enclave restarted; configure it (once, however
 *     many requests saw it) and send the request again, once; likewise
 *     `unknown_key` for a key the gateway has (the enclave lost it, or a
 *     reload has not reached it yet);
 *   - `busy`, or a connection that breaks: the request goes to another
 *     enclave (a connection that had been idle gets one more chance on the
 *     same enclave first: the enclave may simply have closed it), and an
 *     enclave whose fresh connection fails is taken out until the probe
 *     thread sees it answer again;
 *   - any other code is the request's own fault and goes back as it is.
 * Processing is a pure function of the ciphertext (fresh nonce, same key),
 * so sending a request again can never do harm; a result is only ever
 * the enclave's own answer.
 */
#include "host/gateway/pool_internal.h"

#include <stdio.h>
#include <string.h>

#include "common/timefmt.h"
#include "common/wire_error.h"

/* The key id a request opens with: its own, or the keyring's default. */
static void
resolve_key_id(struct pool *p, const char *key_id, char *out, size_t size)
{
	pthread_mutex_lock(&p->lock);
	if (key_id == NULL && p->keys != NULL && p->keys->default_id != NULL)
		key_id = p->keys->default_id;
	snprintf(out, size, "%s", key_id != NULL ? key_id : "");
	pthread_mutex_unlock(&p->lock);
}

static int
gateway_has_any_key(struct pool *p)
{
	int yes;

	pthread_mutex_lock(&p->lock);
	yes = p->keys != NULL;
	pthread_mutex_unlock(&p->lock);
	return yes;
}

/* 1 when the gateway configures its enclaves with `key_id`. */
static int
gateway_has_key(struct pool *p, const char *key_id)
{
	int yes;

	pthread_mutex_lock(&p->lock);
	yes = key_id != NULL && key_id[0] != '\0' &&
	    keyring_find(p->keys, key_id) != NULL;
	pthread_mutex_unlock(&p->lock);
	return yes;
}

enum pool_status
pool_process(struct pool *p, const char *hex, size_t hex_len,
    const struct enclave_process_options *req, struct pool_outcome *out)
{
	struct enclave_process_options po = *req;
	long long deadline = clock_monotonic_ms() + p->cfg.timeout_ms;
	int attempts = 0, max_attempts = (int)p->n + 2;
	int reconfigured = 0, stale_retry = 0, reused, rc;
	long exclude = -1;
	enum pool_status st;
	struct lease l;

	memset(out, 0, sizeof(*out));
	out->enclave = -1;
	resolve_key_id(p, req->key_id, out->key_id, sizeof(out->key_id));
	po.key_id = out->key_id;
	for (;;) {
		if (attempts > 0)
			metrics_retry(p->cfg.metrics);
		if (attempts++ >= max_attempts)
			return POOL_FAILED;
		if ((st = pool_acquire(p, exclude, 0, deadline, &l)) != POOL_OK)
			return st;
		reused = enclave_client_connected(l.s->client);
		if (!reused &&
		    enclave_client_connect(l.s->client, l.e->endpoint) < 0) {
			pool_take_down(p, l.e, enclave_client_error(l.s->client));
			pool_release(p, &l, 1);
			exclude = l.e - p->enc;
			continue;
		}
		rc = enclave_process_ex(l.s->client, hex, hex_len, &po,
		    &out->result, &out->result_len);
		if (rc == ENCLAVE_OK) {
			out->enclave = (int)(l.e - p->enc);
			pool_release(p, &l, 0);
			return POOL_OK;
		}
		if (rc == ENCLAVE_ERR_REMOTE) {
			const char *code = enclave_client_remote_code(l.s->client);

			if ((wire_error_is(code, WIRE_NOT_CONFIGURED) ||
			    wire_error_is(code, WIRE_UNKNOWN_KEY)) &&
			    pool_key_refused(p, l.e, out->key_id, po.result_key_id,
			    out)) {
				out->enclave = (int)(l.e - p->enc);
				pool_release(p, &l, 0);
				return POOL_REMOTE;
			}
			if (!reconfigured && (wire_error_is(code,
			    WIRE_NOT_CONFIGURED) || (wire_error_is(code,
			    WIRE_UNKNOWN_KEY) &&
			    (gateway_has_key(p, out->key_id) ||
			    gateway_has_key(p, req->result_key_id)))) &&
			    gateway_has_any_key(p)) {
				reconfigured = 1;
				if (pool_reconfigure(p, l.e, l.s->client,
				    l.gen) < 0)
					exclude = l.e - p->enc;
				pool_release(p, &l, 0);
				continue;
			}
			if (wire_error_is(code, WIRE_BUSY)) {
				exclude = l.e - p->enc;
				pool_release(p, &l, 1);
				continue;
			}
			pool_outcome_remote(l.s->client, out);
			out->enclave = (int)(l.e - p->enc);
			if (wire_error_is(code, WIRE_NOT_CONFIGURED)) {
				pthread_mutex_lock(&p->lock);
				l.e->probe_now = 1;
				pthread_cond_signal(&p->wake);
				pthread_mutex_unlock(&p->lock);
			}
			pool_release(p, &l, 0);
			return POOL_REMOTE;
		}
		if (rc == ENCLAVE_ERR_USAGE) {
			/* The library would not build this request (aad). */
			pool_outcome_refused(l.s->client, out);
			pool_release(p, &l, 0);
			return POOL_REMOTE;
		}
		if (rc == ENCLAVE_ERR_NOMEM) {
			pool_release(p, &l, 0);
			return POOL_NOMEM;
		}
		/* The connection broke, timed out or spoke garbage. */
		if (rc == ENCLAVE_ERR_TIMEOUT) {
			pool_take_down(p, l.e, "a request timed out");
			pool_release(p, &l, 1);
			return POOL_TIMEOUT;
		}
		if (reused && !stale_retry) {
			stale_retry = 1;
			pool_release(p, &l, 1);
			continue;
		}
		pool_take_down(p, l.e, enclave_client_error(l.s->client));
		pool_release(p, &l, 1);
		exclude = l.e - p->enc;
	}
}
