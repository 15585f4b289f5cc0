/*
 * pool.c - the enclave pool itself (see pool.h): one record per enclave
 * with its connections ("slots"), made and freed here, and what the
 * metrics and /healthz read of it. Which slot a request gets is slots.c's
 * job, bringing enclaves to the keys key_sync.c's, and what a request does
 * when the enclave does not answer with a result retry.c's.
 */
#include "host/gateway/pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire_error.h"

struct enclave_client *
pool_client_new(const struct pool *p)
{
	struct enclave_client_options o;

	enclave_client_options_init(&o);
	o.framing = ENCLAVE_FRAMING_LEN;
	o.connect_timeout_ms = p->cfg.timeout_ms < POOL_CONNECT_TIMEOUT_MS ?
	    p->cfg.timeout_ms : POOL_CONNECT_TIMEOUT_MS;
	o.io_timeout_ms = p->cfg.timeout_ms;
	return enclave_client_new(&o);
}

/* Backslash, quote and newline escaped, as the text format requires. */
static void
label_escape(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	for (; *src != '\0' && n + 3 < size; src++) {
		if (*src == '\\' || *src == '"') {
			dst[n++] = '\\';
			dst[n++] = *src;
		} else if (*src == '\n') {
			dst[n++] = '\\';
			dst[n++] = 'n';
		} else {
			dst[n++] = *src;
		}
	}
	dst[n] = '\0';
}

static int
enclave_init(struct pool *p, struct enclave *e, const char *text)
{
	struct endpoint ep;
	int i;

	if (endpoint_parse(&ep, text, 0, NULL) < 0)
		return -1;
	endpoint_format(&ep, e->endpoint, sizeof(e->endpoint));
	label_escape(e->label, sizeof(e->label), e->endpoint);
	e->state = ENCLAVE_DOWN;
	e->probe_backoff_ms = PROBE_DOWN_MIN_MS;
	if ((e->slots = calloc((size_t)p->cfg.conns_per_enclave,
	    sizeof(*e->slots))) == NULL)
		return -1;
	for (i = 0; i < p->cfg.conns_per_enclave; i++)
		if ((e->slots[i].client = pool_client_new(p)) == NULL)
			return -1;
	return (e->probe = pool_client_new(p)) == NULL ? -1 : 0;
}

struct pool *
pool_new(const struct pool_config *cfg)
{
	struct pool *p;
	size_t i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->cfg = *cfg;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->keys = keyring_ref(cfg->keys);
	if ((cfg->region != NULL && (p->region = strdup(cfg->region)) == NULL) ||
	    (p->enc = calloc(cfg->n_endpoints, sizeof(*p->enc))) == NULL)
		goto fail;
	p->n = cfg->n_endpoints;
	for (i = 0; i < p->n; i++)
		if (enclave_init(p, &p->enc[i], cfg->endpoints[i]) < 0)
			goto fail;
	return p;
fail:
	pool_free(p);
	return NULL;
}

void
pool_shutdown(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pool_wake_locked(p);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	if (p->started)
		pthread_join(p->thread, NULL);
	p->started = 0;
}

void
pool_free(struct pool *p)
{
	size_t i;
	int j;

	if (p == NULL)
		return;
	pool_shutdown(p);
	for (i = 0; p->enc != NULL && i < p->n; i++) {
		for (j = 0; p->enc[i].slots != NULL &&
		    j < p->cfg.conns_per_enclave; j++)
			enclave_client_free(p->enc[i].slots[j].client);
		free(p->enc[i].slots);
		enclave_client_free(p->enc[i].probe);
		keyring_unref(p->enc[i].synced);
	}
	free(p->enc);
	keyring_unref(p->keys);
	free(p->region);
	pthread_cond_destroy(&p->freed);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

size_t
pool_snapshot(struct pool *p, struct metrics_enclave *out, size_t max,
    struct metrics_queue *q)
{
	size_t i;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->n && i < max; i++) {
		out[i].name = p->enc[i].label;
		out[i].endpoint = p->enc[i].endpoint;
		out[i].state = p->enc[i].state;
		out[i].busy = p->enc[i].busy;
		out[i].connections = p->cfg.conns_per_enclave;
		out[i].configure_ok = p->enc[i].configure_ok;
		out[i].configure_failed = p->enc[i].configure_failed;
		out[i].last_configure = p->enc[i].last_configure;
		out[i].failures = p->enc[i].failures;
		out[i].keys_current = p->enc[i].synced != NULL &&
		    p->enc[i].keys_gen == p->keys_gen &&
		    p->enc[i].n_trouble == 0;
		out[i].keys_failing = (int)p->enc[i].n_trouble;
	}
	if (q != NULL) {
		q->waiting = p->waiting;
		q->capacity = p->cfg.queue;
	}
	pthread_mutex_unlock(&p->lock);
	return i;
}

size_t
pool_key_troubles(struct pool *p, size_t i, struct pool_key_trouble *out,
    size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&p->lock);
	for (; i < p->n && n < p->enc[i].n_trouble && n < max; n++) {
		memcpy(out[n].key_id, p->enc[i].trouble[n].key_id,
		    sizeof(out[n].key_id));
		memcpy(out[n].code, p->enc[i].trouble[n].code,
		    sizeof(out[n].code));
		out[n].failures = p->enc[i].trouble[n].failures;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* Endpoints never change after pool_new: no lock needed. */
const char *
pool_enclave_name(const struct pool *p, int i)
{
	return i >= 0 && (size_t)i < p->n ? p->enc[i].endpoint : "";
}

void
pool_outcome_remote(struct enclave_client *c, struct pool_outcome *out)
{
	snprintf(out->code, sizeof(out->code), "%s",
	    enclave_client_remote_code(c)[0] ? enclave_client_remote_code(c) :
	    wire_error_code(WIRE_INTERNAL_ERROR));
	snprintf(out->details, sizeof(out->details), "%s",
	    enclave_client_remote_details(c));
}

void
pool_outcome_refused(struct enclave_client *c, struct pool_outcome *out)
{
	snprintf(out->code, sizeof(out->code), "%s",
	    wire_error_code(WIRE_INVALID_FIELD));
	snprintf(out->details, sizeof(out->details), "%s",
	    enclave_client_error(c));
}
