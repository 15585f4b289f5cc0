/*
 * connection.c - one client connection on a worker's event loop.
 *
 * Bytes come in, the frame scanner finds whole messages, each is parsed,
 * executed (or handed to a job thread when it would block), and its
 * response queued in the framing it came in. Responses leave in order:
 * while a job runs or too much output waits, the connection reads nothing
 * more, which is also its backpressure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/guard.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "enclave/server_internal.h"

/* Read in pieces of at least this much. */
#define READ_CHUNK      (64 * 1024)
/* Stop taking requests while this much output waits to be sent. */
#define OUT_HIGH_WATER  (256 * 1024)
/*
 * A connection keeps its buffers between requests (a 16 MiB request then
 * reuses the pages of the last one instead of faulting in 64 MiB afresh)
 * and gives them back after this long without traffic.
 */
#define KEEP_BUFFERS_MS 1000
static const struct options *
opts(const struct connection *c)
{
	return c->worker->server->ctx->opt;
}

static struct memory_budget *
budget(const struct connection *c)
{
	return &c->worker->server->ctx->memory;
}

/*
 * Bytes read but not yet parsed may be a configure's credentials: wipe
 * them before the buffer is let go (parsed ones were wiped already).
 */
static void
wipe_unparsed_input(struct connection *c)
{
	if (c->in.len > 0)
		OPENSSL_cleanse(c->in.data, c->in.len);
}

/* The claim follows what the buffers hold now, up or down. */
static void
settle_claim(struct connection *c)
{
	size_t holds = c->in.cap + c->out.cap;

	if (holds > c->claimed)
		memory_budget_force(budget(c), holds - c->claimed);
	else
		memory_budget_release(budget(c), c->claimed - holds);
	c->claimed = holds;
}

/*
 * Before a request is read into a grown buffer, claim the buffer and room
 * for an answer as large; -1 when the budget has no room for both.
 */
static int
claim_for_input(struct connection *c)
{
	size_t answer = c->out.cap > c->in.cap ? c->out.cap : c->in.cap;
	size_t want = c->in.cap + answer;

	if (want <= c->claimed)
		return 0;
	if (memory_budget_claim(budget(c), want - c->claimed) < 0) {
		/* Blocks kept for later must not turn a request away. */
		buffer_cache_drop(&c->worker->cache);
		if (memory_budget_claim(budget(c), want - c->claimed) < 0)
			return -1;
	}
	c->claimed = want;
	return 0;
}

static void
set_interest(struct connection *c)
{
	struct epoll_event ev = { .data.ptr = &c->watch };
	int stopping = atomic_load(&c->worker->server->stopping);
	uint32_t want = 0;

	if (c->out.len > c->out_sent)
		want |= EPOLLOUT;
	if (!c->peer_done && !c->close_after_write && !stopping &&
	    c->out.len - c->out_sent < OUT_HIGH_WATER)
		want |= EPOLLIN;
	if (c->busy) {
		/* Not watched at all while a job runs: no events to spin on. */
		if (c->in_epoll) {
			epoll_ctl(c->worker->epoll_fd, EPOLL_CTL_DEL, c->watch.fd,
			    NULL);
			c->in_epoll = 0;
		}
		return;
	}
	ev.events = want;
	if (!c->in_epoll) {
		if (epoll_ctl(c->worker->epoll_fd, EPOLL_CTL_ADD, c->watch.fd,
		    &ev) == 0)
			c->in_epoll = 1;
		else
			c->dead = 1;
		c->events = want;
		return;
	}
	if (want != c->events &&
	    epoll_ctl(c->worker->epoll_fd, EPOLL_CTL_MOD, c->watch.fd, &ev) == 0)
		c->events = want;
}

struct connection *
connection_new(struct worker *w, int fd)
{
	struct connection *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->watch.kind = WATCH_CONNECTION;
	c->watch.fd = fd;
	c->worker = w;
	c->id = atomic_fetch_add(&w->server->next_conn_id, 1) + 1;
	c->last_io_ms = clock_monotonic_ms();
	set_interest(c);
	if (c->dead) {
		free(c);
		return NULL;
	}
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	atomic_fetch_add(&w->server->ctx->stats.connections_total, 1);
	return c;
}

static void
connection_close(struct connection *c, const char *why)
{
	struct worker *w = c->worker;

	log_info("connection %llu closed: %s", (unsigned long long)c->id, why);
	/* Closing the only descriptor takes it out of epoll as well. */
	close(c->watch.fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	atomic_fetch_sub(&w->server->ctx->stats.connections, 1);
	wipe_unparsed_input(c);
	buffer_cache_put(&w->cache, &c->in, c->last_io_ms);
	buffer_cache_put(&w->cache, &c->out, c->last_io_ms);
	settle_claim(c);
	free(c);
}

/* Queue a framed response; takes the reply's buffer over when it can. */
static void
queue_reply(struct connection *c, struct reply *reply, enum frame_kind kind)
{
	struct slice s = reply_frame(reply, kind);

	if (s.data == NULL) {
		c->dead = 1;
		return;
	}
	if (c->out.len == c->out_sent) {
		c->out_sent = (size_t)(s.data - reply->body.data);
		buf_free(&c->out, 0);
		buf_move(&c->out, &reply->body);
		return;
	}
	/*
	 * Bounded by what was sent (dropped once all is), what waits (under
	 * OUT_HIGH_WATER: no request is taken, no input read, past it) and
	 * this reply.
	 */
	if (buf_append(&c->out, s.data, s.len,
	    c->out_sent + OUT_HIGH_WATER + reply->limit + 1) < 0)
		c->dead = 1;
}

static void
count_and_log(struct connection *c, const char *type, const char *outcome,
    long long started_ms)
{
	struct enclave_stats *st = &c->worker->server->ctx->stats;
	int ok = strcmp(outcome, "ok") == 0;

	atomic_fetch_add(&st->requests, 1);
	if (!ok)
		atomic_fetch_add(&st->errors, 1);
	log_msg(ok ? LOG_INFO : LOG_WARN, "connection %llu: %s -> %s (%lld ms)",
	    (unsigned long long)c->id, type, outcome,
	    clock_monotonic_ms() - started_ms);
}

/* A blocking request: off to a job thread, or answered with the failure. */
static void
start_job(struct connection *c, struct request *req, struct reply *reply,
    enum frame_kind kind, long long started_ms)
{
	c->busy = 1;
	if (job_start(c, req, reply, kind, started_ms) == 0)
		return;
	c->busy = 0;
	request_finish(req, &c->in);
	reply_error(reply, WIRE_INTERNAL_ERROR, "cannot start a worker thread");
	count_and_log(c, reply->request, reply->outcome, started_ms);
	queue_reply(c, reply, kind);
	reply_free(reply);
}

void
connection_job_done(struct job *job)
{
	struct connection *c = job->conn;

	c->busy = 0;
	count_and_log(c, job->reply.request, job->reply.outcome, job->started_ms);
	queue_reply(c, &job->reply, job->framing);
	reply_free(&job->reply);
	settle_claim(c);
	free(job);
	connection_on_event(c, 0);
}

/*
 * Parse one message and answer it. The request takes the message out of
 * the input buffer as it parses (request.h), before executing, so a big
 * request's wire copy is gone by the time its plaintext and response are
 * in memory.
 */
static void
handle_message(struct connection *c, const struct frame *f)
{
	struct enclave_ctx *ctx = c->worker->server->ctx;
	size_t limit = request_reply_limit(ctx->opt);
	long long started = clock_monotonic_ms();
	struct request *req;
	struct reply reply;

	if (c->out.len == c->out_sent) {
		buf_truncate(&c->out, 0);
		c->out_sent = 0;
		/* The answer is about as large as the request: a kept block? */
		if (c->out.cap < f->len)
			buffer_cache_take(&c->worker->cache, &c->out, f->len + 256,
			    limit, started);
		reply_init_reusing(&reply, limit, &c->out);
	} else {
		reply_init(&reply, limit);
	}
	req = request_parse(ctx, &c->in, f->offset, f->len, &reply);
	frame_reset(&c->scan);
	c->message_started_ms = 0;

	if (req != NULL && request_blocks(req)) {
		start_job(c, req, &reply, f->kind, started);
		return;
	}
	if (req != NULL)
		request_execute(ctx, req, &reply);
	count_and_log(c, reply.request, reply.outcome, started);
	request_finish(req, &c->in);
	queue_reply(c, &reply, f->kind);
	reply_free(&reply);
	settle_claim(c);
}

/* Handle every whole message buffered, as long as we may answer. */
static void
process_input(struct connection *c)
{
	size_t max = opts(c)->max_message;

	while (!c->busy && !c->dead && !c->close_after_write &&
	    c->out.len - c->out_sent < OUT_HIGH_WATER) {
		struct frame f;
		enum frame_result r;

		r = frame_scan(&c->scan, c->in.data, c->in.len, max, &f);
		buf_consume(&c->in, f.skip);
		if (r == FRAME_NEED_MORE) {
			if (c->in.len > 0 && c->message_started_ms == 0)
				c->message_started_ms = clock_monotonic_ms();
			return;
		}
		if (r == FRAME_TOO_LARGE) {
			struct reply reply;

			reply_init(&reply, 4096);
			reply_error(&reply, WIRE_TOO_LARGE, "message exceeds the "
			    "maximum of %zu bytes", max);
			count_and_log(c, "request", reply.outcome,
			    clock_monotonic_ms());
			queue_reply(c, &reply, f.kind);
			reply_free(&reply);
			c->close_after_write = 1;
			return;
		}
		handle_message(c, &f);
	}
}

/*
 * Room to read into, as the input buffer's tail: all the block has (a
 * kept block may be big), at least READ_CHUNK or, for a length-framed
 * message, exactly what is missing of it. NULL when nothing fits.
 */
static uint8_t *
read_room(struct connection *c, size_t *room)
{
	size_t limit = opts(c)->max_message + FRAME_LENGTH_PREFIX + READ_CHUNK;
	size_t want = READ_CHUNK;

	if (c->scan.kind == FRAME_LENGTH && c->in.len >= FRAME_LENGTH_PREFIX) {
		size_t total = FRAME_LENGTH_PREFIX + load_u32be(c->in.data);

		if (total > c->in.len && total - c->in.len > want)
			want = total - c->in.len;
	}
	if (c->in.cap - c->in.len < want && c->in.len + want <= limit)
		buffer_cache_take(&c->worker->cache, &c->in, c->in.len + want,
		    limit, c->last_io_ms);
	if (buf_reserve(&c->in, want, limit) < 0 &&
	    buf_reserve(&c->in, limit - c->in.len, limit) < 0)
		return NULL;
	/* The block is within the limit (buffer_cache_take's too). */
	*room = c->in.cap - c->in.len;
	return buf_tail(&c->in, *room, limit);
}

/*
 * Past the memory budget: answer busy and close, like a message too large,
 * dropping what was read of it. The client may retry once others finish.
 */
static void
refuse_over_budget(struct connection *c)
{
	enum frame_kind kind = c->scan.kind == FRAME_LENGTH ? FRAME_LENGTH :
	    FRAME_BARE;
	struct reply reply;

	log_warn("connection %llu: request refused: the daemon's buffers are "
	    "at --memory-limit (%zu bytes)", (unsigned long long)c->id,
	    opts(c)->memory_limit);
	wipe_unparsed_input(c);
	buf_free(&c->in, 0);
	reply_init(&reply, 4096);
	reply_error(&reply, WIRE_BUSY, "the daemon is at its memory limit; "
	    "retry later");
	count_and_log(c, "request", reply.outcome, clock_monotonic_ms());
	queue_reply(c, &reply, kind);
	reply_free(&reply);
	settle_claim(c);
	c->close_after_write = 1;
}

static void
do_read(struct connection *c)
{
	uint8_t *dst;
	size_t room;
	ssize_t n;

	if ((dst = read_room(c, &room)) == NULL) {
		c->dead = 1;
		return;
	}
	if (claim_for_input(c) < 0) {
		refuse_over_budget(c);
		return;
	}
	n = recv(c->watch.fd, dst, room, 0);
	if (n > 0) {
		if (buf_commit(&c->in, (size_t)n) < 0)
			c->dead = 1;	/* recv wrote more than room: never */
		c->last_io_ms = clock_monotonic_ms();
	} else if (n == 0) {
		c->peer_done = 1;
	} else if (errno != EAGAIN && errno != EINTR) {
		c->dead = 1;
	}
}

static void
do_write(struct connection *c)
{
	while (c->out_sent < c->out.len) {
		ssize_t n = send(c->watch.fd, c->out.data + c->out_sent,
		    c->out.len - c->out_sent, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->dead = 1;
			return;
		}
		c->out_sent += (size_t)n;
		c->last_io_ms = clock_monotonic_ms();
	}
	buf_truncate(&c->out, 0);
	c->out_sent = 0;
}

/*
 * After a too_large answer the client may still be sending; closing with
 * unread bytes would reset the connection and could destroy the answer in
 * flight. Half-close, discard what already arrived, then close.
 */
static void
close_gracefully(struct connection *c, const char *why)
{
	char sink[4096];
	int rounds;

	shutdown(c->watch.fd, SHUT_WR);
	for (rounds = 0; rounds < 256; rounds++)
		if (recv(c->watch.fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			break;
	connection_close(c, why);
}

void
connection_on_event(struct connection *c, uint32_t events)
{
	if (events & EPOLLIN)
		do_read(c);
	/* Answer all we can until output backs up or input runs out. */
	while (!c->dead && !c->busy) {
		process_input(c);
		if (c->out.len == c->out_sent)
			break;
		do_write(c);
		if (c->out.len > c->out_sent)
			break;
	}
	if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN) && !c->busy)
		c->dead = 1;

	if (c->busy) {
		set_interest(c);
		return;
	}
	if (c->dead) {
		connection_close(c, "connection error or reset by peer");
		return;
	}
	if (c->out.len == c->out_sent) {
		if (c->close_after_write) {
			close_gracefully(c, "message too large");
			return;
		}
		if (c->peer_done) {
			connection_close(c, "client closed");
			return;
		}
		if (c->worker->draining) {
			connection_close(c, "daemon shutting down");
			return;
		}
	}
	set_interest(c);
}

void
connection_sweep(struct connection *c, long long now)
{
	const struct options *o = opts(c);
	long long read_ms = (long long)o->read_timeout_s * 1000;
	long long idle_ms = (long long)o->idle_timeout_s * 1000;

	if (c->busy)
		return;
	if (now - c->last_io_ms > KEEP_BUFFERS_MS) {
		if (c->in.len == 0)
			buffer_cache_put(&c->worker->cache, &c->in, now);
		if (c->out.len == c->out_sent) {
			buf_truncate(&c->out, 0);
			c->out_sent = 0;
			buffer_cache_put(&c->worker->cache, &c->out, now);
		}
		settle_claim(c);
	}
	if (c->out.len > c->out_sent && now - c->last_io_ms > read_ms)
		connection_close(c, "client stopped reading");
	else if (c->message_started_ms != 0 &&
	    now - c->message_started_ms > read_ms)
		connection_close(c, "read timeout");
	else if (c->out.len == c->out_sent && c->message_started_ms == 0 &&
	    now - c->last_io_ms > idle_ms)
		connection_close(c, "idle timeout");
}

void
connection_drain(struct connection *c)
{
	if (!c->busy)
		connection_on_event(c, 0);
}
