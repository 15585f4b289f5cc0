/*
 * test_gateway_metrics.c - the gateway's Prometheus text: counters by
 * status and error code, the latency histogram (cumulative, +Inf equal to
 * the count), in-flight, per-enclave state and configure figures, label
 * hygiene; and the error-code to HTTP-status table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/gateway/errors.h"
#include "host/gateway/metrics.h"

static char *
format(struct metrics *m, const struct metrics_enclave *enc, size_t n,
    const struct metrics_queue *q, struct buf *b)
{
	b->len = 0;
	assert_int_equal(metrics_format(m, enc, n, q, b), 0);
	assert_int_equal(buf_append(b, "", 1, (size_t)1 << 20), 0);
	return (char *)b->data;
}

static void
assert_line(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (strstr(text, want) == NULL)
		fail_msg("missing line '%s' in:\n%s", line, text);
}

static void
test_requests_and_histogram(void **state)
{
	struct metrics m;
	struct buf b = BUF_INIT;
	const char *t;

	(void)state;
	assert_int_equal(metrics_init(&m), 0);
	metrics_request(&m, 200, 0.0004, NULL);
	metrics_request(&m, 200, 0.003, NULL);
	metrics_request(&m, 422, 0.02, "decrypt_failed");
	metrics_request(&m, 503, 40.0, "unavailable");
	metrics_request(&m, 422, 0.02, "decrypt_failed");
	metrics_in_flight(&m, 3);
	metrics_in_flight(&m, -1);
	metrics_retry(&m);
	t = format(&m, NULL, 0, NULL, &b);
	assert_line(t, "# TYPE enclave_gateway_requests_total counter");
	assert_line(t, "enclave_gateway_requests_total{code=\"200\"} 2");
	assert_line(t, "enclave_gateway_requests_total{code=\"422\"} 2");
	assert_line(t, "enclave_gateway_requests_total{code=\"503\"} 1");
	assert_line(t, "enclave_gateway_errors_total{code=\"decrypt_failed\"} 2");
	assert_line(t, "enclave_gateway_errors_total{code=\"unavailable\"} 1");
	assert_line(t, "# TYPE enclave_gateway_request_duration_seconds histogram");
	assert_line(t, "enclave_gateway_request_duration_seconds_bucket{le=\"0.001\"} 1");
	assert_line(t, "enclave_gateway_request_duration_seconds_bucket{le=\"0.005\"} 2");
	assert_line(t, "enclave_gateway_request_duration_seconds_bucket{le=\"0.025\"} 4");
	assert_line(t, "enclave_gateway_request_duration_seconds_bucket{le=\"30\"} 4");
	assert_line(t, "enclave_gateway_request_duration_seconds_bucket{le=\"+Inf\"} 5");
	assert_line(t, "enclave_gateway_request_duration_seconds_count 5");
	assert_line(t, "enclave_gateway_request_duration_seconds_sum 40.043400");
	assert_line(t, "enclave_gateway_in_flight_requests 2");
	assert_line(t, "enclave_gateway_retries_total 1");
	assert_int_equal(metrics_in_flight_now(&m), 2);
	/* No status never seen. */
	assert_null(strstr(t, "code=\"500\""));
	buf_free(&b, 0);
	metrics_destroy(&m);
}

static void
test_enclaves_and_queue(void **state)
{
	struct metrics_enclave enc[2] = {
		{ .name = "tcp:127.0.0.1:5001", .endpoint = "tcp:127.0.0.1:5001",
		  .state = ENCLAVE_UP, .busy = 3, .connections = 4,
		  .configure_ok = 2, .configure_failed = 1,
		  .last_configure = 1795000000, .failures = 1 },
		{ .name = "vsock:17:5000", .endpoint = "vsock:17:5000",
		  .state = ENCLAVE_DOWN },
	};
	struct metrics_queue q = { .waiting = 5, .capacity = 64 };
	struct metrics m;
	struct buf b = BUF_INIT;
	const char *t;

	(void)state;
	assert_int_equal(metrics_init(&m), 0);
	metrics_credentials(&m, 1, 1795003600);
	metrics_credentials(&m, 0, 0);
	t = format(&m, enc, 2, &q, &b);
	assert_line(t, "enclave_gateway_enclave_up{enclave=\"tcp:127.0.0.1:5001\"} 1");
	assert_line(t, "enclave_gateway_enclave_up{enclave=\"vsock:17:5000\"} 0");
	assert_line(t, "enclave_gateway_enclave_state{enclave=\"tcp:127.0.0.1:5001\",state=\"up\"} 1");
	assert_line(t, "enclave_gateway_enclave_state{enclave=\"tcp:127.0.0.1:5001\",state=\"down\"} 0");
	assert_line(t, "enclave_gateway_enclave_state{enclave=\"vsock:17:5000\",state=\"down\"} 1");
	assert_line(t, "enclave_gateway_enclave_state{enclave=\"vsock:17:5000\",state=\"unconfigured\"} 0");
	assert_line(t, "enclave_gateway_enclave_connections_busy{enclave=\"tcp:127.0.0.1:5001\"} 3");
	assert_line(t, "enclave_gateway_enclave_failures_total{enclave=\"tcp:127.0.0.1:5001\"} 1");
	assert_line(t, "enclave_gateway_configure_total{enclave=\"tcp:127.0.0.1:5001\",result=\"ok\"} 2");
	assert_line(t, "enclave_gateway_configure_total{enclave=\"tcp:127.0.0.1:5001\",result=\"error\"} 1");
	assert_line(t, "enclave_gateway_last_configure_timestamp_seconds{enclave=\"tcp:127.0.0.1:5001\"} 1795000000");
	assert_line(t, "enclave_gateway_last_configure_timestamp_seconds{enclave=\"vsock:17:5000\"} 0");
	assert_line(t, "enclave_gateway_queue_waiting 5");
	assert_line(t, "enclave_gateway_queue_capacity 64");
	assert_line(t, "enclave_gateway_credentials_refresh_total{result=\"ok\"} 1");
	assert_line(t, "enclave_gateway_credentials_refresh_total{result=\"error\"} 1");
	assert_line(t, "enclave_gateway_credentials_expiration_timestamp_seconds 1795003600");
	/* Every sample line is NAME{...} VALUE or NAME VALUE; HELP and TYPE. */
	assert_true(t[strlen(t) - 1] == '\n');
	buf_free(&b, 0);
	metrics_destroy(&m);
}

/* Codes from a peer cannot break the format or grow it without bound. */
static void
test_error_labels_bounded(void **state)
{
	struct metrics m;
	struct buf b = BUF_INIT;
	char code[32], label[16];
	const char *t;
	int i;

	(void)state;
	metrics_label(label, sizeof(label), "a\"b}\n{c d");
	assert_string_equal(label, "a_b___c_d");
	metrics_label(label, 4, "abcdef");
	assert_string_equal(label, "abc");
	assert_int_equal(metrics_init(&m), 0);
	for (i = 0; i < 100; i++) {
		snprintf(code, sizeof(code), "code_%d", i);
		metrics_request(&m, 502, 0.01, code);
	}
	metrics_request(&m, 502, 0.01, "evil\"}\nx 1");
	t = format(&m, NULL, 0, NULL, &b);
	assert_line(t, "enclave_gateway_errors_total{code=\"code_0\"} 1");
	assert_line(t, "enclave_gateway_errors_total{code=\"code_30\"} 1");
	assert_line(t, "enclave_gateway_errors_total{code=\"other\"} 70");
	assert_null(strstr(t, "code_31"));
	assert_null(strstr(t, "evil"));
	assert_line(t, "enclave_gateway_requests_total{code=\"502\"} 101");
	buf_free(&b, 0);
	metrics_destroy(&m);
}

/*
 * Only held key ids get a label (F34): junk ids, "other" and ids the
 * gateway dropped all count in key_id="", which no key id can be; 100
 * junk ids sent first do not keep a held key from its own series.
 */
static void
test_key_labels_only_for_held_keys(void **state)
{
	const char *loaded[] = { "v1", "tenant-a.2" }, *later[] = { "v2" };
	struct metrics m;
	struct buf b = BUF_INIT;
	char id[32];
	const char *t;
	int i;

	(void)state;
	assert_int_equal(metrics_init(&m), 0);
	metrics_keys_loaded(&m, loaded, 2, 1);
	for (i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "k%d", i);
		metrics_key_request(&m, id, 0);
	}
	metrics_key_request(&m, "other", 1);
	metrics_key_request(&m, "v1", 1);
	metrics_key_request(&m, "v1", 0);
	metrics_key_request(&m, "tenant-a.2", 1);
	metrics_keys_loaded(&m, NULL, 0, 0);
	t = format(&m, NULL, 0, NULL, &b);
	assert_line(t, "enclave_gateway_key_requests_total{key_id=\"v1\","
	    "result=\"ok\"} 1");
	assert_line(t, "enclave_gateway_key_requests_total{key_id=\"v1\","
	    "result=\"error\"} 1");
	assert_line(t, "enclave_gateway_key_requests_total{key_id=\"tenant-a.2\","
	    "result=\"ok\"} 1");
	assert_line(t, "enclave_gateway_key_requests_total{key_id=\"\","
	    "result=\"ok\"} 1");
	assert_line(t, "enclave_gateway_key_requests_total{key_id=\"\","
	    "result=\"error\"} 100");
	assert_null(strstr(t, "\"k0\""));
	assert_null(strstr(t, "\"other\""));
	assert_line(t, "enclave_gateway_key_loaded{key_id=\"tenant-a.2\"} 1");
	assert_line(t, "enclave_gateway_key_reloads_total{result=\"ok\"} 1");
	assert_line(t, "enclave_gateway_key_reloads_total{result=\"error\"} 1");
	/* After a reload without v1, v1 is no longer labelled. */
	metrics_keys_loaded(&m, later, 1, 1);
	metrics_key_request(&m, "v1", 1);
	metrics_key_request(&m, "v2", 1);
	t = format(&m, NULL, 0, NULL, &b);
	assert_line(t, "enclave_gateway_key_requests_total{key_id=\"\","
	    "result=\"ok\"} 2");
	assert_line(t, "enclave_gateway_key_requests_total{key_id=\"v2\","
	    "result=\"ok\"} 1");
	buf_free(&b, 0);
	metrics_destroy(&m);
}

/* 64 held keys each get a series even when dropped keys filled the slots. */
static void
test_key_slots_follow_the_held_keys(void **state)
{
	const char *ids[64];
	char names[2][64][32];
	struct metrics m;
	struct buf b = BUF_INIT;
	const char *t;
	int round, i;

	(void)state;
	assert_int_equal(metrics_init(&m), 0);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 64; i++) {
			snprintf(names[round][i], sizeof(names[round][i]),
			    "r%dk%d", round, i);
			ids[i] = names[round][i];
		}
		metrics_keys_loaded(&m, ids, 64, 1);
		for (i = 0; i < 64; i++)
			metrics_key_request(&m, ids[i], 1);
	}
	t = format(&m, NULL, 0, NULL, &b);
	assert_line(t, "enclave_gateway_key_requests_total{key_id=\"r1k0\","
	    "result=\"ok\"} 1");
	assert_line(t, "enclave_gateway_key_requests_total{key_id=\"r1k63\","
	    "result=\"ok\"} 1");
	assert_line(t, "enclave_gateway_key_requests_total{key_id=\"\","
	    "result=\"ok\"} 0");
	buf_free(&b, 0);
	metrics_destroy(&m);
}

static void
test_status_table(void **state)
{
	(void)state;
	assert_int_equal(gateway_status_for_code("decrypt_failed"), 422);
	assert_int_equal(gateway_status_for_code("step_failed"), 422);
	assert_int_equal(gateway_status_for_code("invalid_hex"), 400);
	assert_int_equal(gateway_status_for_code("invalid_ciphertext"), 400);
	assert_int_equal(gateway_status_for_code("missing_fields"), 400);
	assert_int_equal(gateway_status_for_code("too_large"), 413);
	assert_int_equal(gateway_status_for_code("not_configured"), 503);
	assert_int_equal(gateway_status_for_code("key_exhausted"), 503);
	assert_int_equal(gateway_status_for_code("unknown_key"), 400);
	assert_int_equal(gateway_status_for_code("too_many_keys"), 503);
	assert_int_equal(gateway_status_for_code("internal_error"), 502);
	assert_int_equal(gateway_status_for_code("something_new"), 502);
	assert_int_equal(gateway_status_for_code(NULL), 502);
	assert_true(gateway_status_retryable(503));
	assert_false(gateway_status_retryable(422));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_and_histogram),
		cmocka_unit_test(test_enclaves_and_queue),
		cmocka_unit_test(test_error_labels_bounded),
		cmocka_unit_test(test_key_labels_only_for_held_keys),
		cmocka_unit_test(test_key_slots_follow_the_held_keys),
		cmocka_unit_test(test_status_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
