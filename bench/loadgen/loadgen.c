/*
 * loadgen.c - the benchmark's load generator (see docs/bench.md).
 *
 *   loadgen run --connect ENDPOINT --key-file F --size BYTES
 *       --conns N --duration SECONDS [--warmup SECONDS]
 *       [--warmup-requests N] [--reconnect] [--framing raw|len]
 *       [--verify-every K] [--min-requests M] [--label NAME]
 *   loadgen send --connect ENDPOINT JSON
 *   loadgen stream ...   one request of an exact size (stream.c)
 *
 * ENDPOINT is tcp:HOST:PORT (a numeric IPv4 host) or vsock:CID:PORT (the
 * box, docs/box.md). `run` drives process requests over N connections
 * from one epoll loop (so the client costs the shared cores as little as
 * it can) and prints one `RESULT key=value ...` line. Requests are bare
 * JSON by default, as the original host sends them; a response ends at
 * its newline (enclaved) or when the server closes (the baseline). With
 * --framing len each request and response has the 4-byte big-endian
 * length prefix instead. With --reconnect every request gets its own
 * connection and its latency includes the connect (over vsock a blocking
 * one: the loopback transport connects at once).
 *
 * Every response is checked for status ok and a result of exactly the
 * right length; the first response of each connection slot, the first
 * counted one and a random one in K of the rest are also decrypted under
 * the key and compared with the plaintext sent, and the result's nonce
 * must differ from the request's. Any failure, or a run in which no
 * counted response was decrypted, fails: a fast wrong answer cannot score.
 * A request unanswered for 30 s fails its connection.
 *
 * `send` sends one JSON request and prints the reply (ping, configure).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <fcntl.h>

#include "loadgen.h"
#include "common/hex.h"
#include "common/number.h"

#define MAX_CONNS 4096
/* A request unanswered this long fails its connection. */
#define REQUEST_TIMEOUT_NS (30LL * 1000000000LL)

enum conn_state { C_IDLE, C_SENDING, C_READING, C_DONE };

struct conn {
	int             fd;
	enum conn_state state;
	uint32_t        events;
	uint8_t        *pt;		/* the plaintext this connection sends */
	uint8_t         nonce[AEAD_NONCE_LEN];
	char           *req;		/* the whole request, sent every time */
	size_t          req_len, sent;
	uint8_t        *resp;
	size_t          resp_len, resp_cap;
	uint8_t        *check_sealed;	/* scratch for verifying a response */
	uint8_t        *check_pt;
	long long       t0_ns;
	unsigned long   done;		/* responses on this connection */
};

struct opts {
	struct common_opts common;
	struct endpoint ep;
	struct sockaddr_in addr;	/* ep, when it is TCP */
	uint8_t  key[AEAD_KEY_LEN];
	size_t   size;
	unsigned conns;
	double   duration, warmup;
	unsigned warmup_requests;
	int      reconnect;
	unsigned verify_every;
	unsigned min_requests;
};

struct stats {
	uint32_t     *lat_us;
	size_t        n, cap;
	unsigned long errors, verified, bad, conn_errors;
	unsigned long verified_measured;	/* decrypted among those counted */
	int           measuring;	/* a counted response has arrived */
	long long     first_ns, last_ns;
};

/*
 * What is measured: requests started from warm_ns on, until stop_ns. A
 * warm-up by requests (--warmup-requests) moves the window to start when
 * the last warm-up response arrives: the first 16 MiB request on a new
 * connection grows the server's buffers and the TCP windows, which takes
 * as long as several of the requests after it.
 */
struct window {
	long long warm_ns, stop_ns;
	unsigned  warmup_left;
};

static int epfd = -1;

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "loadgen: out of memory (%zu bytes)\n", n);
		exit(2);
	}
	return p;
}

/* Seconds with an optional fraction, up to a day, as a double. */
static double
parse_seconds(const char *option, const char *text, uint64_t min_ms)
{
	struct reason why;
	uint64_t ms;

	if (number_option_seconds(option, text, min_ms, 86400 * 1000, &ms,
	    &why) < 0)
		die(why.text);
	return (double)ms / 1000;
}

/* tcp:HOST:PORT with a numeric IPv4 host, or vsock:CID:PORT. */
static void
parse_connect(const char *text, struct opts *o)
{
	struct sockaddr_in *sa = &o->addr;

	parse_endpoint(text, &o->ep);
	if (o->ep.kind == ENDPOINT_VSOCK)
		return;
	if (o->ep.kind != ENDPOINT_TCP)
		die("--connect wants tcp:HOST:PORT or vsock:CID:PORT");
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)o->ep.port);
	if (inet_pton(AF_INET, strcmp(o->ep.host, "localhost") == 0 ?
	    "127.0.0.1" : o->ep.host, &sa->sin_addr) != 1)
		die("--connect wants a numeric IPv4 host");
}

/*
 * A buffer written once before the clock starts. On a virtual machine a
 * page fault can cost 10 us: a fresh 16 MiB buffer per verified response
 * would be 40 ms of the client's own faults counted as the server's time.
 */
static void *
xmalloc_touched(size_t n)
{
	void *p = xmalloc(n);

	memset(p, 0, n ? n : 1);
	return p;
}

/*
 * {"type":"process","ciphertext":"<hex of nonce||ct||tag>"}, after its
 * 4-byte big-endian length with --framing len.
 */
static void
build_request(struct conn *c, const struct opts *o)
{
	static const char head[] = "{\"type\":\"process\",\"ciphertext\":\"";
	static const char tail[] = "\"}";
	size_t sealed_len = o->size + AEAD_OVERHEAD;
	uint8_t *sealed = xmalloc(sealed_len);
	size_t pre = o->common.framing_len ? 4 : 0, hl = sizeof(head) - 1;
	size_t json_len = hl + 2 * sealed_len + sizeof(tail) - 1;
	char *json;

	c->pt = xmalloc(o->size);
	if (RAND_bytes(c->pt, (int)o->size) != 1 ||
	    aead_seal(o->key, NULL, 0, c->pt, o->size, sealed) < 0)
		die("cannot seal the plaintext");
	memcpy(c->nonce, sealed, AEAD_NONCE_LEN);
	c->req_len = pre + json_len;
	c->req = xmalloc(c->req_len);
	if (pre) {
		c->req[0] = (char)(json_len >> 24);
		c->req[1] = (char)(json_len >> 16);
		c->req[2] = (char)(json_len >> 8);
		c->req[3] = (char)json_len;
	}
	json = c->req + pre;
	memcpy(json, head, hl);
	hex_encode(json + hl, sealed, sealed_len);
	memcpy(json + hl + 2 * sealed_len, tail, sizeof(tail) - 1);
	free(sealed);
	c->resp_cap = 2 * sealed_len + 4096;
	c->resp = xmalloc_touched(c->resp_cap);
	c->check_sealed = xmalloc_touched(sealed_len);
	c->check_pt = xmalloc_touched(o->size);
	c->fd = -1;
}

static void
watch(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return;
	if (epoll_ctl(epfd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd,
	    &ev) < 0)
		die("epoll_ctl failed");
	c->events = events;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->events = 0;
}

/* vsock: a blocking connect (loopback answers at once), then non-blocking. */
static int
conn_open_vsock(struct conn *c, const struct opts *o)
{
	if ((c->fd = endpoint_connect(&o->ep, 10000)) < 0)
		return -1;
	if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static int
conn_open(struct conn *c, const struct opts *o)
{
	const int one = 1;

	if (o->ep.kind == ENDPOINT_VSOCK)
		return conn_open_vsock(c, o);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/*
	 * The bench's loopback TCP stands in for vsock, which has no
	 * congestion control; BBR (the system's default here) would pace our
	 * requests with timers. Both servers answer likewise (docs/bench.md).
	 */
	setsockopt(c->fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4);
	/*
	 * A connection per request leaves the closing side a TIME_WAIT socket
	 * for 60 s: after a few runs, 70,000 of them here, and connect()'s
	 * search for a free port became the bottleneck for both servers alike
	 * (14k req/s either way). Closing with a reset leaves none; the
	 * response has been read in full by then.
	 */
	if (o->reconnect) {
		const struct linger abort_on_close = { 1, 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &abort_on_close,
		    sizeof(abort_on_close));
	}
	if (connect(c->fd, (const struct sockaddr *)&o->addr,
	    sizeof(o->addr)) < 0 && errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

/* Start the next request; the clock runs from before any connect. */
static int
start_request(struct conn *c, const struct opts *o)
{
	c->t0_ns = now_ns();
	if (c->fd < 0 && conn_open(c, o) < 0)
		return -1;
	c->sent = 0;
	c->resp_len = 0;
	c->state = C_SENDING;
	watch(c, EPOLLOUT);
	return 0;
}

/*
 * Where the result's hex starts, for the daemon's compact form and for
 * Python's json.dumps default spacing; NULL for anything else.
 */
static const uint8_t *
result_hex(const uint8_t *r, size_t n)
{
	static const char *const forms[] = {
		"{\"status\":\"ok\",\"result\":\"",
		"{\"status\": \"ok\", \"result\": \"",
	};
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t fl = strlen(forms[i]);

		if (n >= fl && memcmp(r, forms[i], fl) == 0)
			return r + fl;
	}
	return NULL;
}

static void
report_bad(struct stats *st, const char *why, const uint8_t *r, size_t n)
{
	if (st->bad++ < 3)
		fprintf(stderr, "loadgen: bad response (%s): %.*s%s\n", why,
		    (int)(n > 200 ? 200 : n), (const char *)r,
		    n > 200 ? "..." : "");
}

/* xorshift64*: which responses to decrypt, seeded from RAND_bytes. */
static uint64_t sample_state;

static uint64_t
sample_next(void)
{
	sample_state ^= sample_state >> 12;
	sample_state ^= sample_state << 25;
	sample_state ^= sample_state >> 27;
	return sample_state * 2685821657736338717ULL;
}

/*
 * Which responses are decrypted: the first of each connection slot, the
 * first counted one, and then one in K at random, so a server cannot tell
 * which answers it may get wrong.
 */
static int
sampled(const struct conn *c, const struct opts *o, const struct stats *st,
    int measured)
{
	if (c->done == 0 || (measured && st->verified_measured == 0))
		return 1;
	return sample_next() % o->verify_every == 0;
}

/*
 * Every response: status ok and a result of the exact length. Sampled
 * ones: decrypt, compare, and insist on a fresh nonce.
 */
static int
check_response(struct conn *c, const struct opts *o, struct stats *st,
    int measured)
{
	size_t hex_len = 2 * (o->size + AEAD_OVERHEAD);
	size_t pre = o->common.framing_len ? 4 : 0;
	const uint8_t *h = result_hex(c->resp + pre, c->resp_len - pre);
	const uint8_t *end = c->resp + c->resp_len;
	uint8_t *sealed = c->check_sealed, *pt = c->check_pt;
	int ok;

	if (h == NULL) {
		report_bad(st, "not an ok result", c->resp + pre,
		    c->resp_len - pre);
		return -1;
	}
	if ((size_t)(end - h) < hex_len + 2 || h[hex_len] != '"' ||
	    h[hex_len + 1] != '}') {
		report_bad(st, "result of the wrong length", c->resp,
		    c->resp_len);
		return -1;
	}
	if (!sampled(c, o, st, measured))
		return 0;
	ok = hex_decode(sealed, (const char *)h, hex_len) == 0 &&
	    memcmp(sealed, c->nonce, AEAD_NONCE_LEN) != 0 &&
	    aead_open(o->key, NULL, 0, sealed, hex_len / 2, pt) == 0 &&
	    memcmp(pt, c->pt, o->size) == 0;
	if (!ok) {
		report_bad(st, "does not decrypt to the plaintext sent (or "
		    "reuses the request's nonce)", c->resp, c->resp_len);
		return -1;
	}
	st->verified++;
	if (measured)
		st->verified_measured++;
	return 0;
}

static void
record(struct stats *st, long long t0, long long t1)
{
	long long us = (t1 - t0) / 1000;

	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 65536;
		st->lat_us = realloc(st->lat_us, st->cap * sizeof(*st->lat_us));
		if (st->lat_us == NULL)
			die("out of memory");
	}
	st->lat_us[st->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* A request is over (well or not): count it, then go again or stop. */
static void
finish_request(struct conn *c, const struct opts *o, struct stats *st,
    struct window *win, int eof)
{
	long long t1 = now_ns();
	int measured = win->warmup_left == 0 && c->t0_ns >= win->warm_ns;
	int bad = check_response(c, o, st, measured) < 0;

	if (win->warmup_left > 0) {
		if (bad)
			st->errors++;
		if (--win->warmup_left == 0) {
			win->warm_ns = t1;
			win->stop_ns = t1 + (long long)(o->duration * 1e9);
		}
	} else if (measured) {
		if (!st->measuring)
			st->first_ns = c->t0_ns;
		st->measuring = 1;
		if (bad)
			st->errors++;
		else
			record(st, c->t0_ns, t1);
		st->last_ns = t1;
	} else if (bad) {
		st->errors++;
	}
	c->done++;
	if (o->reconnect || eof || bad)
		conn_close(c);
	if (t1 >= win->stop_ns && st->n + st->errors >= o->min_requests) {
		conn_close(c);
		c->state = C_DONE;
		return;
	}
	if (start_request(c, o) < 0) {
		st->conn_errors++;
		c->state = C_IDLE;
	}
}

/* Bare JSON ends at its newline; a framed answer at its length. */
static int
response_complete(const struct conn *c, const struct opts *o)
{
	const uint8_t *r = c->resp;

	if (!o->common.framing_len)
		return r[c->resp_len - 1] == '\n';
	return c->resp_len >= 4 && c->resp_len - 4 >=
	    ((size_t)r[0] << 24 | (size_t)r[1] << 16 | (size_t)r[2] << 8 | r[3]);
}

static void
conn_failed(struct conn *c, struct stats *st, const char *why)
{
	if (st->conn_errors++ < 3)
		fprintf(stderr, "loadgen: connection failed: %s\n", why);
	conn_close(c);
	c->state = C_IDLE;
}

static void
on_event(struct conn *c, const struct opts *o, struct stats *st,
    struct window *win)
{
	if (c->state == C_SENDING) {
		while (c->sent < c->req_len) {
			ssize_t n = send(c->fd, c->req + c->sent,
			    c->req_len - c->sent, MSG_NOSIGNAL);

			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				conn_failed(c, st, strerror(errno));
				return;
			}
			c->sent += (size_t)n;
		}
		c->state = C_READING;
		watch(c, EPOLLIN);
		return;
	}
	if (c->state != C_READING)
		return;
	for (;;) {
		ssize_t n;

		if (c->resp_len == c->resp_cap) {
			c->resp_cap *= 2;
			if ((c->resp = realloc(c->resp, c->resp_cap)) == NULL)
				die("out of memory");
		}
		n = recv(c->fd, c->resp + c->resp_len,
		    c->resp_cap - c->resp_len, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_failed(c, st, strerror(errno));
			return;
		}
		if (n == 0) {
			if (c->resp_len == 0) {
				conn_failed(c, st, "closed without a response");
				return;
			}
			finish_request(c, o, st, win, 1);
			return;
		}
		c->resp_len += (size_t)n;
		if (response_complete(c, o)) {
			finish_request(c, o, st, win, 0);
			return;
		}
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t
percentile(const struct stats *st, double p)
{
	size_t i;

	if (st->n == 0)
		return 0;
	i = (size_t)(p * (double)(st->n - 1) + 0.5);
	return st->lat_us[i];
}

/* CPU seconds this process has used: the client's share of the cores. */
static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int
cmd_run(const struct opts *o)
{
	struct conn *cs = calloc(o->conns, sizeof(*cs));
	struct stats st = { 0 };
	struct epoll_event evs[256];
	struct window win = { 0, 0, o->warmup_requests };
	long long start;
	unsigned i, live;
	double secs, cpu0, wall;
	unsigned long total = 0;

	if (cs == NULL)
		die("out of memory");
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1 failed");
	for (i = 0; i < o->conns; i++)
		build_request(&cs[i], o);
	if (RAND_bytes((unsigned char *)&sample_state,
	    sizeof(sample_state)) != 1)
		die("RAND_bytes failed");
	sample_state |= 1;	/* xorshift must not start at zero */
	cpu0 = cpu_seconds();
	start = now_ns();
	win.warm_ns = start + (long long)(o->warmup * 1e9);
	win.stop_ns = win.warm_ns + (long long)(o->duration * 1e9);
	for (i = 0; i < o->conns; i++)
		if (start_request(&cs[i], o) < 0)
			die("cannot connect");
	for (;;) {
		long long now = now_ns();
		int n, k;

		live = 0;
		for (i = 0; i < o->conns; i++) {
			if (cs[i].state == C_IDLE) {
				/* A failed connection: retry while time remains. */
				if (now < win.stop_ns && st.conn_errors < 1000 &&
				    start_request(&cs[i], o) == 0)
					live++;
				else
					cs[i].state = C_DONE;
			} else if (cs[i].state != C_DONE) {
				if (now - cs[i].t0_ns > REQUEST_TIMEOUT_NS) {
					conn_failed(&cs[i], &st, "no complete "
					    "answer within 30 s");
					cs[i].state = C_DONE;
					continue;
				}
				live++;
			}
		}
		if (live == 0)
			break;
		n = epoll_wait(epfd, evs, 256, 100);
		if (n < 0 && errno != EINTR)
			die("epoll_wait failed");
		for (k = 0; k < n; k++)
			on_event(evs[k].data.ptr, o, &st, &win);
	}
	for (i = 0; i < o->conns; i++)
		total += cs[i].done;
	wall = (double)(now_ns() - start) / 1e9;
	cpu0 = cpu_seconds() - cpu0;
	if (st.n > 0)
		qsort(st.lat_us, st.n, sizeof(*st.lat_us), cmp_u32);
	secs = st.last_ns > st.first_ns ?
	    (double)(st.last_ns - st.first_ns) / 1e9 : 0;
	printf("RESULT label=%s size=%zu conns=%u mode=%s framing=%s "
	    "requests=%zu "
	    "errors=%lu conn_errors=%lu verified=%lu verified_measured=%lu "
	    "elapsed=%.3f rps=%.1f "
	    "mbps=%.2f p50_us=%u p99_us=%u max_us=%u wall=%.3f "
	    "client_cpu=%.3f total=%lu\n",
	    o->common.label, o->size, o->conns,
	    o->reconnect ? "per-request" : "persistent",
	    o->common.framing_len ? "len" : "raw", st.n, st.errors,
	    st.conn_errors, st.verified, st.verified_measured, secs,
	    secs > 0 ? (double)st.n / secs : 0,
	    secs > 0 ? (double)st.n * (double)o->size / secs / 1e6 : 0,
	    percentile(&st, 0.50), percentile(&st, 0.99),
	    st.n ? st.lat_us[st.n - 1] : 0, wall, cpu0, total);
	fflush(stdout);
	for (i = 0; i < o->conns; i++) {
		conn_close(&cs[i]);
		free(cs[i].pt);
		free(cs[i].req);
		free(cs[i].resp);
		free(cs[i].check_sealed);
		free(cs[i].check_pt);
	}
	free(cs);
	free(st.lat_us);
	close(epfd);
	return st.errors == 0 && st.bad == 0 && st.n > 0 &&
	    st.verified_measured > 0 && st.conn_errors == 0 ? 0 : 1;
}

/* One request, one reply, blocking, bare JSON: for ping and configure. */
static int
cmd_send(const struct endpoint *ep, const char *json)
{
	char buf[65536];
	size_t len = 0, n = strlen(json);
	int fd = endpoint_connect(ep, 10000);

	if (fd < 0) {
		fprintf(stderr, "loadgen: connect: %s\n", strerror(errno));
		return 1;
	}
	if (send(fd, json, n, MSG_NOSIGNAL) != (ssize_t)n)
		return 1;
	while (len < sizeof(buf) - 1) {
		ssize_t got = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);

		if (got <= 0)
			break;
		len += (size_t)got;
		if (buf[len - 1] == '\n')
			break;
	}
	close(fd);
	buf[len] = '\0';
	fputs(buf, stdout);
	if (len == 0 || buf[len - 1] != '\n')
		putchar('\n');
	return len > 0 ? 0 : 1;
}

static void
usage(void)
{
	fputs("usage: loadgen run --connect ENDPOINT --key-file F "
	    "--size BYTES --conns N\n"
	    "           --duration S [--warmup S] [--warmup-requests N] "
	    "[--reconnect]\n"
	    "           [--framing raw|len] [--verify-every K]"
	    " [--min-requests M] [--label NAME]\n"
	    "       loadgen send --connect ENDPOINT JSON\n"
	    "       loadgen stream --connect ENDPOINT --key-file F "
	    "--request-bytes N ...\n"
	    "  ENDPOINT: tcp:HOST:PORT (numeric IPv4) or vsock:CID:PORT\n",
	    stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "size", required_argument, NULL, 's' },
		{ "conns", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "warmup-requests", required_argument, NULL, 'W' },
		{ "reconnect", no_argument, NULL, 'r' },
		{ "verify-every", required_argument, NULL, 'v' },
		{ "min-requests", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.size = 1024, .conns = 1, .duration = 2, .warmup = 0,
		.verify_every = 16, .min_requests = 1,
		.common = { .label = "run" },
	};
	const char *cmd;
	int ch;

	if (argc < 2)
		usage();
	cmd = argv[1];
	if (strcmp(cmd, "stream") == 0)
		return stream_main(argc, argv);
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (common_option(ch, optarg, &o.common))
			continue;
		switch (ch) {
		case 's':
			o.size = (size_t)parse_count("--size", optarg, 1,
			    1u << 30);
			break;
		case 'n':
			o.conns = (unsigned)parse_count("--conns", optarg, 1,
			    MAX_CONNS);
			break;
		case 'd': o.duration = parse_seconds("--duration", optarg, 1);
			break;
		case 'w': o.warmup = parse_seconds("--warmup", optarg, 0);
			break;
		case 'W':
			o.warmup_requests = (unsigned)parse_count(
			    "--warmup-requests", optarg, 0, UINT32_MAX);
			break;
		case 'r': o.reconnect = 1; break;
		case 'v':
			o.verify_every = (unsigned)parse_count("--verify-every",
			    optarg, 0, UINT32_MAX);
			break;
		case 'm':
			o.min_requests = (unsigned)parse_count("--min-requests",
			    optarg, 0, UINT32_MAX);
			break;
		default: usage();
		}
	}
	if (o.common.connect_to == NULL)
		usage();
	parse_connect(o.common.connect_to, &o);
	if (strcmp(cmd, "send") == 0) {
		if (optind != argc - 1)
			usage();
		return cmd_send(&o.ep, argv[optind]);
	}
	if (strcmp(cmd, "run") != 0 || o.common.key_file == NULL)
		usage();
	if (o.verify_every == 0)
		die("--verify-every must be at least 1: results are verified");
	load_key(o.common.key_file, o.key);
	return cmd_run(&o);
}
