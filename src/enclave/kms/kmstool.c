/*
 * kmstool.c - the KMS backend that runs AWS's kmstool_enclave_cli.
 *
 * The original design shelled out to the tool; we run it the same way
 * (same arguments, same output contract) but without a shell, with an
 * empty environment, with its output read into bounded buffers, and killed
 * with its whole process group if it outlives the timeout. The tool takes
 * credentials on its command line; that is its interface, not our choice.
 */
#include "enclave/kms/kms.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/guard.h"
#include "common/timefmt.h"
#include "enclave/kms/kmstool_output.h"

/* Enough for any real output; a flood beyond it is read and dropped. */
#define TOOL_OUTPUT_MAX (64 * 1024)

struct child {
	pid_t  pid;
	int    pidfd;
	int    out_fd, err_fd;
	struct buf out, err;
	int    out_overflow;
};

/*
 * The tool's argv: the original design's arguments, and with a pinned
 * KMS key `--key-id KEY --encryption-algorithm SYMMETRIC_DEFAULT` (the
 * real tool refuses --key-id alone). Nothing else: kmstool_enclave_cli
 * (v0.4.4) has no other option and exits 1 on any, so an encryption
 * context cannot be sent this way (configure refuses one first).
 */
#define ARGV_MAX 19

static void
tool_argv(const struct kms_backend *kms, const struct kms_decrypt_request *req,
    char *port, char *argv[ARGV_MAX])
{
	char *const fixed[] = {
		(char *)kms->tool_path, "decrypt",
		"--region", (char *)req->region,
		"--proxy-port", port,
		"--aws-access-key-id", (char *)req->creds->access_key_id.data,
		"--aws-secret-access-key", (char *)req->creds->secret_access_key.data,
		"--aws-session-token", (char *)req->creds->session_token.data,
		"--ciphertext", (char *)req->ciphertext_b64,
	};
	size_t n = ARRAY_LEN(fixed);

	memcpy(argv, fixed, sizeof(fixed));
	if (req->key_id != NULL) {
		argv[n++] = "--key-id";
		argv[n++] = (char *)req->key_id;
		argv[n++] = "--encryption-algorithm";
		argv[n++] = "SYMMETRIC_DEFAULT";
	}
	argv[n] = NULL;
}

static int
spawn_tool(const struct kms_backend *kms, const struct kms_decrypt_request *req,
    struct child *c)
{
	char port[16];
	char *argv[ARGV_MAX];
	char *const envp[] = { NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, rc = -1;

	snprintf(port, sizeof(port), "%u", kms->proxy_port);
	tool_argv(kms, req, port, argv);
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		goto fail_pipes;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* The daemon blocks and ignores signals; the tool must not inherit that. */
	sigemptyset(&none);
	sigfillset(&defaults);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	/* Its own process group, so a timeout kills its children too. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
	errno = posix_spawn(&c->pid, kms->tool_path, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (errno != 0)
		goto fail_pipes;
	close(out[1]);
	close(err[1]);
	c->out_fd = out[0];
	c->err_fd = err[0];
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	return 0;
fail_pipes:
	rc = errno;
	if (out[0] >= 0) { close(out[0]); close(out[1]); }
	if (err[0] >= 0) { close(err[0]); close(err[1]); }
	errno = rc;
	return -1;
}

/* Read what is there; returns 1 at end of file. Beyond the bound: dropped. */
static int
drain(int fd, struct buf *b, int *overflow)
{
	uint8_t scratch[4096];
	ssize_t n;

	n = read(fd, scratch, sizeof(scratch));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : 1;
	if (n == 0)
		return 1;
	if (buf_append(b, scratch, (size_t)n, TOOL_OUTPUT_MAX) < 0)
		*overflow = 1;
	OPENSSL_cleanse(scratch, (size_t)n);
	return 0;
}

/*
 * Wait for both pipes to close and the process to exit, all within the
 * deadline. Returns 1 if it exited (status set), 0 on timeout.
 */
static int
wait_tool(struct child *c, long long deadline, int *status)
{
	int out_open = 1, err_open = 1, exited = 0, dummy = 0;

	while (!exited || out_open || err_open) {
		struct pollfd pfd[3];
		int io = -1, ie = -1, rc;
		nfds_t n = 0;
		long long left = deadline - clock_monotonic_ms();

		if (left <= 0)
			return 0;
		if (out_open) {
			io = (int)n;
			pfd[n++] = (struct pollfd){ .fd = c->out_fd, .events = POLLIN };
		}
		if (err_open) {
			ie = (int)n;
			pfd[n++] = (struct pollfd){ .fd = c->err_fd, .events = POLLIN };
		}
		if (!exited && c->pidfd >= 0)
			pfd[n++] = (struct pollfd){ .fd = c->pidfd, .events = POLLIN };
		/* Without a pidfd (old kernel) this polls the child every 10 ms. */
		rc = n > 0 ? poll(pfd, n, left > 100 ? 100 : (int)left) :
		    poll(NULL, 0, 10);
		if (rc < 0 && errno != EINTR)
			return 0;
		if (io >= 0 && pfd[io].revents != 0)
			out_open = !drain(c->out_fd, &c->out, &c->out_overflow);
		if (ie >= 0 && pfd[ie].revents != 0)
			err_open = !drain(c->err_fd, &c->err, &dummy);
		if (!exited && waitpid(c->pid, status, WNOHANG) == c->pid)
			exited = 1;
	}
	return 1;
}

static void
child_cleanup(struct child *c, int killed)
{
	int status;

	if (killed) {
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &status, 0);
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	close(c->out_fd);
	close(c->err_fd);
	buf_free(&c->out, 1);
	buf_free(&c->err, 1);
}

static void
kmstool_decrypt(const struct kms_backend *kms,
    const struct kms_decrypt_request *req, struct kms_result *res)
{
	const char *redact[4];
	struct child c = { .pidfd = -1, .out_fd = -1, .err_fd = -1 };
	long long deadline;
	int status = 0;

	memset(res, 0, sizeof(*res));
	kms_credentials_list(req->creds, redact);
	/* configure refuses this first; never drop a context silently. */
	if (req->context.n > 0) {
		res->status = KMS_INTERNAL;
		reason_fail(&res->reason, "kmstool_enclave_cli cannot send an "
		    "encryption context; it needs --kms native");
		return;
	}
	if (spawn_tool(kms, req, &c) < 0) {
		res->status = KMS_INTERNAL;
		reason_fail(&res->reason,
		    "cannot run the KMS tool %s: %s", kms->tool_path,
		    strerror(errno));
		return;
	}
	deadline = clock_monotonic_ms() + (long long)kms->timeout_s * 1000;
	if (!wait_tool(&c, deadline, &status)) {
		res->status = KMS_TIMEOUT;
		reason_fail(&res->reason,
		    "the KMS tool did not finish within %u s", kms->timeout_s);
		child_cleanup(&c, 1);
		return;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char why[REASON_MAX - 64];

		res->status = KMS_FAILED;
		kmstool_failure_reason(c.err.data, c.err.len, redact, why,
		    sizeof(why));
		if (WIFSIGNALED(status))
			reason_fail(&res->reason,
			    "KMS tool killed by signal %d%s%s", WTERMSIG(status),
			    why[0] ? ": " : "", why);
		else
			reason_fail(&res->reason,
			    "KMS tool exited with status %d%s%s",
			    WEXITSTATUS(status), why[0] ? ": " : "", why);
	} else if (c.out_overflow) {
		res->status = KMS_FAILED;
		reason_fail(&res->reason,
		    "KMS tool output exceeded %d bytes", TOOL_OUTPUT_MAX);
	} else if (kmstool_parse_plaintext(c.out.data, c.out.len,
	    &res->plaintext) < 0) {
		res->status = KMS_FAILED;
		reason_fail(&res->reason,
		    "KMS tool output has no valid PLAINTEXT line");
	} else {
		res->status = KMS_OK;
	}
	child_cleanup(&c, 0);
}

const struct kms_backend kms_kmstool_template = {
	.name = "kmstool",
	.decrypt = kmstool_decrypt,
};
