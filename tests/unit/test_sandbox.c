/*
 * test_sandbox.c - the seccomp filter refuses what the daemon never needs
 * and allows what it does. Each case runs in a child process, since a
 * filter cannot be removed once loaded.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "enclave/sandbox.h"

/* Run fn() sandboxed in a child; return its wait status. */
static int
run_confined(void (*fn)(void))
{
	pid_t pid = fork();
	int status = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (sandbox_apply() < 0)
			_exit(100);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
try_exec(void)
{
	char *const argv[] = { "/bin/true", NULL };

	execv(argv[0], argv);
	_exit(101);	/* exec refused without a kill: still a failure */
}

static void
try_socket(void)
{
	/* A new network socket: the daemon only accepts, never opens. */
	(void)socket(AF_INET, SOCK_STREAM, 0);
	_exit(102);
}

static void
try_open(void)
{
	/* Refused with EACCES, not killed: glibc may try optional files. */
	if (open("/dev/null", O_RDONLY) >= 0)
		_exit(105);
	_exit(errno == EACCES ? 0 : 106);
}

static void
try_allowed(void)
{
	int sv[2];

	/* What the daemon does: socketpair (KMS broker channel), write, close. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		_exit(103);
	if (write(sv[0], "x", 1) != 1)
		_exit(104);
	close(sv[0]);
	close(sv[1]);
}

/* Sanitizer builds only log refusals (see sandbox.c). */
static void
skip_under_sanitizers(void)
{
#if defined(__SANITIZE_ADDRESS__)
	skip();
#endif
}

static void
test_exec_is_killed(void **state)
{
	int status;

	(void)state;
	skip_under_sanitizers();
	status = run_confined(try_exec);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void
test_new_socket_is_killed(void **state)
{
	int status;

	(void)state;
	skip_under_sanitizers();
	status = run_confined(try_socket);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void
test_open_is_refused_not_killed(void **state)
{
	int status;

	(void)state;
	skip_under_sanitizers();
	status = run_confined(try_open);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_daemon_calls_allowed(void **state)
{
	int status = run_confined(try_allowed);

	(void)state;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_is_killed),
		cmocka_unit_test(test_new_socket_is_killed),
		cmocka_unit_test(test_open_is_refused_not_killed),
		cmocka_unit_test(test_daemon_calls_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
