/*
 * test_native_nsm.c - the NSM interface without Nitro hardware: a clear
 * failure where there is no device, the device path up to the ioctl
 * (on /dev/null, which refuses it), the simulator transport against an
 * in-process fake, and the sandbox's one-ioctl rule.
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
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/buf.h"
#include "enclave/nsm/nsm.h"
#include "enclave/sandbox.h"

static void
test_absent_device_says_so(void **state)
{
	struct reason reason;

	(void)state;
	assert_null(nsm_open("/nonexistent-dir/nsm", &reason));
	assert_string_equal(reason.text,
	    "no NSM device at /nonexistent-dir/nsm: "
	    "not running in a Nitro Enclave");
}

static void
test_default_is_dev_nsm(void **state)
{
	struct reason reason;
	struct nsm *nsm;

	(void)state;
	nsm = nsm_open(NULL, &reason);
	if (nsm != NULL) {
		nsm_close(nsm);
		printf("  /dev/nsm exists here: this host is an enclave\n");
		skip();
	}
	assert_string_equal(reason.text,
	    "no NSM device at /dev/nsm: not running "
	    "in a Nitro Enclave");
}

static void
test_device_that_is_not_an_nsm(void **state)
{
	struct reason reason;
	uint8_t nonce[4] = { 1, 2, 3, 4 };
	struct slice n = { nonce, sizeof(nonce) };
	struct buf doc = BUF_INIT;
	struct nsm *nsm;

	(void)state;
	nsm = nsm_open("/dev/null", &reason);
	assert_non_null(nsm);
	assert_string_equal(nsm->t->name, "device");
	assert_int_equal(nsm_get_attestation(nsm, NULL, &n, NULL, 1000, &doc,
	    &reason), -1);
	assert_non_null(strstr(reason.text, "NSM ioctl on /dev/null failed"));
	assert_int_equal(doc.len, 0);
	nsm_close(nsm);
}

/* --- the simulator transport against a fake on a Unix socket ------------ */

static const uint8_t doc_reply[] = {
	0xA1, 0x6B, 'A', 't', 't', 'e', 's', 't', 'a', 't', 'i', 'o', 'n',
	0xA1, 0x68, 'd', 'o', 'c', 'u', 'm', 'e', 'n', 't', 0x43, 0x84, 0x01,
	0x02,
};
static const uint8_t error_reply[] = {
	0xA1, 0x65, 'E', 'r', 'r', 'o', 'r', 0x6F, 'I', 'n', 'v', 'a', 'l',
	'i', 'd', 'A', 'r', 'g', 'u', 'm', 'e', 'n', 't',
};

struct fake {
	int            lfd;
	char           path[108];
	int            mode;		/* 0 document, 1 error, 2 oversize */
	uint8_t        req[0x1000];
	size_t         req_len;
};

static int
read_exact(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void *
fake_serve(void *arg)
{
	struct fake *f = arg;
	uint8_t head[4];
	int fd = accept(f->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	if (read_exact(fd, head, 4) == 0) {
		f->req_len = load_u32be(head);
		if (f->req_len <= sizeof(f->req))
			(void)read_exact(fd, f->req, f->req_len);
		if (f->mode == 0) {
			store_u32be(head, sizeof(doc_reply));
			(void)!write(fd, head, 4);
			(void)!write(fd, doc_reply, sizeof(doc_reply));
		} else if (f->mode == 1) {
			store_u32be(head, sizeof(error_reply));
			(void)!write(fd, head, 4);
			(void)!write(fd, error_reply, sizeof(error_reply));
		} else {
			store_u32be(head, 0x3001);
			(void)!write(fd, head, 4);
		}
	}
	close(fd);
	return NULL;
}

static int
fake_exchange(struct fake *f, struct buf *doc, struct reason *reason)
{
	char spec[128];
	uint8_t nonce[3] = { 0xaa, 0xbb, 0xcc };
	struct slice n = { nonce, sizeof(nonce) };
	struct nsm *nsm;
	pthread_t t;
	int rc;

	snprintf(spec, sizeof(spec), "unix:%s", f->path);
	nsm = nsm_open(spec, reason);
	assert_non_null(nsm);
	assert_string_equal(nsm->t->name, "simulator");
	assert_int_equal(pthread_create(&t, NULL, fake_serve, f), 0);
	rc = nsm_get_attestation(nsm, NULL, &n, NULL, 5000, doc, reason);
	pthread_join(t, NULL);
	nsm_close(nsm);
	return rc;
}

static int
fake_setup(void **state)
{
	static struct fake f;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(&f, 0, sizeof(f));
	snprintf(f.path, sizeof(f.path), "/tmp/test-native-nsm-%d.sock",
	    (int)getpid());
	unlink(f.path);
	memcpy(sa.sun_path, f.path, strlen(f.path) + 1);
	f.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (f.lfd < 0 || bind(f.lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f.lfd, 4) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int
fake_teardown(void **state)
{
	struct fake *f = *state;

	close(f->lfd);
	unlink(f->path);
	return 0;
}

static void
test_simulator_document(void **state)
{
	struct fake *f = *state;
	struct buf doc = BUF_INIT;
	struct reason reason;
	static const uint8_t nonce_cbor[] = { 0x65, 'n', 'o', 'n', 'c', 'e',
	    0x43, 0xaa, 0xbb, 0xcc };

	f->mode = 0;
	assert_int_equal(fake_exchange(f, &doc, &reason), 0);
	assert_int_equal(doc.len, 3);
	assert_memory_equal(doc.data, "\x84\x01\x02", 3);
	/* The request is the ioctl's CBOR: {"Attestation": {..., "nonce": h'aabbcc', ...}} */
	assert_true(f->req_len > sizeof(nonce_cbor));
	assert_int_equal(f->req[0], 0xA1);
	assert_non_null(memmem(f->req, f->req_len, nonce_cbor,
	    sizeof(nonce_cbor)));
	buf_free(&doc, 0);
}

static void
test_simulator_nsm_error(void **state)
{
	struct fake *f = *state;
	struct buf doc = BUF_INIT;
	struct reason reason;

	f->mode = 1;
	assert_int_equal(fake_exchange(f, &doc, &reason), -1);
	assert_string_equal(reason.text, "NSM attestation failed: NSM error: "
	    "InvalidArgument");
	buf_free(&doc, 0);
}

static void
test_simulator_oversize_refused(void **state)
{
	struct fake *f = *state;
	struct buf doc = BUF_INIT;
	struct reason reason;

	f->mode = 2;
	assert_int_equal(fake_exchange(f, &doc, &reason), -1);
	assert_non_null(strstr(reason.text, "12289-byte response"));
	buf_free(&doc, 0);
}

static void
test_simulator_absent(void **state)
{
	struct buf doc = BUF_INIT;
	struct reason reason;
	struct nsm *nsm;

	(void)state;
	assert_null(nsm_open("unix:relative/path", &reason));
	nsm = nsm_open("unix:/nonexistent-dir/nsm.sock", &reason);
	assert_non_null(nsm);
	assert_int_equal(nsm_get_attestation(nsm, NULL, NULL, NULL, 1000, &doc,
	    &reason), -1);
	assert_non_null(strstr(reason.text, "cannot reach the NSM simulator"));
	nsm_close(nsm);
}

/* --- the sandbox: the NSM's ioctl passes, no other ioctl does ----------- */

static int
confined(int request)
{
	pid_t pid = fork();
	int status = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR), n = 0;

		if (fd < 0 || sandbox_apply(0) < 0)
			_exit(100);
		if (ioctl(fd, (unsigned long)request, &n) < 0 && errno == ENOTTY)
			_exit(0);
		_exit(101);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
test_sandbox_allows_only_the_nsm_ioctl(void **state)
{
	int status;

	(void)state;
	status = confined((int)0xC0200A00U);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
#if defined(__SANITIZE_ADDRESS__)
	printf("  sanitizer build: the filter only logs, the refusal half is "
	    "checked in the normal build\n");
	skip();
#endif
	status = confined((int)TIOCSTI);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absent_device_says_so),
		cmocka_unit_test(test_default_is_dev_nsm),
		cmocka_unit_test(test_device_that_is_not_an_nsm),
		cmocka_unit_test_setup_teardown(test_simulator_document,
		    fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_simulator_nsm_error,
		    fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_simulator_oversize_refused,
		    fake_setup, fake_teardown),
		cmocka_unit_test(test_simulator_absent),
		cmocka_unit_test(test_sandbox_allows_only_the_nsm_ioctl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
