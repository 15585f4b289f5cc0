/*
 * test_client.c - the protocol client library against a peer in the test.
 *
 * The peer is the other end of a socketpair: most tests write the
 * response into it before the call (the socket buffer holds it) and read
 * back what the client sent afterwards; tests that need the answer to
 * trickle in, or a request bigger than the socket buffer, run the peer in
 * a thread. Covered: both framings, several requests on one connection,
 * responses split across reads and preceded by whitespace, responses over
 * the limit, error answers mapped to ENCLAVE_ERR_REMOTE with their code,
 * malformed answers, timeouts, a peer that hangs up, requests built by
 * hand (escaping, aad, configure fields), and real Unix/TCP endpoints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cJSON.h>

#include "common/buf.h"
#include "common/endpoint.h"
#include "common/frame.h"
#include "common/timefmt.h"
#include "enclaveclient/client.h"

#define PEER_MAX ((size_t)64 << 20)

struct fixture {
	struct enclave_client *c;
	int                    peer;
};

static struct fixture *
pair_with(const struct enclave_client_options *opts)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_non_null(f->c = enclave_client_new(opts));
	assert_int_equal(enclave_client_attach_fd(f->c, sv[0]), ENCLAVE_OK);
	f->peer = sv[1];
	return f;
}

static struct fixture *
pair(enum enclave_framing framing)
{
	struct enclave_client_options o;

	enclave_client_options_init(&o);
	o.framing = framing;
	o.io_timeout_ms = 5000;
	return pair_with(&o);
}

static void
fixture_free(struct fixture *f)
{
	enclave_client_free(f->c);
	if (f->peer >= 0)
		close(f->peer);
	free(f);
}

static void
peer_write(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void
peer_write_str(int fd, const char *s)
{
	peer_write(fd, s, strlen(s));
}

/* A length-framed message: prefix, then the JSON. */
static void
peer_write_len(int fd, const char *json)
{
	uint8_t be[4];

	store_u32be(be, (uint32_t)strlen(json));
	peer_write(fd, be, 4);
	peer_write_str(fd, json);
}

/*
 * Read one whole request the way the daemon does (common/frame.h), and
 * return its JSON text, NUL-terminated; *kind says which framing it had.
 */
static char *
peer_read_request(int fd, enum frame_kind *kind)
{
	struct frame_scanner sc;
	struct frame fr;
	struct buf b = BUF_INIT;
	enum frame_result r = FRAME_NEED_MORE;
	uint8_t *room;
	char *out;
	ssize_t n;

	frame_reset(&sc);
	for (;;) {
		if (b.len > 0) {
			r = frame_scan(&sc, b.data, b.len, PEER_MAX, &fr);
			buf_consume(&b, fr.skip);
			if (r != FRAME_NEED_MORE)
				break;
		}
		assert_non_null(room = buf_tail(&b, 1 << 16, PEER_MAX + 8));
		n = read(fd, room, 1 << 16);
		if (n <= 0)
			break;
		assert_int_equal(buf_commit(&b, (size_t)n), 0);
	}
	assert_int_equal(r, FRAME_READY);
	if (kind != NULL)
		*kind = fr.kind;
	out = malloc(fr.len + 1);
	assert_non_null(out);
	memcpy(out, b.data + fr.offset, fr.len);
	out[fr.len] = '\0';
	buf_free(&b, 0);
	return out;
}

/* The request as JSON; the test owns it. */
static cJSON *
peer_request_json(int fd, enum frame_kind want)
{
	enum frame_kind kind;
	char *text = peer_read_request(fd, &kind);
	cJSON *doc = cJSON_Parse(text);

	assert_int_equal(kind, want);
	assert_non_null(doc);
	free(text);
	return doc;
}

static const char *
str_member(const cJSON *doc, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* --- both framings, keep-alive ----------------------------------------- */

static void
test_ping_raw(void **state)
{
	struct fixture *f = pair(ENCLAVE_FRAMING_RAW);
	enum frame_kind kind;
	const char *resp;
	size_t len;
	char *req;

	(void)state;
	peer_write_str(f->peer, "{\"status\":\"ok\",\"msg\":\"pong\"}\n");
	assert_int_equal(enclave_ping(f->c), ENCLAVE_OK);
	resp = enclave_client_response(f->c, &len);
	assert_string_equal(resp, "{\"status\":\"ok\",\"msg\":\"pong\"}");
	assert_int_equal(len, strlen(resp));
	req = peer_read_request(f->peer, &kind);
	assert_int_equal(kind, FRAME_BARE);
	assert_string_equal(req, "{\"type\":\"ping\"}");
	assert_string_equal(enclave_client_error(f->c), "");
	free(req);
	fixture_free(f);
}

static void
test_ping_len(void **state)
{
	struct fixture *f = pair(ENCLAVE_FRAMING_LEN);
	uint8_t got[4 + 15];

	(void)state;
	peer_write_len(f->peer, "{\"status\":\"ok\",\"msg\":\"pong\"}");
	assert_int_equal(enclave_ping(f->c), ENCLAVE_OK);
	/* Exactly prefix + JSON on the wire. */
	assert_int_equal(read(f->peer, got, sizeof(got)), (ssize_t)sizeof(got));
	assert_int_equal(load_u32be(got), 15);
	assert_memory_equal(got + 4, "{\"type\":\"ping\"}", 15);
	fixture_free(f);
}

/* Any number of requests on one connection, the trailing "\n" included. */
static void
keep_alive(enum enclave_framing framing)
{
	struct fixture *f = pair(framing);
	const char *json;
	int i;

	for (i = 0; i < 5; i++) {
		const char *resp = i % 2 ?
		    "{\"status\":\"healthy\",\"configured\":false}" :
		    "{\"status\":\"ok\",\"msg\":\"pong\"}";

		if (framing == ENCLAVE_FRAMING_LEN) {
			peer_write_len(f->peer, resp);
		} else {
			peer_write_str(f->peer, resp);
			peer_write_str(f->peer, "\n");
		}
		if (i % 2) {
			assert_int_equal(enclave_health(f->c, &json, NULL),
			    ENCLAVE_OK);
			assert_string_equal(json, resp);
		} else {
			assert_int_equal(enclave_ping(f->c), ENCLAVE_OK);
		}
		free(peer_read_request(f->peer, NULL));
	}
	assert_true(enclave_client_connected(f->c));
	fixture_free(f);
}

static void
test_keep_alive_raw(void **state)
{
	(void)state;
	keep_alive(ENCLAVE_FRAMING_RAW);
}

static void
test_keep_alive_len(void **state)
{
	(void)state;
	keep_alive(ENCLAVE_FRAMING_LEN);
}

/* Whitespace before a bare response (and the "\n" after one) is skipped. */
static void
test_leading_whitespace(void **state)
{
	struct fixture *f = pair(ENCLAVE_FRAMING_RAW);

	(void)state;
	peer_write_str(f->peer, " \r\n\t{\"status\":\"ok\"}");
	assert_int_equal(enclave_ping(f->c), ENCLAVE_OK);
	/* This "\n" arrives after the call: the next one must skip it. */
	peer_write_str(f->peer, "\n\n{\"status\":\"ok\"}\n");
	assert_int_equal(enclave_ping(f->c), ENCLAVE_OK);
	fixture_free(f);
}

/* --- responses split across reads --------------------------------------- */

struct trickle {
	int         fd;
	const void *data;
	size_t      len;
	size_t      piece;
	int         wait_request;
};

/* Write the answer a few bytes at a time, so every recv sees a fragment. */
static void *
trickle_peer(void *arg)
{
	struct trickle *t = arg;
	const uint8_t *p = t->data;
	size_t off = 0, n;

	if (t->wait_request)
		free(peer_read_request(t->fd, NULL));
	while (off < t->len) {
		n = t->len - off < t->piece ? t->len - off : t->piece;
		peer_write(t->fd, p + off, n);
		off += n;
		usleep(300);
	}
	return NULL;
}

static void
split_response(enum enclave_framing framing, const void *wire, size_t len,
    const char *want)
{
	struct fixture *f = pair(framing);
	struct trickle t = { f->peer, wire, len, 1, 1 };
	const char *json;
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, trickle_peer, &t), 0);
	assert_int_equal(enclave_health(f->c, &json, NULL), ENCLAVE_OK);
	assert_string_equal(json, want);
	assert_int_equal(pthread_join(th, NULL), 0);
	fixture_free(f);
}

static void
test_split_raw(void **state)
{
	/* Braces and escaped quotes inside strings do not end the object. */
	static const char resp[] =
	    "{\"status\":\"healthy\",\"note\":\"a}b\\\"}{\",\"n\":{\"x\":1}}";
	char wire[sizeof(resp) + 1];

	(void)state;
	memcpy(wire, resp, sizeof(resp) - 1);
	wire[sizeof(resp) - 1] = '\n';
	split_response(ENCLAVE_FRAMING_RAW, wire, sizeof(resp), resp);
}

static void
test_split_len(void **state)
{
	static const char resp[] = "{\"status\":\"healthy\",\"configured\":true}";
	uint8_t wire[4 + sizeof(resp) - 1];

	(void)state;
	store_u32be(wire, sizeof(resp) - 1);
	memcpy(wire + 4, resp, sizeof(resp) - 1);
	split_response(ENCLAVE_FRAMING_LEN, wire, sizeof(wire), resp);
}

/* --- limits ----------------------------------------------------------------- */

static struct fixture *
small_limit(enum enclave_framing framing, size_t max)
{
	struct enclave_client_options o;

	enclave_client_options_init(&o);
	o.framing = framing;
	o.io_timeout_ms = 5000;
	o.max_response = max;
	return pair_with(&o);
}

static void
test_over_limit_raw(void **state)
{
	struct fixture *f = small_limit(ENCLAVE_FRAMING_RAW, 64);
	char big[200];

	(void)state;
	memset(big, 'a', sizeof(big));
	memcpy(big, "{\"status\":\"ok\",\"pad\":\"", 22);
	memcpy(big + sizeof(big) - 3, "\"}\n", 3);
	peer_write(f->peer, big, sizeof(big));
	assert_int_equal(enclave_ping(f->c), ENCLAVE_ERR_PROTOCOL);
	assert_non_null(strstr(enclave_client_error(f->c), "larger than 64"));
	assert_false(enclave_client_connected(f->c));
	/* Calls on a closed client fail cleanly. */
	assert_int_equal(enclave_ping(f->c), ENCLAVE_ERR_IO);
	fixture_free(f);
}

/* A prefix over the limit is refused before any of its body is read. */
static void
test_over_limit_len(void **state)
{
	struct fixture *f = small_limit(ENCLAVE_FRAMING_LEN, 64);
	uint8_t be[4];

	(void)state;
	store_u32be(be, 65);
	peer_write(f->peer, be, 4);
	assert_int_equal(enclave_ping(f->c), ENCLAVE_ERR_PROTOCOL);
	assert_false(enclave_client_connected(f->c));
	fixture_free(f);
}

/*
 * A max_response of SIZE_MAX ("no bound") is cut to the ceiling, so the
 * receive buffer still has a real limit and answers arrive as ever.
 */
static void
test_max_response_past_ceiling(void **state)
{
	struct fixture *f = small_limit(ENCLAVE_FRAMING_LEN, SIZE_MAX);

	(void)state;
	peer_write_len(f->peer, "{\"status\":\"ok\",\"msg\":\"pong\"}");
	assert_int_equal(enclave_ping(f->c), ENCLAVE_OK);
	fixture_free(f);
	f = small_limit(ENCLAVE_FRAMING_LEN, ENCLAVE_MAX_RESPONSE_CEILING);
	peer_write_len(f->peer, "{\"status\":\"ok\",\"msg\":\"pong\"}");
	assert_int_equal(enclave_ping(f->c), ENCLAVE_OK);
	fixture_free(f);
}

/*
 * A length-framed request past FRAME_LENGTH_MAX is refused before a byte
 * is sent: its prefix could begin with a tab or space, which the daemon
 * skips, and then reads the body's first bytes as the prefix (F16).
 */
static void
test_len_request_past_framing_ceiling(void **state)
{
	struct fixture *f = pair(ENCLAVE_FRAMING_LEN);
	size_t n = (size_t)0x20000000;	/* 20 00 00 00 */
	char *req = malloc(n), probe;

	(void)state;
	assert_non_null(req);
	memcpy(req, "{\"type\":\"ping\"}", 15);
	assert_int_equal(enclave_call(f->c, req, FRAME_LENGTH_MAX + 1, NULL,
	    NULL), ENCLAVE_ERR_USAGE);
	assert_int_equal(enclave_call(f->c, req, n, NULL, NULL),
	    ENCLAVE_ERR_USAGE);
	assert_non_null(strstr(enclave_client_error(f->c), "150994943"));
	assert_int_equal(recv(f->peer, &probe, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	free(req);
	fixture_free(f);
}

/* Exactly at the limit is fine, in both framings. */
static void
test_at_limit(void **state)
{
	static const char resp[] = "{\"status\":\"ok\",\"msg\":\"pong\"}";
	struct fixture *f = small_limit(ENCLAVE_FRAMING_RAW, sizeof(resp) - 1);

	(void)state;
	peer_write_str(f->peer, resp);
	assert_int_equal(enclave_ping(f->c), ENCLAVE_OK);
	fixture_free(f);
	f = small_limit(ENCLAVE_FRAMING_LEN, sizeof(resp) - 1);
	peer_write_len(f->peer, resp);
	assert_int_equal(enclave_ping(f->c), ENCLAVE_OK);
	fixture_free(f);
}

/* --- error answers ---------------------------------------------------------- */

static void
test_remote_error(void **state)
{
	struct fixture *f = pair(ENCLAVE_FRAMING_RAW);
	char *result = (char *)1;
	size_t rlen = 7;

	(void)state;
	peer_write_str(f->peer, "{\"status\":\"error\",\"msg\":\"not_configured\","
	    "\"details\":\"no key has been configured\"}\n");
	assert_int_equal(enclave_process(f->c, "00", 2, NULL, &result, &rlen),
	    ENCLAVE_ERR_REMOTE);
	assert_null(result);
	assert_int_equal(rlen, 0);
	assert_string_equal(enclave_client_remote_code(f->c), "not_configured");
	assert_string_equal(enclave_client_remote_details(f->c),
	    "no key has been configured");
	assert_non_null(strstr(enclave_client_error(f->c), "not_configured"));
	assert_non_null(enclave_client_response(f->c, NULL));
	/* The connection stays usable, and the error is cleared by success. */
	assert_true(enclave_client_connected(f->c));
	free(peer_read_request(f->peer, NULL));
	peer_write_str(f->peer, "{\"status\":\"ok\",\"msg\":\"pong\"}\n");
	assert_int_equal(enclave_ping(f->c), ENCLAVE_OK);
	assert_string_equal(enclave_client_remote_code(f->c), "");
	fixture_free(f);
}

/* Every typed call maps status "error" the same way; details may be absent. */
static void
test_remote_error_each_call(void **state)
{
	struct enclave_credentials cr = { "AKIA", "secret", "token" };
	struct fixture *f = pair(ENCLAVE_FRAMING_LEN);
	const char *resp = NULL;

	(void)state;
	peer_write_len(f->peer, "{\"status\":\"error\",\"msg\":\"kms_decrypt_failed\","
	    "\"details\":\"Got non-200 answer from KMS: 400\"}");
	assert_int_equal(enclave_configure(f->c, "QUJD", &cr, NULL),
	    ENCLAVE_ERR_REMOTE);
	assert_string_equal(enclave_client_remote_code(f->c),
	    "kms_decrypt_failed");
	peer_write_len(f->peer, "{\"status\":\"error\",\"msg\":\"internal_error\"}");
	assert_int_equal(enclave_ping(f->c), ENCLAVE_ERR_REMOTE);
	assert_string_equal(enclave_client_remote_details(f->c), "");
	peer_write_len(f->peer, "{\"status\":\"error\",\"msg\":\"unknown_type\"}");
	assert_int_equal(enclave_call(f->c, "{\"type\":\"x\"}", 12, &resp, NULL),
	    ENCLAVE_ERR_REMOTE);
	assert_non_null(resp);
	assert_non_null(strstr(resp, "unknown_type"));
	/* Control characters from the peer never reach a terminal. */
	peer_write_len(f->peer, "{\"status\":\"error\",\"msg\":\"x\\u001b[31m\","
	    "\"details\":\"a\\nb\"}");
	assert_int_equal(enclave_health(f->c, NULL, NULL), ENCLAVE_ERR_REMOTE);
	assert_string_equal(enclave_client_remote_code(f->c), "x?[31m");
	assert_string_equal(enclave_client_remote_details(f->c), "a?b");
	fixture_free(f);
}

/* The daemon answers `busy` (or `too_large`) and hangs up: we get its answer. */
static void
test_answer_then_close(void **state)
{
	struct fixture *f = pair(ENCLAVE_FRAMING_RAW);

	(void)state;
	peer_write_str(f->peer, "{\"status\":\"error\",\"msg\":\"busy\","
	    "\"details\":\"connection limit\"}\n");
	close(f->peer);
	f->peer = -1;
	assert_int_equal(enclave_ping(f->c), ENCLAVE_ERR_REMOTE);
	assert_string_equal(enclave_client_remote_code(f->c), "busy");
	assert_false(enclave_client_connected(f->c));
	fixture_free(f);
}

/* --- malformed answers ---------------------------------------------------- */

static void
expect_protocol_error(enum enclave_framing framing, const char *resp)
{
	struct fixture *f = pair(framing);

	if (framing == ENCLAVE_FRAMING_LEN)
		peer_write_len(f->peer, resp);
	else
		peer_write_str(f->peer, resp);
	assert_int_equal(enclave_ping(f->c), ENCLAVE_ERR_PROTOCOL);
	assert_false(enclave_client_connected(f->c));
	fixture_free(f);
}

static void
test_protocol_errors(void **state)
{
	(void)state;
	expect_protocol_error(ENCLAVE_FRAMING_RAW, "{not json}\n");
	expect_protocol_error(ENCLAVE_FRAMING_RAW, "{\"msg\":\"pong\"}\n");
	expect_protocol_error(ENCLAVE_FRAMING_RAW, "{\"status\":1}\n");
	expect_protocol_error(ENCLAVE_FRAMING_RAW, "HTTP/1.1 400 Bad Request\r\n");
	expect_protocol_error(ENCLAVE_FRAMING_RAW, "{\"status\":\"ok\"}{\"x\":1}");
	expect_protocol_error(ENCLAVE_FRAMING_LEN, "[1,2]");
	expect_protocol_error(ENCLAVE_FRAMING_LEN, "{\"status\":\"ok\"} x");
	/* ping wants status "ok" */
	expect_protocol_error(ENCLAVE_FRAMING_LEN, "{\"status\":\"healthy\"}");
}

/*
 * I-JSON (issue 14 item 1): a response naming a member twice, or with a
 * name holding U+0000, is not the daemon's answer (cJSON would take the
 * first "status": ok here, where the other reader may see error).
 */
static void
test_duplicate_and_nul_names(void **state)
{
	struct fixture *f;
	char *result = NULL;

	(void)state;
	expect_protocol_error(ENCLAVE_FRAMING_RAW,
	    "{\"status\":\"ok\",\"status\":\"error\",\"msg\":\"x\"}\n");
	expect_protocol_error(ENCLAVE_FRAMING_LEN,
	    "{\"status\":\"ok\",\"st\\u0061tus\":\"ok\"}");
	expect_protocol_error(ENCLAVE_FRAMING_LEN,
	    "{\"status\":\"ok\",\"x\":[{\"a\":1,\"a\":1}]}");
	expect_protocol_error(ENCLAVE_FRAMING_RAW,
	    "{\"status\\u0000\":\"error\",\"status\":\"ok\"}\n");
	f = pair(ENCLAVE_FRAMING_RAW);
	peer_write_str(f->peer, "{\"status\":\"ok\",\"result\":\"00\","
	    "\"result\":\"0000000000000000000000000000000000000000000000000000000000000000"
	    "\"}\n");
	assert_int_equal(enclave_process(f->c, "00", 2, NULL, &result, NULL),
	    ENCLAVE_ERR_PROTOCOL);
	assert_null(result);
	assert_non_null(strstr(enclave_client_error(f->c), "duplicate member "
	    "name \"result\""));
	fixture_free(f);
}

static void
test_process_bad_result(void **state)
{
	struct fixture *f = pair(ENCLAVE_FRAMING_RAW);
	char *result = NULL;

	(void)state;
	peer_write_str(f->peer, "{\"status\":\"ok\",\"result\":\"xyz\"}\n");
	assert_int_equal(enclave_process(f->c, "00", 2, NULL, &result, NULL),
	    ENCLAVE_ERR_PROTOCOL);
	assert_null(result);
	fixture_free(f);
	f = pair(ENCLAVE_FRAMING_RAW);
	peer_write_str(f->peer, "{\"status\":\"ok\"}\n");
	assert_int_equal(enclave_process(f->c, "00", 2, NULL, &result, NULL),
	    ENCLAVE_ERR_PROTOCOL);
	fixture_free(f);
}

/* --- timeouts and hang-ups ----------------------------------------------- */

static void
test_timeout(void **state)
{
	struct enclave_client_options o;
	struct fixture *f;
	long long t0, dt;

	(void)state;
	enclave_client_options_init(&o);
	o.io_timeout_ms = 150;
	f = pair_with(&o);
	/* Half an answer, then silence. */
	peer_write_str(f->peer, "{\"status\":");
	t0 = clock_monotonic_ms();
	assert_int_equal(enclave_ping(f->c), ENCLAVE_ERR_TIMEOUT);
	dt = clock_monotonic_ms() - t0;
	assert_true(dt >= 140 && dt < 3000);
	assert_false(enclave_client_connected(f->c));
	fixture_free(f);
}

static void
test_peer_closes(void **state)
{
	struct fixture *f = pair(ENCLAVE_FRAMING_RAW);

	(void)state;
	/* Closed before the request: broken pipe, no answer. */
	close(f->peer);
	f->peer = -1;
	assert_int_equal(enclave_ping(f->c), ENCLAVE_ERR_IO);
	assert_false(enclave_client_connected(f->c));
	fixture_free(f);

	/* Closed in the middle of an answer. */
	f = pair(ENCLAVE_FRAMING_LEN);
	peer_write(f->peer, "\0\0\0\x20{\"sta", 9);
	shutdown(f->peer, SHUT_WR);
	assert_int_equal(enclave_ping(f->c), ENCLAVE_ERR_IO);
	assert_non_null(strstr(enclave_client_error(f->c), "middle"));
	fixture_free(f);
}

/* --- requests built by hand --------------------------------------------- */

static void
test_process_request(void **state)
{
	static const char result_hex[] =
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	struct fixture *f = pair(ENCLAVE_FRAMING_LEN);
	char resp[256], *result = NULL;
	size_t rlen = 0;
	cJSON *req;

	(void)state;
	snprintf(resp, sizeof(resp), "{\"status\":\"ok\",\"result\":\"%s\"}",
	    result_hex);
	peer_write_len(f->peer, resp);
	assert_int_equal(enclave_process(f->c, "ABCDEF0123", 10,
	    "tenant \"7\"\n\\", &result, &rlen), ENCLAVE_OK);
	assert_string_equal(result, result_hex);
	assert_int_equal(rlen, strlen(result_hex));
	enclave_free(result);
	req = peer_request_json(f->peer, FRAME_LENGTH);
	assert_string_equal(str_member(req, "type"), "process");
	assert_string_equal(str_member(req, "ciphertext"), "ABCDEF0123");
	assert_string_equal(str_member(req, "aad"), "tenant \"7\"\n\\");
	cJSON_Delete(req);

	/* No aad (NULL or ""): no aad member at all. */
	peer_write_len(f->peer, resp);
	assert_int_equal(enclave_process(f->c, "00", 2, "", &result, NULL),
	    ENCLAVE_OK);
	enclave_free(result);
	req = peer_request_json(f->peer, FRAME_LENGTH);
	assert_null(cJSON_GetObjectItemCaseSensitive(req, "aad"));
	cJSON_Delete(req);
	fixture_free(f);
}

/* Key ids, the result key and an encryption context, as sent. */
static void
test_key_lifecycle_requests(void **state)
{
	static const char result_hex[] =
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	const char *keys[] = { "tenant", "path\"q" };
	const char *values[] = { "acme", "a=b" };
	struct enclave_credentials cr = { "AKIA", "secret", "token" };
	struct enclave_configure_options co = { .key_id = "acme.v2",
	    .context_keys = keys, .context_values = values, .context_len = 2,
	    .kms_key_id = "1234abcd-12ab-34cd-56ef-1234567890ab" };
	struct enclave_process_options po = { .key_id = "up",
	    .result_key_id = "down", .grant = "01ab" };
	struct fixture *f = pair(ENCLAVE_FRAMING_LEN);
	char resp[256], *result = NULL;
	const cJSON *ec;
	cJSON *req;

	(void)state;
	peer_write_len(f->peer, "{\"status\":\"ok\",\"msg\":\"configured\"}");
	assert_int_equal(enclave_configure_ex(f->c, "QUJD", &cr, &co),
	    ENCLAVE_OK);
	req = peer_request_json(f->peer, FRAME_LENGTH);
	assert_string_equal(str_member(req, "key_id"), "acme.v2");
	assert_string_equal(str_member(req, "kms_key_id"),
	    "1234abcd-12ab-34cd-56ef-1234567890ab");
	assert_null(cJSON_GetObjectItemCaseSensitive(req, "region"));
	ec = cJSON_GetObjectItemCaseSensitive(req, "encryption_context");
	assert_true(cJSON_IsObject(ec));
	assert_int_equal(cJSON_GetArraySize(ec), 2);
	assert_string_equal(str_member(ec, "tenant"), "acme");
	assert_string_equal(str_member(ec, "path\"q"), "a=b");
	cJSON_Delete(req);

	snprintf(resp, sizeof(resp), "{\"status\":\"ok\",\"result\":\"%s\"}",
	    result_hex);
	peer_write_len(f->peer, resp);
	assert_int_equal(enclave_process_ex(f->c, "00", 2, &po, &result, NULL),
	    ENCLAVE_OK);
	enclave_free(result);
	req = peer_request_json(f->peer, FRAME_LENGTH);
	assert_string_equal(str_member(req, "key_id"), "up");
	assert_string_equal(str_member(req, "result_key_id"), "down");
	assert_string_equal(str_member(req, "grant"), "01ab");
	assert_null(cJSON_GetObjectItemCaseSensitive(req, "aad"));
	cJSON_Delete(req);

	peer_write_len(f->peer, "{\"status\":\"ok\",\"msg\":\"forgotten\"}");
	assert_int_equal(enclave_forget(f->c, "up"), ENCLAVE_OK);
	req = peer_request_json(f->peer, FRAME_LENGTH);
	assert_string_equal(str_member(req, "type"), "forget");
	assert_string_equal(str_member(req, "key_id"), "up");
	cJSON_Delete(req);
	peer_write_len(f->peer, "{\"status\":\"error\",\"msg\":\"unknown_key\"}");
	assert_int_equal(enclave_forget(f->c, "up"), ENCLAVE_ERR_REMOTE);
	assert_string_equal(enclave_client_remote_code(f->c), "unknown_key");
	assert_int_equal(enclave_forget(f->c, ""), ENCLAVE_ERR_USAGE);
	fixture_free(f);
}

/* Text that is not hex is escaped, never spliced into the JSON raw. */
static void
test_process_not_hex_escaped(void **state)
{
	static const char evil[] = "00\",\"type\":\"configure\\\x01";
	struct fixture *f = pair(ENCLAVE_FRAMING_RAW);
	char *result = NULL;
	cJSON *req;

	(void)state;
	peer_write_str(f->peer, "{\"status\":\"error\",\"msg\":\"invalid_hex\"}\n");
	assert_int_equal(enclave_process(f->c, evil, sizeof(evil) - 1, NULL,
	    &result, NULL), ENCLAVE_ERR_REMOTE);
	req = peer_request_json(f->peer, FRAME_BARE);
	assert_string_equal(str_member(req, "type"), "process");
	assert_string_equal(str_member(req, "ciphertext"), evil);
	cJSON_Delete(req);
	fixture_free(f);
}

static void
test_configure_request(void **state)
{
	struct enclave_credentials cr = { "AKIAEXAMPLE", "s3cr\"et\\/+=",
	    "tok\ten" };
	struct fixture *f = pair(ENCLAVE_FRAMING_RAW);
	cJSON *req;

	(void)state;
	peer_write_str(f->peer, "{\"status\":\"ok\",\"msg\":\"configured\","
	    "\"timestamp\":\"2025-12-13T10:00:00Z\"}\n");
	assert_int_equal(enclave_configure(f->c, "QUJDRA==", &cr,
	    "eu-west-1"), ENCLAVE_OK);
	req = peer_request_json(f->peer, FRAME_BARE);
	assert_string_equal(str_member(req, "type"), "configure");
	assert_string_equal(str_member(req, "encrypted_tsk"), "QUJDRA==");
	assert_string_equal(str_member(req, "aws_access_key_id"), "AKIAEXAMPLE");
	assert_string_equal(str_member(req, "aws_secret_access_key"),
	    "s3cr\"et\\/+=");
	assert_string_equal(str_member(req, "aws_session_token"), "tok\ten");
	assert_string_equal(str_member(req, "region"), "eu-west-1");
	cJSON_Delete(req);

	/* Without a region, none is sent; the daemon's default applies. */
	peer_write_str(f->peer, "{\"status\":\"ok\",\"msg\":\"configured\"}\n");
	assert_int_equal(enclave_configure(f->c, "QUJDRA==", &cr, NULL),
	    ENCLAVE_OK);
	req = peer_request_json(f->peer, FRAME_BARE);
	assert_null(cJSON_GetObjectItemCaseSensitive(req, "region"));
	cJSON_Delete(req);
	fixture_free(f);
}

/* Usage errors are caught before anything is sent. */
static void
test_usage_errors(void **state)
{
	struct enclave_credentials cr = { "A", "", "T" };
	struct fixture *f = pair(ENCLAVE_FRAMING_RAW);
	struct pollfd pfd;
	char *result;

	(void)state;
	assert_int_equal(enclave_configure(f->c, "QUJD", &cr, NULL),
	    ENCLAVE_ERR_USAGE);
	assert_int_equal(enclave_configure(f->c, "QUJD", NULL, NULL),
	    ENCLAVE_ERR_USAGE);
	assert_int_equal(enclave_configure(f->c, "", &cr, NULL),
	    ENCLAVE_ERR_USAGE);
	assert_int_equal(enclave_process(f->c, NULL, 4, NULL, &result, NULL),
	    ENCLAVE_ERR_USAGE);
	assert_int_equal(enclave_process(f->c, "00", 2, NULL, NULL, NULL),
	    ENCLAVE_ERR_USAGE);
	/* Raw framing: exactly one JSON object per call. */
	assert_int_equal(enclave_call(f->c, "[1]", 3, NULL, NULL),
	    ENCLAVE_ERR_USAGE);
	assert_int_equal(enclave_call(f->c, "{} {}", 5, NULL, NULL),
	    ENCLAVE_ERR_USAGE);
	assert_int_equal(enclave_call(f->c, "{\"a\":\"}\"", 8, NULL, NULL),
	    ENCLAVE_ERR_USAGE);
	pfd.fd = f->peer;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_true(enclave_client_connected(f->c));
	fixture_free(f);
}

static void
test_raw_call(void **state)
{
	struct fixture *f = pair(ENCLAVE_FRAMING_RAW);
	const char *resp;
	size_t len;
	char *req;

	(void)state;
	peer_write_str(f->peer, "{\"status\":\"ok\",\"msg\":\"pong\"}\n");
	assert_int_equal(enclave_call(f->c, "  {\"type\":\"ping\"}\n", 18,
	    &resp, &len), ENCLAVE_OK);
	assert_string_equal(resp, "{\"status\":\"ok\",\"msg\":\"pong\"}");
	req = peer_read_request(f->peer, NULL);
	assert_string_equal(req, "{\"type\":\"ping\"}");
	free(req);
	fixture_free(f);
}

/* --- a large request and answer through a thread peer -------------------- */

struct echo_peer {
	int    fd;
	size_t hex_len;
	int    ok;
};

/* Check the request's ciphertext and answer with it reversed. */
static void *
echo_peer(void *arg)
{
	struct echo_peer *e = arg;
	char *text = peer_read_request(e->fd, NULL);
	cJSON *doc = cJSON_Parse(text);
	const char *ct = doc ? str_member(doc, "ciphertext") : NULL;
	struct buf resp = BUF_INIT;
	size_t i;

	e->ok = ct != NULL && strlen(ct) == e->hex_len;
	for (i = 0; e->ok && i < e->hex_len; i++)
		e->ok = ct[i] == "0123456789abcdef"[i % 16];
	buf_append_str(&resp, "{\"status\":\"ok\",\"result\":\"", PEER_MAX);
	for (i = 0; i < e->hex_len; i++)
		buf_append(&resp, &"fedcba9876543210"[i % 16], 1, PEER_MAX);
	buf_append_str(&resp, "\"}\n", PEER_MAX);
	peer_write(e->fd, resp.data, resp.len);
	buf_free(&resp, 0);
	cJSON_Delete(doc);
	free(text);
	return NULL;
}

static void
test_large_process(void **state)
{
	struct fixture *f = pair(ENCLAVE_FRAMING_RAW);
	struct echo_peer e;
	size_t n = (size_t)8 << 20, i, rlen;
	char *hex = malloc(n), *result = NULL;
	pthread_t th;

	(void)state;
	assert_non_null(hex);
	for (i = 0; i < n; i++)
		hex[i] = "0123456789abcdef"[i % 16];
	e.fd = f->peer;
	e.hex_len = n;
	e.ok = 0;
	assert_int_equal(pthread_create(&th, NULL, echo_peer, &e), 0);
	assert_int_equal(enclave_process(f->c, hex, n, "aad", &result, &rlen),
	    ENCLAVE_OK);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(e.ok);
	assert_int_equal(rlen, n);
	for (i = 0; i < n; i++)
		if (result[i] != "fedcba9876543210"[i % 16])
			break;
	assert_int_equal(i, n);
	enclave_free(result);
	free(hex);
	fixture_free(f);
}

/* --- endpoints ------------------------------------------------------------ */

static void
test_connect_errors(void **state)
{
	struct enclave_client *c = enclave_client_new(NULL);

	(void)state;
	assert_non_null(c);
	assert_int_equal(enclave_client_connect(c, "bogus:1"), ENCLAVE_ERR_USAGE);
	assert_non_null(strstr(enclave_client_error(c), "bogus:1"));
	assert_int_equal(enclave_client_connect(c, "vsock:5000"),
	    ENCLAVE_ERR_USAGE);
	assert_int_equal(enclave_client_connect(c, NULL), ENCLAVE_ERR_USAGE);
	assert_int_equal(enclave_client_reconnect(c), ENCLAVE_ERR_USAGE);
	assert_int_equal(enclave_client_connect(c,
	    "unix:/nonexistent/enclave.sock"), ENCLAVE_ERR_CONNECT);
	assert_int_equal(enclave_client_connect(c, "tcp:127.0.0.1:1"),
	    ENCLAVE_ERR_CONNECT);
	assert_false(enclave_client_connected(c));
	assert_int_equal(enclave_ping(c), ENCLAVE_ERR_IO);
	assert_string_equal(enclave_strerror(ENCLAVE_ERR_TIMEOUT), "timeout");
	assert_string_equal(enclave_strerror(ENCLAVE_ERR_REMOTE), "enclave error");
	enclave_client_free(c);
	enclave_client_free(NULL);
	enclave_free(NULL);
}

struct acceptor {
	int lfd;
	int conns;
};

/* Accept `conns` connections, answering one ping on each. */
static void *
acceptor(void *arg)
{
	struct acceptor *a = arg;
	struct pollfd pfd = { .fd = a->lfd, .events = POLLIN };
	int i, fd;

	for (i = 0; i < a->conns; i++) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(fcntl(fd, F_SETFL, 0), 0);
		free(peer_read_request(fd, NULL));
		peer_write_str(fd, "{\"status\":\"ok\",\"msg\":\"pong\"}\n");
		close(fd);
	}
	return NULL;
}

static void
endpoint_roundtrip(const char *listen_text)
{
	struct endpoint ep;
	struct acceptor a;
	struct enclave_client *c = enclave_client_new(NULL);
	char text[ENDPOINT_STR_MAX];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	pthread_t th;

	assert_int_equal(endpoint_parse(&ep, listen_text, 1, NULL), 0);
	assert_true((a.lfd = endpoint_listen(&ep, 4)) >= 0);
	a.conns = 2;
	if (ep.kind == ENDPOINT_TCP) {
		assert_int_equal(getsockname(a.lfd, (struct sockaddr *)&ss, &sl), 0);
		snprintf(text, sizeof(text), "tcp:127.0.0.1:%u",
		    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	} else {
		snprintf(text, sizeof(text), "%s", listen_text);
	}
	assert_int_equal(pthread_create(&th, NULL, acceptor, &a), 0);
	assert_int_equal(enclave_client_connect(c, text), ENCLAVE_OK);
	assert_int_equal(enclave_ping(c), ENCLAVE_OK);
	/* The peer closed: the next call says so, and reconnect recovers. */
	assert_int_equal(enclave_ping(c), ENCLAVE_ERR_IO);
	assert_int_equal(enclave_client_reconnect(c), ENCLAVE_OK);
	assert_int_equal(enclave_ping(c), ENCLAVE_OK);
	assert_int_equal(pthread_join(th, NULL), 0);
	close(a.lfd);
	enclave_client_free(c);
}

static void
test_unix_endpoint(void **state)
{
	char path[64], listen_text[80];

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_client.%d.sock", (int)getpid());
	snprintf(listen_text, sizeof(listen_text), "unix:%s", path);
	endpoint_roundtrip(listen_text);
	unlink(path);
}

static void
test_tcp_endpoint(void **state)
{
	(void)state;
	endpoint_roundtrip("tcp:127.0.0.1:0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping_raw),
		cmocka_unit_test(test_ping_len),
		cmocka_unit_test(test_keep_alive_raw),
		cmocka_unit_test(test_keep_alive_len),
		cmocka_unit_test(test_leading_whitespace),
		cmocka_unit_test(test_split_raw),
		cmocka_unit_test(test_split_len),
		cmocka_unit_test(test_over_limit_raw),
		cmocka_unit_test(test_over_limit_len),
		cmocka_unit_test(test_max_response_past_ceiling),
		cmocka_unit_test(test_len_request_past_framing_ceiling),
		cmocka_unit_test(test_at_limit),
		cmocka_unit_test(test_remote_error),
		cmocka_unit_test(test_remote_error_each_call),
		cmocka_unit_test(test_answer_then_close),
		cmocka_unit_test(test_protocol_errors),
		cmocka_unit_test(test_process_bad_result),
		cmocka_unit_test(test_duplicate_and_nul_names),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_peer_closes),
		cmocka_unit_test(test_process_request),
		cmocka_unit_test(test_process_not_hex_escaped),
		cmocka_unit_test(test_configure_request),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_raw_call),
		cmocka_unit_test(test_large_process),
		cmocka_unit_test(test_key_lifecycle_requests),
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test(test_unix_endpoint),
		cmocka_unit_test(test_tcp_endpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
