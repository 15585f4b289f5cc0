/*
 * metrics.c - counters and the Prometheus text exposition (see metrics.h).
 *
 * One mutex: a request takes it once, for a few additions; a scrape holds
 * it while formatting, which is microseconds. Not worth atomics' subtlety.
 */
#include "host/gateway/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/guard.h"

#define METRICS_TEXT_MAX ((size_t)1 << 20)

const double metrics_bucket_bounds[METRICS_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	10, 30,
};

static const char *const state_names[] = {
	[ENCLAVE_DOWN] = "down", [ENCLAVE_UNCONFIGURED] = "unconfigured",
	[ENCLAVE_UP] = "up",
};

int
metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	return pthread_mutex_init(&m->lock, NULL) == 0 ? 0 : -1;
}

void
metrics_destroy(struct metrics *m)
{
	pthread_mutex_destroy(&m->lock);
}

void
metrics_label(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i] != '\0'; i++) {
		char c = src[i];

		dst[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' ? c : '_';
	}
	if (size > 0)
		dst[i] = '\0';
}

/*
 * Error codes come partly from the enclave: a fixed number of distinct
 * labels keeps a misbehaving peer from growing the scrape without bound.
 */
static void
count_error(struct metrics *m, const char *code)
{
	char label[METRICS_CODE_MAX];
	size_t i;

	metrics_label(label, sizeof(label), code);
	for (i = 0; i < m->n_errors; i++)
		if (strcmp(m->error_code[i], label) == 0)
			break;
	if (i == m->n_errors) {
		if (m->n_errors == METRICS_MAX_CODES)
			i = METRICS_MAX_CODES - 1;	/* "other" */
		else
			m->n_errors++;
		if (i == METRICS_MAX_CODES - 1)
			strcpy(label, "other");
		memcpy(m->error_code[i], label, sizeof(label));
	}
	m->error_count[i]++;
}

void
metrics_request(struct metrics *m, int http_status, double seconds,
    const char *error_code)
{
	size_t b;

	if (seconds < 0)
		seconds = 0;
	pthread_mutex_lock(&m->lock);
	if (http_status >= METRICS_HTTP_MIN && http_status <= METRICS_HTTP_MAX)
		m->requests[http_status - METRICS_HTTP_MIN]++;
	if (error_code != NULL)
		count_error(m, error_code);
	for (b = 0; b < METRICS_BUCKETS; b++)
		if (seconds <= metrics_bucket_bounds[b])
			break;
	m->bucket[b]++;
	m->latency_sum += seconds;
	m->latency_count++;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_in_flight(struct metrics *m, int delta)
{
	pthread_mutex_lock(&m->lock);
	m->in_flight += delta;
	pthread_mutex_unlock(&m->lock);
}

int64_t
metrics_in_flight_now(struct metrics *m)
{
	int64_t v;

	pthread_mutex_lock(&m->lock);
	v = m->in_flight;
	pthread_mutex_unlock(&m->lock);
	return v;
}

void
metrics_retry(struct metrics *m)
{
	pthread_mutex_lock(&m->lock);
	m->retries++;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_credentials(struct metrics *m, int ok, time_t expiration)
{
	pthread_mutex_lock(&m->lock);
	if (ok) {
		m->cred_refresh_ok++;
		m->cred_expiration = expiration;
	} else {
		m->cred_refresh_failed++;
	}
	pthread_mutex_unlock(&m->lock);
}

/* 1 when key_id is one the gateway holds (its last reading of the files). */
static int
key_loaded(const struct metrics *m, const char *key_id)
{
	size_t i;

	for (i = 0; i < m->n_loaded; i++)
		if (strcmp(m->loaded[i], key_id) == 0)
			return 1;
	return 0;
}

/*
 * The slot of a held key (taken on first use), or -1 for any other id.
 * Key ids come from requests, so only the ids the gateway holds get a
 * label of their own: any other id counts in the one series labelled
 * key_id="", which no key id can be ([A-Za-z0-9._-]{1,64}). A client can
 * then neither squat the label slots (held keys would go unlabelled) nor
 * name its own series, nor learn from /metrics an id it did not know
 * (F34, F35). A slot whose key is no longer held is taken over when a
 * held key needs one; there are as many slots as keys a gateway holds.
 */
static long
key_slot_locked(struct metrics *m, const char *key_id)
{
	size_t i, free_slot = METRICS_MAX_KEYS;

	if (!key_loaded(m, key_id))
		return -1;
	for (i = 0; i < m->n_keys; i++) {
		if (strcmp(m->key_id[i], key_id) == 0)
			return (long)i;
		if (free_slot == METRICS_MAX_KEYS &&
		    !key_loaded(m, m->key_id[i]))
			free_slot = i;
	}
	if (m->n_keys < METRICS_MAX_KEYS)
		i = m->n_keys++;
	else if ((i = free_slot) == METRICS_MAX_KEYS)
		return -1;	/* cannot be: at most 64 keys are held */
	snprintf(m->key_id[i], sizeof(m->key_id[i]), "%s", key_id);
	m->key_ok[i] = m->key_error[i] = m->key_configure_failed[i] = 0;
	return (long)i;
}

void
metrics_key_request(struct metrics *m, const char *key_id, int ok)
{
	long i;

	pthread_mutex_lock(&m->lock);
	if ((i = key_slot_locked(m, key_id)) < 0) {
		if (ok)
			m->unheld_ok++;
		else
			m->unheld_error++;
	} else if (ok) {
		m->key_ok[i]++;
	} else {
		m->key_error[i]++;
	}
	pthread_mutex_unlock(&m->lock);
}

void
metrics_key_configure_failed(struct metrics *m, const char *key_id)
{
	long i;

	pthread_mutex_lock(&m->lock);
	if ((i = key_slot_locked(m, key_id)) >= 0)
		m->key_configure_failed[i]++;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_keys_loaded(struct metrics *m, const char *const *ids, size_t n,
    int ok)
{
	size_t i;

	pthread_mutex_lock(&m->lock);
	if (ok) {
		m->reload_ok++;
		m->n_loaded = 0;
		for (i = 0; i < n && i < METRICS_MAX_KEYS; i++)
			snprintf(m->loaded[m->n_loaded++],
			    sizeof(m->loaded[0]), "%s", ids[i]);
	} else {
		m->reload_failed++;
	}
	pthread_mutex_unlock(&m->lock);
}

#define put(out, ...) buf_printf((out), METRICS_TEXT_MAX, __VA_ARGS__)

static int
header(struct buf *out, const char *name, const char *type, const char *help)
{
	GUARD(put(out, "# HELP %s %s\n", name, help));
	return put(out, "# TYPE %s %s\n", name, type);
}

/* Called with m->lock held. */
static int
format_requests(const struct metrics *m, struct buf *out)
{
	uint64_t cum = 0;
	size_t i;

	GUARD(header(out, "enclave_gateway_requests_total", "counter",
	    "HTTP requests answered, by status code."));
	for (i = 0; i < ARRAY_LEN(m->requests); i++)
		if (m->requests[i] != 0)
			GUARD(put(out, "enclave_gateway_requests_total{code=\"%zu\"}"
			    " %llu\n", i + METRICS_HTTP_MIN,
			    (unsigned long long)m->requests[i]));
	GUARD(header(out, "enclave_gateway_errors_total", "counter",
	    "Requests answered with an error, by error code (the enclave's "
	    "msg code or the gateway's own)."));
	for (i = 0; i < m->n_errors; i++)
		GUARD(put(out, "enclave_gateway_errors_total{code=\"%s\"} %llu\n",
		    m->error_code[i], (unsigned long long)m->error_count[i]));
	GUARD(header(out, "enclave_gateway_request_duration_seconds",
	    "histogram", "Time from a request's arrival to its answer."));
	for (i = 0; i < METRICS_BUCKETS; i++) {
		cum += m->bucket[i];
		GUARD(put(out, "enclave_gateway_request_duration_seconds_bucket"
		    "{le=\"%g\"} %llu\n", metrics_bucket_bounds[i],
		    (unsigned long long)cum));
	}
	cum += m->bucket[METRICS_BUCKETS];
	GUARD(put(out, "enclave_gateway_request_duration_seconds_bucket"
	    "{le=\"+Inf\"} %llu\n", (unsigned long long)cum));
	GUARD(put(out, "enclave_gateway_request_duration_seconds_sum %.6f\n",
	    m->latency_sum));
	GUARD(put(out, "enclave_gateway_request_duration_seconds_count %llu\n",
	    (unsigned long long)m->latency_count));
	GUARD(header(out, "enclave_gateway_in_flight_requests", "gauge",
	    "Process requests being handled now (waiting or at an enclave)."));
	GUARD(put(out, "enclave_gateway_in_flight_requests %lld\n",
	    (long long)m->in_flight));
	GUARD(header(out, "enclave_gateway_retries_total", "counter",
	    "Requests sent to an enclave again after a broken connection, a "
	    "busy enclave or not_configured."));
	return put(out, "enclave_gateway_retries_total %llu\n",
	    (unsigned long long)m->retries);
}

/* Called with m->lock held. */
static int
format_keys(const struct metrics *m, struct buf *out)
{
	size_t i;

	GUARD(header(out, "enclave_gateway_key_requests_total", "counter",
	    "Process requests, by the key id that opens them and result "
	    "(key_id=\"\": an id the gateway does not hold)."));
	for (i = 0; i < m->n_keys; i++) {
		GUARD(put(out, "enclave_gateway_key_requests_total{key_id=\"%s\","
		    "result=\"ok\"} %llu\n", m->key_id[i],
		    (unsigned long long)m->key_ok[i]));
		GUARD(put(out, "enclave_gateway_key_requests_total{key_id=\"%s\","
		    "result=\"error\"} %llu\n", m->key_id[i],
		    (unsigned long long)m->key_error[i]));
	}
	GUARD(put(out, "enclave_gateway_key_requests_total{key_id=\"\","
	    "result=\"ok\"} %llu\n", (unsigned long long)m->unheld_ok));
	GUARD(put(out, "enclave_gateway_key_requests_total{key_id=\"\","
	    "result=\"error\"} %llu\n", (unsigned long long)m->unheld_error));
	GUARD(header(out, "enclave_gateway_key_configure_failures_total",
	    "counter", "Configures of the key an enclave refused (KMS refused "
	    "it, the blob is not one, the enclave holds too many keys)."));
	for (i = 0; i < m->n_keys; i++)
		GUARD(put(out, "enclave_gateway_key_configure_failures_total"
		    "{key_id=\"%s\"} %llu\n", m->key_id[i],
		    (unsigned long long)m->key_configure_failed[i]));
	GUARD(header(out, "enclave_gateway_key_loaded", "gauge",
	    "1 for each key id the gateway configures its enclaves with."));
	for (i = 0; i < m->n_loaded; i++)
		GUARD(put(out, "enclave_gateway_key_loaded{key_id=\"%s\"} 1\n",
		    m->loaded[i]));
	GUARD(header(out, "enclave_gateway_key_reloads_total", "counter",
	    "Readings of the TSK files (at start and on SIGHUP), by result."));
	GUARD(put(out, "enclave_gateway_key_reloads_total{result=\"ok\"} "
	    "%llu\n", (unsigned long long)m->reload_ok));
	return put(out, "enclave_gateway_key_reloads_total{result=\"error\"} "
	    "%llu\n", (unsigned long long)m->reload_failed);
}

static int
format_enclaves(const struct metrics_enclave *enc, size_t n, struct buf *out)
{
	size_t i, s;

	GUARD(header(out, "enclave_gateway_enclave_up", "gauge",
	    "1 when the enclave is reachable, configured and taking requests."));
	for (i = 0; i < n; i++)
		GUARD(put(out, "enclave_gateway_enclave_up{enclave=\"%s\"} %d\n",
		    enc[i].name, enc[i].state == ENCLAVE_UP));
	GUARD(header(out, "enclave_gateway_enclave_state", "gauge",
	    "The enclave's state: down, unconfigured or up (1 for the current "
	    "one)."));
	for (i = 0; i < n; i++)
		for (s = 0; s < ARRAY_LEN(state_names); s++)
			GUARD(put(out, "enclave_gateway_enclave_state{enclave="
			    "\"%s\",state=\"%s\"} %d\n", enc[i].name,
			    state_names[s], (size_t)enc[i].state == s));
	GUARD(header(out, "enclave_gateway_enclave_connections_busy", "gauge",
	    "Connections to the enclave carrying a request now."));
	for (i = 0; i < n; i++)
		GUARD(put(out, "enclave_gateway_enclave_connections_busy"
		    "{enclave=\"%s\"} %d\n", enc[i].name, enc[i].busy));
	GUARD(header(out, "enclave_gateway_enclave_failures_total", "counter",
	    "Times the enclave was taken out of service."));
	for (i = 0; i < n; i++)
		GUARD(put(out, "enclave_gateway_enclave_failures_total"
		    "{enclave=\"%s\"} %llu\n", enc[i].name,
		    (unsigned long long)enc[i].failures));
	GUARD(header(out, "enclave_gateway_configure_total", "counter",
	    "Configure requests sent, by enclave and result."));
	for (i = 0; i < n; i++) {
		GUARD(put(out, "enclave_gateway_configure_total{enclave=\"%s\","
		    "result=\"ok\"} %llu\n", enc[i].name,
		    (unsigned long long)enc[i].configure_ok));
		GUARD(put(out, "enclave_gateway_configure_total{enclave=\"%s\","
		    "result=\"error\"} %llu\n", enc[i].name,
		    (unsigned long long)enc[i].configure_failed));
	}
	GUARD(header(out, "enclave_gateway_last_configure_timestamp_seconds",
	    "gauge", "Unix time of the enclave's last successful configure "
	    "(0: never)."));
	for (i = 0; i < n; i++)
		GUARD(put(out, "enclave_gateway_last_configure_timestamp_seconds"
		    "{enclave=\"%s\"} %lld\n", enc[i].name,
		    (long long)enc[i].last_configure));
	GUARD(header(out, "enclave_gateway_enclave_keys_current", "gauge",
	    "1 when the enclave holds every key of the last reading of the "
	    "TSK files."));
	for (i = 0; i < n; i++)
		GUARD(put(out, "enclave_gateway_enclave_keys_current"
		    "{enclave=\"%s\"} %d\n", enc[i].name, enc[i].keys_current));
	GUARD(header(out, "enclave_gateway_enclave_keys_failing", "gauge",
	    "Keys the enclave refused to configure and has not taken since "
	    "(tried again with backoff; its other keys serve)."));
	for (i = 0; i < n; i++)
		GUARD(put(out, "enclave_gateway_enclave_keys_failing"
		    "{enclave=\"%s\"} %d\n", enc[i].name, enc[i].keys_failing));
	return 0;
}

int
metrics_format(struct metrics *m, const struct metrics_enclave *enc,
    size_t n_enc, const struct metrics_queue *q, struct buf *out)
{
	int rc = -1;

	pthread_mutex_lock(&m->lock);
	GUARD_GOTO(format_requests(m, out), done);
	GUARD_GOTO(format_keys(m, out), done);
	GUARD_GOTO(header(out, "enclave_gateway_credentials_refresh_total",
	    "counter", "Credential fetches, by result."), done);
	GUARD_GOTO(put(out, "enclave_gateway_credentials_refresh_total"
	    "{result=\"ok\"} %llu\n",
	    (unsigned long long)m->cred_refresh_ok), done);
	GUARD_GOTO(put(out, "enclave_gateway_credentials_refresh_total"
	    "{result=\"error\"} %llu\n",
	    (unsigned long long)m->cred_refresh_failed), done);
	GUARD_GOTO(header(out,
	    "enclave_gateway_credentials_expiration_timestamp_seconds", "gauge",
	    "Unix time the current credentials expire (0: they do not)."),
	    done);
	GUARD_GOTO(put(out,
	    "enclave_gateway_credentials_expiration_timestamp_seconds %lld\n",
	    (long long)m->cred_expiration), done);
	rc = 0;
done:
	pthread_mutex_unlock(&m->lock);
	GUARD(rc);
	if (q != NULL) {
		GUARD(header(out, "enclave_gateway_queue_waiting", "gauge",
		    "Requests waiting for a free enclave connection."));
		GUARD(put(out, "enclave_gateway_queue_waiting %d\n", q->waiting));
		GUARD(header(out, "enclave_gateway_queue_capacity", "gauge",
		    "Requests allowed to wait; past it the answer is 503."));
		GUARD(put(out, "enclave_gateway_queue_capacity %d\n",
		    q->capacity));
	}
	return format_enclaves(enc, n_enc, out);
}
