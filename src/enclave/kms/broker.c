/*
 * broker.c - the KMS broker process and the daemon's side of it
 * (see broker.h).
 */
#include "enclave/kms/broker.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/guard.h"
#include "common/log.h"
#include "enclave/kms/broker_wire.h"

/* One byte carrying one descriptor (SCM_RIGHTS), for both directions. */
struct fd_message {
	char           byte;
	struct iovec   iov;
	union {
		char           buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr  msg;
};

static void
fd_message_init(struct fd_message *m)
{
	memset(m, 0, sizeof(*m));
	m->byte = 'c';
	m->iov.iov_base = &m->byte;
	m->iov.iov_len = 1;
	m->msg.msg_iov = &m->iov;
	m->msg.msg_iovlen = 1;
	m->msg.msg_control = m->control.buf;
	m->msg.msg_controllen = sizeof(m->control.buf);
}

static int
send_fd(int sock, int fd)
{
	struct fd_message m;
	struct cmsghdr *cm;

	fd_message_init(&m);
	cm = CMSG_FIRSTHDR(&m.msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m.msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* Returns the received descriptor, 0 at end of file, -1 on error. */
static int
recv_fd(int sock)
{
	struct fd_message m;
	struct cmsghdr *cm;
	ssize_t n;
	int fd;

	fd_message_init(&m);
	do {
		n = recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	cm = CMSG_FIRSTHDR(&m.msg);
	if (n < 0 || cm == NULL || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* In the broker's child: one request in, one reply out, then exit. */
static void
serve_channel(int ch, const struct kms_backend *inner)
{
	static uint8_t msg[BROKER_MESSAGE_MAX];
	struct kms_decrypt_request req;
	struct kms_credentials creds;
	struct kms_result res;
	struct buf out = BUF_INIT;
	ssize_t n;

	/* Key and credentials pass through here: keep them off swap. */
	mlockall(MCL_CURRENT | MCL_FUTURE);
	n = recv(ch, msg, sizeof(msg), 0);
	memset(&res, 0, sizeof(res));
	if (n <= 0 || broker_decode_request(msg, (size_t)n, &req, &creds) < 0) {
		res.status = KMS_INTERNAL;
		reason_fail(&res.reason,
		    "KMS broker: malformed request");
	} else {
		inner->decrypt(inner, &req, &res);
		kms_credentials_free(&creds);
	}
	OPENSSL_cleanse(msg, sizeof(msg));
	if (broker_encode_reply(&out, &res) == 0)
		(void)send(ch, out.data, out.len, MSG_NOSIGNAL);
	buf_free(&out, 1);
	secret_free(&res.plaintext);
	close(ch);
}

/* The broker's main loop: a child per channel, until the daemon goes. */
static void __attribute__((noreturn))
broker_main(int ctl, const struct kms_backend *inner)
{
	signal(SIGINT, SIG_IGN);	/* Ctrl-C is the daemon's to handle */
	signal(SIGTERM, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "enclaved-kms");
	/* A finished call's child is reaped by the kernel at once, not left
	 * a zombie until the next call comes to reap it. */
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int ch = recv_fd(ctl);
		pid_t pid;

		if (ch == 0)
			break;
		if (ch < 0)
			continue;
		pid = fork();
		if (pid == 0) {
			/* The KMS tool's exit status must reach its waitpid. */
			signal(SIGCHLD, SIG_DFL);
			close(ctl);
			serve_channel(ch, inner);
			_exit(0);
		}
		close(ch);
	}
	/* Children never outlive their call: wait for those still running. */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	_exit(0);
}

static int
channel_exchange(int ch, const struct kms_decrypt_request *req,
    struct kms_result *res, int timeout_ms)
{
	uint8_t *reply = NULL;
	struct buf out = BUF_INIT;
	struct pollfd pfd = { .fd = ch, .events = POLLIN };
	ssize_t n;
	int rc = -1, p;

	GUARD_GOTO(broker_encode_request(&out, req), done);
	if (send(ch, out.data, out.len, MSG_NOSIGNAL) != (ssize_t)out.len)
		goto done;
	do {
		p = poll(&pfd, 1, timeout_ms);
	} while (p < 0 && errno == EINTR);
	if (p <= 0 || (reply = malloc(BROKER_MESSAGE_MAX)) == NULL)
		goto done;
	n = recv(ch, reply, BROKER_MESSAGE_MAX, 0);
	if (n > 0 && broker_decode_reply(reply, (size_t)n, res) == 0)
		rc = 0;
	OPENSSL_cleanse(reply, BROKER_MESSAGE_MAX);
done:
	free(reply);
	buf_free(&out, 1);
	return rc;
}

/* The daemon side: what `configure` calls once the broker runs. */
static void
broker_decrypt(const struct kms_backend *kms,
    const struct kms_decrypt_request *req, struct kms_result *res)
{
	int ch[2];
	/* The backend enforces the KMS timeout; allow it time to report. */
	int timeout_ms = (int)kms->timeout_s * 1000 + 5000;

	memset(res, 0, sizeof(*res));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ch) < 0)
		goto fail;
	if (send_fd(kms->broker_fd, ch[1]) < 0) {
		close(ch[0]);
		close(ch[1]);
		goto fail;
	}
	close(ch[1]);
	if (channel_exchange(ch[0], req, res, timeout_ms) < 0) {
		close(ch[0]);
		secret_free(&res->plaintext);
		memset(res, 0, sizeof(*res));
		goto fail;
	}
	close(ch[0]);
	return;
fail:
	res->status = KMS_INTERNAL;
	reason_fail(&res->reason,
	    "the KMS broker did not answer");
}

int
kms_broker_start(struct kms_backend *kms)
{
	/* The backend the broker runs for real: the child's own copy. */
	const struct kms_backend inner = *kms;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		broker_main(sv[1], &inner);
	}
	close(sv[1]);
	kms->broker_fd = sv[0];
	kms->decrypt = broker_decrypt;
	log_info("KMS broker started (pid %d)", (int)pid);
	return 0;
}

void
kms_broker_stop(struct kms_backend *kms)
{
	if (kms->decrypt == broker_decrypt && kms->broker_fd >= 0) {
		close(kms->broker_fd);
		kms->broker_fd = -1;
	}
}
