/*
 * init.c - PID 1 of the enclave box (docs/box.md).
 *
 * On Nitro, AWS's init (aws-nitro-enclaves-sdk-bootstrap, init/init.c)
 * boots the enclave from the EIF's two ramdisks: it mounts the pseudo file
 * systems, loads the NSM driver, reads /cmd and /env from the application
 * ramdisk, makes /rootfs the root and runs the command. The box boots
 * build/box.eif, whose application ramdisk is the enclave's, byte for
 * byte, beside a bootstrap ramdisk of its own holding this init; it keeps
 * that contract, in the same order:
 *
 *   1. mount /proc, /sys, /dev, /run and /tmp, in the bootstrap's root and
 *      on the image's mount points under /rootfs (a failure is fatal: a
 *      message, then power off);
 *   2. put the console on stdin, stdout and stderr;
 *   3. load the vsock modules where AWS's loads nsm.ko (the box's stand-in
 *      for Nitro's transport: loopback, so a client in the same guest
 *      reaches CID 1);
 *   4. read /cmd and /env (then delete them, as AWS's does); when the
 *      command names a KMS tool (--kmstool PATH) and the bootstrap holds
 *      /box/kmstool-dev, bind-mount it over /rootfs/PATH; run the command
 *      with exactly that environment, its root /rootfs (chroot). Unlike
 *      AWS's init, this one stays in the bootstrap's root, where the box's
 *      test programs and their libraries live, out of the command's sight;
 *   5. optionally start the program named by `box.run=PATH` on the kernel
 *      command line (the test flow, or with `box.tty=1` a shell for a
 *      developer, the console its controlling terminal);
 *   6. reap every child; power off when the run program exits, when
 *      enclaved exits, or when told (SIGTERM, SIGUSR2 as busybox's
 *      poweroff sends, SIGINT for Ctrl-Alt-Del).
 *
 * It prints `box: ...` lines on the console; the last one before the
 * power off names the run program's exit status, which the host reads.
 * Whatever it cannot do (a mount, a fork, reading the kernel command
 * line) ends the box with a message, never a hang or a half-set-up boot.
 * The decisions a test can check on the host (the command line, the stop
 * deadline) are in boot.c. Linked statically: it runs before anything
 * else and needs nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "box/boot.h"

#define CMD_FILE     "/cmd"
#define ENV_FILE     "/env"
#define ROOTFS       "/rootfs"
#define KMSTOOL_DEV  "/box/kmstool-dev"	/* the bootstrap's stand-in */
#define CMD_MAX_ARGS 64
#define CMD_MAX_TEXT 4096
/* How long enclaved may take to finish its requests when stopped, in seconds. */
#define STOP_GRACE_S 10

/* The order matters: each module needs the ones before it. */
static const char *const vsock_modules[] = {
	"kernel/net/vmw_vsock/vsock.ko",
	"kernel/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko",
	"kernel/net/vmw_vsock/vsock_loopback.ko",
};

static pid_t daemon_pid = -1, run_pid = -1;

static void
say(const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	printf("box: [%ld.%03ld] ", (long)ts.tv_sec, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/*
 * The end of the box. QEMU's microvm runs without ACPI here (with it,
 * Debian's kernel stalls calibrating its clock under TCG), so there is no
 * power-off device: RB_POWER_OFF would only halt. A reset is the way out,
 * and QEMU, started with -no-reboot, exits on it. PID 1 never returns: the
 * kernel would panic.
 */
static void
power_off(void)
{
	sync();
	say("power off");
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}


/*
 * The kernel opens /dev/console for init only if the initramfs holds
 * that node; the image's /dev is empty, so open it now devtmpfs is up.
 */
static void
attach_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/*
 * The mount points exist in the image (enclave/stage-rootfs.sh). Without
 * any of these file systems the enclave would run wrong, not fail (no
 * /dev/nsm, no /proc for the daemon's checks, /tmp in the read-only
 * image), so a failure is fatal. EBUSY is "already mounted": fine.
 */
static int
mount_pseudo_filesystems(const char *root)
{
	static const struct {
		const char *type, *dir, *opts;
		unsigned long flags;
	} mounts[] = {
		{ "proc", "/proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
		{ "sysfs", "/sys", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
		{ "devtmpfs", "/dev", "mode=0755", MS_NOSUID },
		{ "tmpfs", "/run", "mode=0755", MS_NOSUID | MS_NODEV },
		{ "tmpfs", "/tmp", "mode=1777", MS_NOSUID | MS_NODEV },
	};
	char dir[64];
	size_t i;

	for (i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		snprintf(dir, sizeof(dir), "%s%s", root, mounts[i].dir);
		if (mount(mounts[i].type, dir, mounts[i].type,
		    mounts[i].flags, mounts[i].opts) < 0 && errno != EBUSY) {
			int err = errno;

			/* /dev may be up already: let the message be seen. */
			attach_console();
			say("cannot mount %s on %s: %s; cannot boot without it",
			    mounts[i].type, dir, strerror(err));
			return -1;
		}
	}
	return 0;
}

/* finit_module: the kernel reads the module from the file itself. */
static int
load_module(const char *release, const char *rel_path)
{
	char path[512];
	int fd, rc;

	snprintf(path, sizeof(path), "/lib/modules/%s/%s", release, rel_path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		say("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	rc = (int)syscall(SYS_finit_module, fd, "", 0);
	if (rc < 0 && errno == EEXIST)
		rc = 0;
	if (rc < 0)
		say("cannot load %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

static int
load_vsock_modules(void)
{
	struct utsname u;
	size_t i;

	if (uname(&u) < 0)
		return -1;
	for (i = 0; i < sizeof(vsock_modules) / sizeof(vsock_modules[0]); i++)
		if (load_module(u.release, vsock_modules[i]) < 0)
			return -1;
	say("vsock modules loaded (kernel %s)", u.release);
	return 0;
}

/*
 * /cmd (one argument a line) and /env (NAME=value a line), as nitro-cli
 * writes them into the application ramdisk; the text stays in `text`,
 * which `out` points into. Deleted once read, as AWS's init does. An empty
 * file is an empty list (an /env may be); a missing one, a line without
 * its newline or more than `max` lines is refused.
 */
static int
read_lines(const char *path, char *text, size_t size, char **out, int max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), n_out = 0;
	ssize_t n;
	char *p, *nl;

	if (fd < 0)
		return -1;
	n = read(fd, text, size - 1);
	close(fd);
	if (n < 0 || (size_t)n == size - 1)
		return -1;
	text[n] = '\0';
	for (p = text; *p != '\0' && n_out < max; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			return -1;
		*nl = '\0';
		out[n_out++] = p;
	}
	if (*p != '\0')
		return -1;
	out[n_out] = NULL;
	unlink(path);
	return n_out;
}

/*
 * The application ramdisk never holds a development stand-in: when the
 * command runs a KMS tool (--kmstool PATH), the box mounts its own
 * kmstool-dev (static: the image has none of its libraries) over PATH,
 * where the image has AWS's tool or a placeholder. Only the mount table
 * changes; the ramdisk's bytes, which PCR2 measures, do not.
 */
static int
inject_kmstool(char *const *argv)
{
	char target[512];
	int i;

	for (i = 0; argv[i] != NULL && argv[i + 1] != NULL; i++) {
		if (strcmp(argv[i], "--kmstool") != 0)
			continue;
		if (access(KMSTOOL_DEV, X_OK) < 0)
			return 0;	/* the bootstrap brings none */
		if ((size_t)snprintf(target, sizeof(target), "%s%s", ROOTFS,
		    argv[i + 1]) >= sizeof(target) ||
		    mount(KMSTOOL_DEV, target, NULL, MS_BIND, NULL) < 0) {
			say("cannot mount %s over %s: %s", KMSTOOL_DEV, target,
			    strerror(errno));
			return -1;
		}
		say("%s mounted over %s (the box's stand-in)", KMSTOOL_DEV,
		    argv[i + 1]);
		return 0;
	}
	return 0;
}

static char cmdline[BOOT_CMDLINE_MAX];
static size_t cmdline_len;

/*
 * The kernel keeps parameters with a dot for modules, so `box.NAME=`
 * reaches only /proc/cmdline, not init's environment. Read whole, once; a
 * line that cannot be read, or is longer than any real one, ends the box.
 */
static int
load_cmdline(void)
{
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC), rc, err;

	if (fd < 0) {
		say("cannot open /proc/cmdline: %s", strerror(errno));
		return -1;
	}
	rc = boot_read_cmdline(fd, cmdline, sizeof(cmdline), &cmdline_len);
	err = errno;
	close(fd);
	if (rc < 0 && err == E2BIG)
		say("the kernel command line is longer than %d bytes: refused",
		    BOOT_CMDLINE_MAX - 1);
	else if (rc < 0)
		say("cannot read /proc/cmdline: %s", strerror(err));
	return rc;
}

/*
 * The value of `box.NAME=`, or NULL when absent. A value too long for out
 * ends the box: cut, it would name another program or file.
 */
static const char *
cmdline_value(const char *name, char *out, size_t size)
{
	int rc = boot_cmdline_value(cmdline, cmdline_len, name, out, size);

	if (rc < 0) {
		say("box.%s= on the kernel command line is longer than %zu "
		    "bytes: refused", name, size - 1);
		power_off();
	}
	return rc == 1 ? out : NULL;
}

/*
 * Children start with default signal handling and nothing blocked, with
 * the environment given (the command's, from /env). With `root` (the
 * command) the child's root becomes it, after the log file is opened in
 * the bootstrap's /run. -1 (errno set) when fork fails: the caller ends
 * the box.
 */
static pid_t
spawn(char *const argv[], char *const env[], const char *root,
      const char *log_path, int own_console)
{
	sigset_t none;
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (own_console)	/* a shell gets job control and Ctrl-C */
		ioctl(0, TIOCSCTTY, 1);
	if (log_path != NULL) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
	}
	if (root != NULL && (chdir(root) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)) {
		fprintf(stderr, "box: cannot enter %s: %s\n", root,
		    strerror(errno));
		_exit(127);
	}
	execve(argv[0], argv, env);
	fprintf(stderr, "box: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static const char *
describe(int status, char *out, size_t size)
{
	if (WIFEXITED(status))
		snprintf(out, size, "status=%d", WEXITSTATUS(status));
	else
		snprintf(out, size, "signal=%d", WTERMSIG(status));
	return out;
}

/* Reap every child that has ended; note ours. */
static void
reap(int *daemon_ended, int *run_ended)
{
	char why[32];
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == daemon_pid) {
			say("enclaved exited %s", describe(status, why,
			    sizeof(why)));
			daemon_pid = -1;
			*daemon_ended = 1;
		} else if (pid == run_pid) {
			say("run exited %s", describe(status, why, sizeof(why)));
			run_pid = -1;
			*run_ended = 1;
		}
	}
}

/*
 * Stop like `docker stop` and nitro-cli terminate do not (the enclave just
 * ends): SIGTERM, so enclaved finishes what is in flight and wipes the key,
 * then, past the grace period, SIGKILL for whatever is left.
 */
static void
stop_everything(const sigset_t *set)
{
	struct timespec now, deadline, left;
	int daemon_ended = 0, run_ended = 0;

	if (run_pid > 0)
		kill(-run_pid, SIGTERM);
	if (daemon_pid > 0)
		kill(daemon_pid, SIGTERM);
	/*
	 * The grace period is seconds on the monotonic clock: every signal
	 * (another child's SIGCHLD, a second SIGTERM) ends a wait early, and
	 * counting waits would cut the grace short.
	 */
	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = boot_deadline(&now, STOP_GRACE_S);
	while (daemon_pid > 0 || run_pid > 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!boot_time_left(&now, &deadline, &left)) {
			say("still running after %d s: killed", STOP_GRACE_S);
			break;
		}
		sigtimedwait(set, NULL, &left);
		reap(&daemon_ended, &run_ended);
	}
	kill(-1, SIGKILL);
	reap(&daemon_ended, &run_ended);
}

int
main(void)
{
	static char cmd_text[CMD_MAX_TEXT], env_text[CMD_MAX_TEXT];
	static char *const box_env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		NULL,
	};
	char *daemon_argv[CMD_MAX_ARGS + 1], *daemon_env[CMD_MAX_ARGS + 1];
	char run_path[256], log_path[256], tty[8];
	const char *log_to, *run_to;
	sigset_t set;
	int daemon_ended = 0, run_ended = 0, own_tty;

	if (getpid() != 1) {
		fputs("box init: not PID 1; this is the box's init "
		    "(docs/box.md)\n", stderr);
		return 2;
	}
	if (mount_pseudo_filesystems("") < 0 ||
	    mount_pseudo_filesystems(ROOTFS) < 0)
		power_off();
	attach_console();
	say("init started");
	if (load_cmdline() < 0)
		power_off();

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	reboot(RB_DISABLE_CAD);	/* Ctrl-Alt-Del becomes SIGINT */

	if (load_vsock_modules() < 0 ||
	    read_lines(CMD_FILE, cmd_text, sizeof(cmd_text), daemon_argv,
	    CMD_MAX_ARGS) < 1 ||
	    read_lines(ENV_FILE, env_text, sizeof(env_text), daemon_env,
	    CMD_MAX_ARGS) < 0 || inject_kmstool(daemon_argv) < 0) {
		say("cannot start the enclave (modules, %s, %s or the KMS "
		    "tool)", CMD_FILE, ENV_FILE);
		power_off();
	}
	/* box.log=PATH: enclaved's stderr to a file, not the slow console. */
	log_to = cmdline_value("log", log_path, sizeof(log_path));
	run_to = cmdline_value("run", run_path, sizeof(run_path));
	/*
	 * box.tty=1 (a shell) makes the console its controlling terminal, for
	 * Ctrl-C. Not for the flow: when a session leader exits, the kernel
	 * hangs its terminal up and drops what it has not yet written, and
	 * the emulated serial port is slow.
	 */
	own_tty = cmdline_value("tty", tty, sizeof(tty)) != NULL &&
	    strcmp(tty, "1") == 0;

	if ((daemon_pid = spawn(daemon_argv, daemon_env, ROOTFS, log_to, 0)) < 0) {
		say("cannot start enclaved: fork: %s", strerror(errno));
		power_off();
	}
	say("enclaved started (pid %d)%s%s", (int)daemon_pid,
	    log_to ? ", log in " : "", log_to ? log_to : "");

	if (run_to != NULL) {
		char *run_argv[] = { run_path, NULL };

		if ((run_pid = spawn(run_argv, box_env, NULL, NULL, own_tty)) < 0) {
			say("cannot start %s: fork: %s", run_path,
			    strerror(errno));
			stop_everything(&set);
			power_off();
		}
		say("run %s started (pid %d)", run_path, (int)run_pid);
	}

	for (;;) {
		siginfo_t si;

		if (sigwaitinfo(&set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			say("told to stop (signal %d)", si.si_signo);
			break;
		}
		reap(&daemon_ended, &run_ended);
		if (daemon_ended || run_ended)
			break;
	}
	stop_everything(&set);
	power_off();
	return 0;
}
