/*
 * http.c - libmicrohttpd: listening, bodies, routing, replies.
 *
 * A thread per connection: a request blocks its own thread while it waits
 * for an enclave (the pool's bounded queue decides how many may wait), and
 * nothing here parses HTTP. The listening socket comes from
 * common/endpoint, so HOST:PORT means what it means everywhere else.
 * Bodies are collected up to --max-body; a longer one gets 413 (at once
 * when Content-Length says so). Every body, and room for its answer,
 * is claimed from one budget (--memory-limit): past it 503 `overloaded`
 * and a close, at once for a declared length. A request must arrive whole within
 * --timeout (deadline.c). Logs name the method, path, status, error code,
 * time and enclave: never a body.
 */
#include "host/gateway/http.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/buf.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "common/memory_budget.h"
#include "common/number.h"
#include "common/timefmt.h"
#include "host/gateway/api.h"
#include "host/gateway/deadline.h"
#include "host/gateway/metrics.h"
#include "host/gateway/pool.h"

#define HTTP_THREAD_STACK   ((size_t)512 << 10)
#define HTTP_IDLE_TIMEOUT_S 60

struct http_front {
	struct MHD_Daemon  *d;
	struct gateway_ctx *g;
	struct deadlines   *deadlines;
	/* --memory-limit: every request body and its answer (F30). */
	struct memory_budget memory;
	int                 fd;
};

/* What one request carries between the handler's calls. */
struct request {
	struct buf body;
	long long  start_ms;
	int        too_large;
	int        over_memory;	/* the memory limit refused its body */
	int        answered;	/* a reply is queued already */
	size_t     dropped;	/* body bytes read past the limit */
	size_t     claimed;	/* of the memory budget: body and answer */
	/* GET /v1/attestation's query (values owned by libmicrohttpd). */
	const char *q_nonce, *q_user_data;
	char        q_error[128];	/* why the query cannot be used */
};

/*
 * The attestation query: nonce and user_data, each at most once, and
 * nothing else: above all no public_key, since KMS encrypts to the key in
 * a document (the enclave refuses one too).
 */
static enum MHD_Result
take_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct request *r = cls;
	const char **slot = NULL;

	(void)kind;
	if (r->q_error[0] != '\0')
		return MHD_NO;
	if (strcmp(key, "nonce") == 0)
		slot = &r->q_nonce;
	else if (strcmp(key, "user_data") == 0)
		slot = &r->q_user_data;
	if (slot == NULL)
		snprintf(r->q_error, sizeof(r->q_error), "%s",
		    strcmp(key, "public_key") == 0 ? "public_key: no caller may "
		    "choose the document's public key (KMS would encrypt to it)" :
		    "the query takes nonce and user_data only");
	else if (*slot != NULL)
		snprintf(r->q_error, sizeof(r->q_error), "%s is given twice",
		    key);
	else
		*slot = value != NULL ? value : "";
	return r->q_error[0] != '\0' ? MHD_NO : MHD_YES;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_warn("http: %s", line);
}

/* The connection's deadline clock (deadline.h), kept as its socket context. */
static struct deadline_conn *
clock_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/* From accept to close, every connection is on the deadline watch. */
static void
connection_event(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_front *h = cls;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = ci != NULL ?
		    deadline_track(h->deadlines, ci->connect_fd) : NULL;
		if (*socket_context == NULL)
			log_warn("http: a connection without a deadline "
			    "(out of memory)");
	} else if (*socket_context != NULL) {
		deadline_forget(h->deadlines, *socket_context);
		*socket_context = NULL;
	}
}

/* Move the connection's clock on; -1 when its deadline passed. */
static int
enter_phase(struct http_front *h, struct MHD_Connection *c,
    enum deadline_phase p)
{
	struct deadline_conn *clock = clock_of(c);

	return clock != NULL ? deadline_enter(h->deadlines, clock, p) : 0;
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct request *r = *con_cls;

	(void)toe;
	/* The next request on this connection has --timeout from now. */
	(void)enter_phase(cls, c, DEADLINE_HEADERS);
	if (r == NULL)
		return;
	memory_budget_release(&((struct http_front *)cls)->memory, r->claimed);
	buf_free(&r->body, 0);
	free(r);
	*con_cls = NULL;
}

/* The body goes to MHD, which frees it; a failure costs the connection. */
static enum MHD_Result
send_reply(struct gateway_ctx *g, struct MHD_Connection *c,
    struct api_reply *rep)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char ra[16];

	if (rep->body.len > 0) {
		resp = MHD_create_response_from_buffer(rep->body.len,
		    rep->body.data, MHD_RESPMEM_MUST_FREE);
		if (resp != NULL)
			(void)buf_release(&rep->body);
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
		    MHD_RESPMEM_PERSISTENT);
	}
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    rep->content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (rep->retry_after > 0) {
		snprintf(ra, sizeof(ra), "%d", rep->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (rep->close || atomic_load(&g->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	ret = MHD_queue_response(c, (unsigned)rep->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The memory limit's answer: the daemon's `busy` and close, in HTTP. */
static void
overloaded(struct api_reply *rep)
{
	api_error(rep, 503, "overloaded", "the gateway's memory limit "
	    "(--memory-limit) is reached");
	rep->close = 1;
}

/*
 * Claim room for a body of `len` bytes and an answer as large (the
 * result of a process request is about its ciphertext's size), on top of
 * what the request holds: -1 (nothing claimed) past --memory-limit.
 */
static int
claim_body(struct http_front *h, struct request *r, size_t len)
{
	size_t want;

	if (len > SIZE_MAX / 2)
		return -1;
	want = 2 * len;
	if (want <= r->claimed)
		return 0;
	if (memory_budget_claim(&h->memory, want - r->claimed) < 0)
		return -1;
	r->claimed = want;
	return 0;
}

/* An answer larger than the room claimed for it is counted anyway. */
static void
count_answer(struct http_front *h, struct request *r, size_t answer)
{
	size_t room = r->claimed - (r->claimed < r->body.len ? r->claimed :
	    r->body.len);

	if (answer > room) {
		memory_budget_force(&h->memory, answer - room);
		r->claimed += answer - room;
	}
}

static void
route(struct gateway_ctx *g, const char *url, const char *method,
    struct request *r, struct api_reply *rep)
{
	int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (strcmp(url, "/v1/process") == 0) {
		if (strcmp(method, "POST") != 0)
			api_error(rep, 405, "method_not_allowed",
			    "use POST /v1/process");
		else if (atomic_load(&g->draining))
			api_error(rep, 503, "shutting_down",
			    "the gateway is stopping");
		else if (r->too_large)
			api_wire_error(rep, WIRE_TOO_LARGE, "the body is "
			    "larger than --max-body");
		else if (r->over_memory)
			overloaded(rep);
		else
			api_process(g, (const char *)r->body.data, r->body.len,
			    rep);
	} else if (strcmp(url, "/v1/attestation") == 0) {
		if (!is_get)
			api_error(rep, 405, "method_not_allowed",
			    "use GET /v1/attestation?nonce=HEX");
		else if (atomic_load(&g->draining))
			api_error(rep, 503, "shutting_down",
			    "the gateway is stopping");
		else
			api_attestation(g, r->q_nonce, r->q_user_data,
			    r->q_error[0] != '\0' ? r->q_error : NULL, rep);
	} else if (strcmp(url, "/healthz") == 0) {
		if (is_get)
			api_healthz(g, rep);
		else
			api_error(rep, 405, "method_not_allowed",
			    "use GET /healthz");
	} else if (strcmp(url, "/metrics") == 0) {
		if (is_get)
			api_metrics(g, rep);
		else
			api_error(rep, 405, "method_not_allowed",
			    "use GET /metrics");
	} else {
		api_error(rep, 404, "not_found", "no such endpoint");
	}
}

static void
account(struct gateway_ctx *g, const char *url, const char *method,
    const struct api_reply *rep, long long start_ms)
{
	double secs = (double)(clock_monotonic_ms() - start_ms) / 1000.0;
	const char *where = "";
	/* A path from the client is not logged as it is (it may hold a
	 * newline once unescaped): only the routes are named. */
	const char *path = strcmp(url, "/v1/process") == 0 ||
	    strcmp(url, "/v1/attestation") == 0 ||
	    strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0 ?
	    url : "(other path)";
	const char *verb = strcmp(method, "GET") == 0 ||
	    strcmp(method, "POST") == 0 || strcmp(method, "HEAD") == 0 ?
	    method : "(other method)";

	if (strcmp(url, "/metrics") != 0 && strcmp(url, "/healthz") != 0)
		metrics_request(g->metrics, rep->status, secs,
		    rep->error[0] ? rep->error : NULL);
	if (rep->enclave >= 0)
		where = pool_enclave_name(g->pool, rep->enclave);
	if (rep->status >= 400 && strcmp(url, "/healthz") != 0)
		log_info("%s %s %d %s %.1f ms%s%s", verb, path, rep->status,
		    rep->error, secs * 1000, *where ? " enclave " : "", where);
	else
		log_debug("%s %s %d %.1f ms%s%s", verb, path, rep->status,
		    secs * 1000, *where ? " enclave " : "", where);
}

/*
 * A Content-Length past --max-body: 413 before any of the body. MHD has
 * refused one that is not a number already; read by the common rule
 * (common/number.c), a value past 2^64 - 1 is too large, never wrapped.
 */
static int
declared_too_large(const char *content_length, size_t max_body)
{
	uint64_t n;

	return content_length != NULL &&
	    number_parse(content_length, 0, max_body, &n) < 0;
}

/*
 * An answer before any of the body (413 when Content-Length says it is
 * too large, 400 for ambiguous framing): MHD reads none of the body and
 * closes the connection after the answer, and so that no byte of it can
 * be read as a next request, the answer says so (Connection: close).
 */
static enum MHD_Result
reject_at_once(struct http_front *h, struct MHD_Connection *c,
    const char *url, const char *method, struct request *r,
    struct api_reply *rep)
{
	enum MHD_Result ret;

	rep->close = 1;
	account(h->g, url, method, rep, r->start_ms);
	ret = send_reply(h->g, c, rep);
	api_reply_free(rep);
	r->answered = 1;
	return ret;
}

/*
 * RFC 9112 6.1: a message with both Transfer-Encoding and Content-Length
 * may be read two ways (a front end counting Content-Length, the gateway
 * the chunks), so the bytes one counts as body the other could run as a
 * second request. Such a request is refused and its connection closed,
 * whatever the Transfer-Encoding says (F33).
 */
static int
framing_ambiguous(struct MHD_Connection *c, const char *content_length)
{
	return content_length != NULL && MHD_lookup_connection_value(c,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_front *h = cls;
	struct request *r = *con_cls;
	struct api_reply rep;
	const char *cl;
	enum MHD_Result ret;
	uint64_t declared;
	int counted;

	(void)version;
	if (r == NULL) {
		/* The headers are in: a late body now gets 408. */
		if (enter_phase(h, c, DEADLINE_BODY) < 0)
			return MHD_NO;
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		r->start_ms = clock_monotonic_ms();
		*con_cls = r;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		api_reply_init(&rep);
		if (framing_ambiguous(c, cl)) {
			api_error(&rep, 400, "ambiguous_framing", "a request "
			    "must not carry both Content-Length and "
			    "Transfer-Encoding (RFC 9112 6.1)");
			return reject_at_once(h, c, url, method, r, &rep);
		}
		if (declared_too_large(cl, h->g->opts->max_body)) {
			r->too_large = 1;
			api_wire_error(&rep, WIRE_TOO_LARGE,
			    "the body is larger than --max-body");
			return reject_at_once(h, c, url, method, r, &rep);
		}
		/* A declared body is claimed whole before any of it is read,
		 * so uploads held one byte short cannot pass the limit. */
		if (cl != NULL && (number_parse(cl, 0, h->g->opts->max_body,
		    &declared) < 0 || claim_body(h, r, (size_t)declared) < 0)) {
			r->over_memory = 1;
			overloaded(&rep);
			return reject_at_once(h, c, url, method, r, &rep);
		}
		api_reply_free(&rep);
		return MHD_YES;
	}
	if (r->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		/*
		 * A chunked body over the limit: MHD cannot answer in the
		 * middle of one, so the rest is read and dropped (memory stays
		 * bounded) and 413 follows; a sender that goes on past twice
		 * the limit loses the connection instead.
		 */
		if (r->too_large || r->over_memory) {
			r->dropped += *upload_data_size;
			*upload_data_size = 0;
			return r->dropped > h->g->opts->max_body ? MHD_NO :
			    MHD_YES;
		}
		/* A chunked body claims as it grows; past the memory limit
		 * it is dropped like one past --max-body, then 503. */
		if (*upload_data_size > h->g->opts->max_body - r->body.len ||
		    buf_append(&r->body, upload_data, *upload_data_size,
		    h->g->opts->max_body) < 0) {
			r->too_large = 1;
			buf_free(&r->body, 0);
		} else if (claim_body(h, r, r->body.len) < 0) {
			r->over_memory = 1;
			buf_free(&r->body, 0);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* Whole: from here the pool's --timeout bounds it. */
	if (enter_phase(h, c, DEADLINE_SERVING) < 0)
		return MHD_NO;
	/* In flight: what an enclave answers, which the drain waits for. */
	counted = strcmp(url, "/v1/process") == 0 ||
	    strcmp(url, "/v1/attestation") == 0;
	if (strcmp(url, "/v1/attestation") == 0)
		(void)MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND,
		    take_query_arg, r);
	if (counted)
		metrics_in_flight(h->g->metrics, 1);
	api_reply_init(&rep);
	route(h->g, url, method, r, &rep);
	count_answer(h, r, rep.body.len);
	account(h->g, url, method, &rep, r->start_ms);
	ret = send_reply(h->g, c, &rep);
	api_reply_free(&rep);
	if (counted)
		metrics_in_flight(h->g->metrics, -1);
	return ret;
}

struct http_front *
http_start(struct gateway_ctx *g)
{
	char text[ENDPOINT_STR_MAX + 8];
	struct http_front *h;
	struct endpoint ep;
	struct reason why;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->g = g;
	h->fd = -1;
	memory_budget_init(&h->memory, g->opts->memory_limit);
	if ((h->deadlines = deadlines_start(g->opts->timeout_ms,
	    g->metrics)) == NULL)
		goto fail;
	snprintf(text, sizeof(text), "tcp:%s", g->opts->listen);
	if (endpoint_parse(&ep, text, 1, &why) < 0) {
		log_error("--listen %s: %s", g->opts->listen, why.text);
		goto fail;
	}
	if ((h->fd = endpoint_listen(&ep, 1024)) < 0) {
		log_error("cannot listen on %s: %m", g->opts->listen);
		goto fail;
	}
	h->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, handle, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)g->opts->max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
	    MHD_OPTION_THREAD_STACK_SIZE, HTTP_THREAD_STACK,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, connection_event, h,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		log_error("cannot start the HTTP server on %s", g->opts->listen);
		close(h->fd);
		goto fail;
	}
	log_info("listening on http://%s", g->opts->listen);
	return h;
fail:
	deadlines_stop(h->deadlines);
	free(h);
	return NULL;
}

void
http_quiesce(struct http_front *h)
{
	MHD_socket fd = MHD_quiesce_daemon(h->d);

	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	h->fd = -1;
}

void
http_stop(struct http_front *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);	/* closes the listening socket if still open */
	deadlines_stop(h->deadlines);
	free(h);
}
