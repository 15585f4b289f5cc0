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
#include <linux/sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "enclave/sandbox.h"

/* The test runner, another process to the confined child. */
static pid_t runner_pid;

/* Run fn() sandboxed in a child; return its wait status. */
static int
run_confined(void (*fn)(void))
{
	pid_t pid;
	int status = 0;

	runner_pid = getpid();
	pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (sandbox_apply(0) < 0)
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

/* Anonymous memory that is writable and executable: an exploit's first step. */
static void
try_mmap_exec(void)
{
	(void)mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	_exit(110);
}

static void
try_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(111);
	(void)mprotect(p, 4096, PROT_READ | PROT_EXEC);
	_exit(112);
}

static void
try_pkey_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(113);
	(void)syscall(SYS_pkey_mprotect, p, 4096, PROT_READ | PROT_EXEC, -1);
	_exit(114);
}

/* A raw clone(2) with these flags; a child that appears leaves at once. */
static void
clone_with(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);

	if (pid == 0)
		_exit(0);
	_exit(115);	/* made a process, or refused without a kill */
}

static void
try_fork_by_clone(void)
{
	clone_with(SIGCHLD);
}

static void
try_clone_namespace(void)
{
	clone_with(CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD);
}

/* clone3's flags live in memory the filter cannot read: always ENOSYS. */
static void
try_clone3(void)
{
	struct clone_args args = { .exit_signal = SIGCHLD };
	long pid = syscall(SYS_clone3, &args, sizeof(args));

	if (pid == 0)
		_exit(0);
	_exit(pid < 0 && errno == ENOSYS ? 0 : 116);
}

/* Signal 0 only checks: the other process is the test runner. */
static void
try_tgkill_other(void)
{
	(void)syscall(SYS_tgkill, runner_pid, runner_pid, 0);
	_exit(117);
}

static void
try_unlink(void)
{
	(void)unlink("/nonexistent/enclaved-sandbox-test");
	_exit(118);
}

static void
try_unlinkat(void)
{
	(void)unlinkat(AT_FDCWD, "/nonexistent/enclaved-sandbox-test", 0);
	_exit(119);
}

static void
try_bind_to_device(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		_exit(120);
	(void)setsockopt(sv[0], SOL_SOCKET, SO_BINDTODEVICE, "lo", 3);
	_exit(121);
}

static void *
thread_main(void *arg)
{
	return arg;
}

/*
 * The narrowed calls in the forms the daemon makes them: a job thread
 * (pthread_create: clone3 fails, glibc falls back to clone with its
 * thread flags), memory without exec, a guard page, a signal to itself,
 * TCP_NODELAY (refused by a Unix socket, but not killed).
 */
static void
try_allowed_forms(void)
{
	pthread_t t;
	void *p, *ret = NULL;
	int sv[2];
	int one = 1;

	if (pthread_create(&t, NULL, thread_main, &one) != 0)
		_exit(130);
	if (pthread_join(t, &ret) != 0 || ret != &one)
		_exit(131);
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(132);
	if (mprotect(p, 4096, PROT_NONE) < 0 ||
	    mprotect(p, 4096, PROT_READ) < 0)
		_exit(133);
	if (syscall(SYS_tgkill, getpid(), gettid(), 0) < 0)
		_exit(134);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		_exit(135);
	(void)setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	munmap(p, 8192);
}

/* Sanitizer builds only log refusals (see sandbox.c). */
static void
skip_under_sanitizers(void)
{
#if defined(__SANITIZE_ADDRESS__)
	skip();
#endif
}

/* fn() under the filter ends in SIGSYS (the filter's kill). */
static void
assert_killed(void (*fn)(void))
{
	int status = run_confined(fn);

	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* fn() under the filter returns normally (or _exit(0)s). */
static void
assert_survives(void (*fn)(void))
{
	int status = run_confined(fn);

	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
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

static void
test_executable_memory_is_killed(void **state)
{
	(void)state;
	skip_under_sanitizers();
	assert_killed(try_mmap_exec);
	assert_killed(try_mprotect_exec);
	assert_killed(try_pkey_mprotect_exec);
}

static void
test_fork_and_namespaces_are_killed(void **state)
{
	(void)state;
	skip_under_sanitizers();
	assert_killed(try_fork_by_clone);
	assert_killed(try_clone_namespace);
}

static void
test_clone3_is_enosys(void **state)
{
	(void)state;
	assert_survives(try_clone3);
}

static void
test_signal_to_another_process_is_killed(void **state)
{
	(void)state;
	skip_under_sanitizers();
	assert_killed(try_tgkill_other);
}

static void
test_unlink_is_killed(void **state)
{
	(void)state;
	skip_under_sanitizers();
	assert_killed(try_unlink);
	assert_killed(try_unlinkat);
}

static void
test_bind_to_device_is_killed(void **state)
{
	(void)state;
	skip_under_sanitizers();
	assert_killed(try_bind_to_device);
}

static void
test_allowed_forms_still_work(void **state)
{
	(void)state;
	assert_survives(try_allowed_forms);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_is_killed),
		cmocka_unit_test(test_new_socket_is_killed),
		cmocka_unit_test(test_open_is_refused_not_killed),
		cmocka_unit_test(test_daemon_calls_allowed),
		cmocka_unit_test(test_executable_memory_is_killed),
		cmocka_unit_test(test_fork_and_namespaces_are_killed),
		cmocka_unit_test(test_clone3_is_enosys),
		cmocka_unit_test(test_signal_to_another_process_is_killed),
		cmocka_unit_test(test_unlink_is_killed),
		cmocka_unit_test(test_bind_to_device_is_killed),
		cmocka_unit_test(test_allowed_forms_still_work),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
