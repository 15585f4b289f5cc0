/*
 * job.c - a request that would block the event loop, on a thread of its own.
 *
 * configure waits for KMS for up to --kms-timeout, attest for the NSM. The
 * connection's worker hands such a request to a short-lived thread and
 * goes on serving everyone else; the thread leaves the finished job in the
 * worker's inbox and wakes it, and the worker answers on the connection
 * (connection_job_done), in order.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "enclave/server.h"
#include "enclave/server_internal.h"

#define JOB_STACK  (256 * 1024)

static void *
job_thread(void *arg)
{
	struct job *job = arg;
	struct worker *w = job->conn->worker;

	/* Blocking requests at once (context.h); more wait their turn here. */
	sem_wait(&w->server->ctx->job_slots);
	request_execute(w->server->ctx, job->req, &job->reply);
	sem_post(&w->server->ctx->job_slots);
	request_finish(job->req, NULL);	/* c->in is the worker's */
	job->req = NULL;

	/*
	 * Once the worker has the job, the daemon may stop and exit while
	 * this thread is still ending: the worker freed, OpenSSL's globals
	 * cleaned up at exit. So nothing of the thread may outlive the hand-
	 * over: its OpenSSL state goes now (not in a thread-exit destructor
	 * racing the exit), and the wake is sent before the worker can take
	 * the job (inbox.c).
	 */
	OPENSSL_thread_stop();
	inbox_post_job(w, job);
	return NULL;
}

int
job_start(struct connection *c, struct request *req, struct reply *reply,
    enum frame_kind kind, long long started_ms)
{
	struct job *job;
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return -1;
	job->conn = c;
	job->req = req;
	reply_move(&job->reply, reply);
	job->framing = kind;
	job->started_ms = started_ms;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, JOB_STACK);
	rc = pthread_create(&t, &attr, job_thread, job);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_error("cannot start a job thread: %s", strerror(rc));
		reply_move(reply, &job->reply);
		free(job);
		return -1;
	}
	return 0;
}
