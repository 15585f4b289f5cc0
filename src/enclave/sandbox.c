/*
 * sandbox.c - the daemon's seccomp allowlist (see sandbox.h).
 */
#include "enclave/sandbox.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

/*
 * Sanitizer runtimes make calls of their own (LeakSanitizer ptrace-attaches
 * to the process at exit), so sanitizer builds, which are test builds and
 * never shipped, only log what the filter would refuse. The normal build's
 * test suite runs under the killing filter.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_DEFAULT_ACTION SCMP_ACT_LOG
#define SANDBOX_REFUSES        0	/* a rule may not repeat the default */
#else
#define SANDBOX_DEFAULT_ACTION SCMP_ACT_KILL_PROCESS
#define SANDBOX_REFUSES        1
#endif

/*
 * Each entry is here because the running daemon makes that call; the
 * comment says who. Found with `strace -f -c` over the integration suite.
 * Calls whose arguments can turn them into something else (mmap, mprotect,
 * clone, tgkill, setsockopt) are not here: allow_narrowed() admits only
 * the forms the daemon uses.
 */
static const char *const allowed[] = {
	/* event loops and sockets */
	"epoll_wait", "epoll_pwait", "epoll_ctl", "accept4", "accept",
	"read", "write", "recvfrom", "recvmsg", "sendto", "sendmsg",
	"shutdown", "close", "getsockopt", "getsockname",
	"getpeername", "poll", "ppoll", "fcntl",
	/* configure: a fresh channel to the KMS broker */
	"socketpair",
	/* memory: malloc, OpenSSL's secure heap, big request buffers */
	"brk", "munmap", "mremap", "madvise", "mlock", "munlock",
	/* threads: job threads for configure, futexes, thread exit */
	"futex", "set_robust_list", "rseq",
	"sched_yield", "exit", "exit_group", "gettid", "getpid",
	/* time, randomness (RAND_bytes), signals, SIGTERM via sigwait */
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday",
	"sched_getaffinity",
	"getrandom", "rt_sigprocmask", "rt_sigtimedwait", "rt_sigaction",
	"rt_sigreturn", "restart_syscall", "sigaltstack",
	/* logging to the console */
	"writev", "newfstatat", "fstat", "lseek", "sysinfo", "getrusage",
};

/*
 * The flags glibc's pthread_create passes to clone(2) (nptl/pthread_create.c,
 * glibc 2.34 to 2.36 at least; exit signal 0). A clone with any other set is
 * a fork, a vfork or a new namespace, which the running daemon never makes:
 * the broker, which forks, was forked before the filter was loaded.
 */
#define SANDBOX_THREAD_CLONE_FLAGS                                      \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | \
	 CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |            \
	 CLONE_CHILD_CLEARTID)

/*
 * The calls allowed only in the form the daemon makes them:
 * - mmap and mprotect never with PROT_EXEC: nothing loads code after
 *   startup, so no page becomes executable (no RWX memory for an exploit;
 *   pkey_mprotect is not allowed at all);
 * - clone only with the thread flags above; clone3 passes its flags in
 *   memory, which a filter cannot read, so it fails with ENOSYS and glibc
 *   falls back to clone(2);
 * - tgkill only to a thread of this process (abort(), raise());
 * - setsockopt only for TCP_NODELAY on an accepted connection (SO_REUSEADDR
 *   and TCP_CONGESTION are set on the listeners before the filter):
 *   SO_BINDTODEVICE, SO_MARK and the rest kill the process.
 * Everything else about these calls takes the default action (kill).
 */
static int
allow_narrowed(scmp_filter_ctx ctx)
{
	const scmp_datum_t self = (scmp_datum_t)getpid();
	int rc;

	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_EQ, SANDBOX_THREAD_CLONE_FLAGS));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
		    SCMP_SYS(clone3), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		    SCMP_A0(SCMP_CMP_EQ, self));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt),
		    2, SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP),
		    SCMP_A2(SCMP_CMP_EQ, TCP_NODELAY));
	if (rc < 0)
		log_error("seccomp: cannot narrow memory, thread and socket "
		    "calls: %s", strerror(-rc));
	return rc;
}

/* NSM_IOCTL_RAW = _IOWR(0x0A, 0x00, struct nsm_raw), see nsm/nsm_device.c. */
#define SANDBOX_NSM_IOCTL_RAW 0xC0200A00UL

/*
 * attest: the daemon opened /dev/nsm before confining itself and then
 * needs ioctl(2) on it, but only the NSM's one request: any other ioctl
 * (TIOCSTI, FIONREAD games on sockets, ...) still kills the process. The
 * request argument is an unsigned int widened to long, hence the mask.
 * With the test simulator instead (--nsm-device unix:PATH), it needs a
 * fresh AF_UNIX stream socket and connect(2) per request: socket(2) is
 * allowed for AF_UNIX SOCK_STREAM only, connect(2) cannot be narrowed by
 * address (it is a pointer), and is added only in that mode.
 */
static int
allow_attest(scmp_filter_ctx ctx, int allow_nsm_simulator)
{
	int rc;

	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFUL, SANDBOX_NSM_IOCTL_RAW));
	if (rc == 0 && allow_nsm_simulator)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFUL, SOCK_STREAM));
	if (rc == 0 && allow_nsm_simulator)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect), 0);
	if (rc < 0)
		log_error("seccomp: cannot allow the NSM's calls: %s",
		    strerror(-rc));
	return rc;
}

/* Calls answered EACCES instead of killing the process (see below). */
static const char *const refused[] = { "open", "openat", "openat2" };

int
sandbox_apply(int nsm_simulator)
{
	scmp_filter_ctx ctx;
	size_t i;
	int rc;

	ctx = seccomp_init(SANDBOX_DEFAULT_ACTION);
	if (ctx == NULL)
		return -1;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		/* A call this architecture or libseccomp lacks (e.g. rseq). */
		if (nr == __NR_SCMP_ERROR)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0) {
			log_error("seccomp: cannot allow %s: %s", allowed[i],
			    strerror(-rc));
			seccomp_release(ctx);
			return -1;
		}
	}
	if (allow_narrowed(ctx) < 0 || allow_attest(ctx, nsm_simulator) < 0) {
		seccomp_release(ctx);
		return -1;
	}
	/*
	 * Opening files is refused, not fatal: glibc reads optional files
	 * lazily (malloc checks /proc/sys/vm/overcommit_memory the first time
	 * a thread's heap shrinks) and copes with EACCES; nothing of ours
	 * opens anything after startup.
	 */
	for (i = 0; SANDBOX_REFUSES && i < sizeof(refused) / sizeof(refused[0]);
	    i++) {
		int nr = seccomp_syscall_resolve_name(refused[i]);

		if (nr == __NR_SCMP_ERROR)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), nr,
		    0)) < 0) {
			log_error("seccomp: cannot refuse %s: %s", refused[i],
			    strerror(-rc));
			seccomp_release(ctx);
			return -1;
		}
	}
	/* Keep the filter on every thread, and on threads made later. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}
