/*
 * test_endpoint.c - common/endpoint: every accepted form of
 * vsock:/tcp:/unix:, every refusal (with a reason), formatting back to
 * text, and a real listen + connect on a Unix socket and on TCP loopback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "common/endpoint.h"

static void
test_vsock_forms(void **state)
{
	struct endpoint ep;
	struct reason why;

	(void)state;
	assert_int_equal(endpoint_parse(&ep, "vsock:16:5000", 0, &why), 0);
	assert_int_equal(ep.kind, ENDPOINT_VSOCK);
	assert_int_equal(ep.cid, 16);
	assert_int_equal(ep.port, 5000);
	/* for listening too, with an explicit CID */
	assert_int_equal(endpoint_parse(&ep, "vsock:3:8000", 1, &why), 0);
	assert_int_equal(ep.cid, 3);
	assert_int_equal(ep.port, 8000);
	/* listening on any CID */
	assert_int_equal(endpoint_parse(&ep, "vsock:5000", 1, &why), 0);
	assert_int_equal(ep.kind, ENDPOINT_VSOCK);
	assert_int_equal(ep.cid, VMADDR_CID_ANY);
	assert_int_equal(ep.port, 5000);
	/* the full 32-bit range */
	assert_int_equal(endpoint_parse(&ep, "vsock:4294967295:4294967295", 0,
	    &why), 0);
	assert_int_equal(ep.cid, 4294967295u);
	assert_int_equal(ep.port, 4294967295u);
	assert_int_equal(endpoint_parse(&ep, "vsock:0:0", 0, &why), 0);
}

static void
test_vsock_errors(void **state)
{
	static const char *const bad[] = {
		"vsock:", "vsock::5000", "vsock:16:", "vsock:16:abc",
		"vsock:x:5000", "vsock:16:5000:1", "vsock:-1:5000",
		"vsock:+16:5000", "vsock: 16:5000", "vsock:16: 5000",
		"vsock:16:4294967296", "vsock:4294967296:1", "vsock:16:0x10",
		"vsock:12345678901234567:1", "vsock:16:5000 ",
	};
	struct endpoint ep;
	struct reason why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reason_clear(&why);
		assert_int_equal(endpoint_parse(&ep, bad[i], 0, &why), -1);
		assert_true(why.text[0] != '\0');
		reason_clear(&why);
		assert_int_equal(endpoint_parse(&ep, bad[i], 1, &why), -1);
		assert_true(why.text[0] != '\0');
	}
	/* a port alone is a listening form only */
	reason_clear(&why);
	assert_int_equal(endpoint_parse(&ep, "vsock:5000", 0, &why), -1);
	assert_true(why.text[0] != '\0');
	assert_non_null(strstr(why.text, "CID"));
}

static void
test_tcp_forms(void **state)
{
	struct endpoint ep;
	struct reason why;

	(void)state;
	assert_int_equal(endpoint_parse(&ep, "tcp:127.0.0.1:5000", 0, &why), 0);
	assert_int_equal(ep.kind, ENDPOINT_TCP);
	assert_string_equal(ep.host, "127.0.0.1");
	assert_int_equal(ep.port, 5000);
	assert_int_equal(endpoint_parse(&ep, "tcp:localhost:65535", 1, &why),
	    0);
	assert_string_equal(ep.host, "localhost");
	assert_int_equal(ep.port, 65535);
	assert_int_equal(endpoint_parse(&ep, "tcp:0.0.0.0:0", 1, &why), 0);
	assert_int_equal(ep.port, 0);
	assert_int_equal(endpoint_parse(&ep, "tcp:[::1]:8080", 0, &why), 0);
	assert_string_equal(ep.host, "::1");
	assert_int_equal(ep.port, 8080);
	assert_int_equal(endpoint_parse(&ep, "tcp:[fe80::1%lo]:1", 0, &why), 0);
	assert_string_equal(ep.host, "fe80::1%lo");
	/* unbracketed IPv6: the last colon splits off the port */
	assert_int_equal(endpoint_parse(&ep, "tcp:::1:80", 0, &why), 0);
	assert_string_equal(ep.host, "::1");
	assert_int_equal(ep.port, 80);
}

static void
test_tcp_errors(void **state)
{
	static const char *const bad[] = {
		"tcp:", "tcp:host", "tcp::80", "tcp:[]:80", "tcp:host:",
		"tcp:host:65536", "tcp:host:-1", "tcp:host:+80", "tcp:host: 80",
		"tcp:host:80x", "tcp:host:0x50", "tcp:host:99999999999999999999",
	};
	char longhost[ENDPOINT_HOST_MAX + 16];
	struct endpoint ep;
	struct reason why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reason_clear(&why);
		assert_int_equal(endpoint_parse(&ep, bad[i], 0, &why), -1);
		assert_true(why.text[0] != '\0');
	}
	/* a host that does not fit, and the longest that does */
	memcpy(longhost, "tcp:", 4);
	memset(longhost + 4, 'h', ENDPOINT_HOST_MAX);
	strcpy(longhost + 4 + ENDPOINT_HOST_MAX, ":80");
	assert_int_equal(endpoint_parse(&ep, longhost, 0, &why), -1);
	memset(longhost + 4, 'h', ENDPOINT_HOST_MAX - 1);
	strcpy(longhost + 4 + ENDPOINT_HOST_MAX - 1, ":80");
	assert_int_equal(endpoint_parse(&ep, longhost, 0, &why), 0);
	assert_int_equal(strlen(ep.host), ENDPOINT_HOST_MAX - 1);
}

static void
test_unix_forms(void **state)
{
	char text[sizeof(((struct endpoint *)0)->path) + 16];
	size_t max = sizeof(((struct endpoint *)0)->path) - 1;
	struct endpoint ep;
	struct reason why;

	(void)state;
	assert_int_equal(endpoint_parse(&ep, "unix:/run/enclave.sock", 1, &why),
	    0);
	assert_int_equal(ep.kind, ENDPOINT_UNIX);
	assert_string_equal(ep.path, "/run/enclave.sock");
	assert_int_equal(endpoint_parse(&ep, "unix:rel/a:b", 0, &why), 0);
	assert_string_equal(ep.path, "rel/a:b");
	/* the longest path that fits sun_path with its terminator */
	memcpy(text, "unix:", 5);
	memset(text + 5, 'p', max);
	text[5 + max] = '\0';
	assert_int_equal(endpoint_parse(&ep, text, 0, &why), 0);
	assert_int_equal(strlen(ep.path), max);
	/* one more does not */
	text[5 + max] = 'p';
	text[6 + max] = '\0';
	reason_clear(&why);
	assert_int_equal(endpoint_parse(&ep, text, 0, &why), -1);
	assert_true(why.text[0] != '\0');
	reason_clear(&why);
	assert_int_equal(endpoint_parse(&ep, "unix:", 0, &why), -1);
	assert_true(why.text[0] != '\0');
}

static void
test_unknown_scheme(void **state)
{
	static const char *const bad[] = {
		"", "udp:1.2.3.4:5", "VSOCK:16:5000", "TCP:h:1", "Unix:/x",
		"vsock", "tcp", "unix", "16:5000", "/tmp/sock", " tcp:h:1",
	};
	struct endpoint ep;
	struct reason why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reason_clear(&why);
		assert_int_equal(endpoint_parse(&ep, bad[i], 1, &why), -1);
		assert_true(why.text[0] != '\0');
	}
	/* why may be NULL */
	assert_int_equal(endpoint_parse(&ep, "nope", 0, NULL), -1);
	assert_int_equal(endpoint_parse(&ep, "tcp:h", 0, NULL), -1);
}

/* Canonical text survives parse -> format unchanged. */
static void
test_format_round_trip(void **state)
{
	static const struct {
		const char *in;
		int         listen;
		const char *out;
	} cases[] = {
		{ "vsock:16:5000", 0, "vsock:16:5000" },
		{ "vsock:5000", 1, "vsock:5000" },
		{ "tcp:127.0.0.1:5000", 0, "tcp:127.0.0.1:5000" },
		{ "tcp:[::1]:5000", 0, "tcp:[::1]:5000" },
		{ "tcp:::1:5000", 0, "tcp:[::1]:5000" },
		{ "unix:/tmp/x.sock", 0, "unix:/tmp/x.sock" },
	};
	char out[ENDPOINT_STR_MAX];
	struct endpoint ep;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(endpoint_parse(&ep, cases[i].in,
		    cases[i].listen, NULL), 0);
		endpoint_format(&ep, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
	}
	/* a small buffer truncates safely */
	assert_int_equal(endpoint_parse(&ep, "tcp:127.0.0.1:5000", 0, NULL), 0);
	endpoint_format(&ep, out, 8);
	assert_string_equal(out, "tcp:127");
}

static void
ping_pong(int client, int server)
{
	char got[4];

	assert_int_equal(write(client, "ping", 4), 4);
	assert_int_equal(read(server, got, 4), 4);
	assert_memory_equal(got, "ping", 4);
}

static int
accept_blocking(int lfd)
{
	int fd;

	/* the listener is non-blocking: wait for the peer's connect */
	do {
		fd = accept(lfd, NULL, NULL);
	} while (fd < 0 && (errno == EAGAIN || errno == EINTR));
	return fd;
}

static void
test_unix_listen_connect(void **state)
{
	char text[128];
	struct endpoint ep;
	int lfd, cfd, sfd;

	(void)state;
	snprintf(text, sizeof(text), "unix:/tmp/test_endpoint.%ld.sock",
	    (long)getpid());
	assert_int_equal(endpoint_parse(&ep, text, 1, NULL), 0);
	lfd = endpoint_listen(&ep, 4);
	assert_true(lfd >= 0);
	assert_true(fcntl(lfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
	close(lfd);
	/* a stale socket file from an earlier run does not stop a new bind */
	lfd = endpoint_listen(&ep, 4);
	assert_true(lfd >= 0);
	cfd = endpoint_connect(&ep, 1000);
	assert_true(cfd >= 0);
	assert_false(fcntl(cfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(cfd, F_GETFD) & FD_CLOEXEC);
	sfd = accept_blocking(lfd);
	assert_true(sfd >= 0);
	ping_pong(cfd, sfd);
	close(sfd);
	close(cfd);
	close(lfd);
	unlink(ep.path);
	/* nobody listening any more */
	errno = 0;
	assert_int_equal(endpoint_connect(&ep, 1000), -1);
	assert_true(errno == ENOENT || errno == ECONNREFUSED);
}

static void
test_tcp_listen_connect(void **state)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char text[64];
	struct endpoint ep;
	int lfd, cfd, sfd;
	unsigned port;

	(void)state;
	assert_int_equal(endpoint_parse(&ep, "tcp:127.0.0.1:0", 1, NULL), 0);
	lfd = endpoint_listen(&ep, 4);
	assert_true(lfd >= 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	snprintf(text, sizeof(text), "tcp:127.0.0.1:%u", port);
	assert_int_equal(endpoint_parse(&ep, text, 0, NULL), 0);
	cfd = endpoint_connect(&ep, 1000);
	assert_true(cfd >= 0);
	sfd = accept_blocking(lfd);
	assert_true(sfd >= 0);
	ping_pong(cfd, sfd);
	close(sfd);
	close(cfd);
	close(lfd);
	/* the port is closed now: refused, not a hang */
	errno = 0;
	assert_int_equal(endpoint_connect(&ep, 1000), -1);
	assert_int_equal(errno, ECONNREFUSED);
}

/*
 * The caller's connect timeout reaches the vsock transport, which would
 * otherwise give up after its own 2 s (enclavectl --timeout, issue 25).
 */
static void
test_vsock_connect_timeout_set(void **state)
{
	struct timeval tv = { 0 };
	socklen_t len = sizeof(tv);
	int fd;

	(void)state;
	if ((fd = socket(AF_VSOCK, SOCK_STREAM, 0)) < 0) {
		fprintf(stderr, "no AF_VSOCK sockets here (%s): skipped\n",
		    strerror(errno));
		skip();
	}
	assert_int_equal(getsockopt(fd, AF_VSOCK,
	    SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, &len), 0);
	assert_int_equal(tv.tv_sec, 2);		/* the kernel's default */
	assert_int_equal(endpoint_vsock_connect_timeout(fd, 12500), 0);
	len = sizeof(tv);
	assert_int_equal(getsockopt(fd, AF_VSOCK,
	    SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, &len), 0);
	assert_int_equal(tv.tv_sec, 12);
	assert_int_equal(tv.tv_usec, 500000);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vsock_forms),
		cmocka_unit_test(test_vsock_errors),
		cmocka_unit_test(test_tcp_forms),
		cmocka_unit_test(test_tcp_errors),
		cmocka_unit_test(test_unix_forms),
		cmocka_unit_test(test_unknown_scheme),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_unix_listen_connect),
		cmocka_unit_test(test_tcp_listen_connect),
		cmocka_unit_test(test_vsock_connect_timeout_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
