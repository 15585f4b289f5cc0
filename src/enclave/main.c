/*
 * main.c - enclaved: startup, privileges, signals, shutdown.
 *
 * The order matters and reads top to bottom: parse options; harden the
 * process (no core dumps, not dumpable) before any secret exists; set up
 * locked memory for secrets; fork the KMS broker (the one part that may
 * spawn the KMS tool); block the signals every thread inherits; open the
 * listeners; confine the process with seccomp; start the workers; then
 * wait for SIGTERM, and on it stop accepting, finish requests in flight,
 * wipe the key, exit 0.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/aead.h"
#include "common/json_parse.h"
#include "common/log.h"
#include "common/secret.h"
#include "enclave/context.h"
#include "enclave/handlers/handlers.h"
#include "enclave/keystore.h"
#include "enclave/kms/broker.h"
#include "enclave/kms/native/native.h"
#include "enclave/locked_heap.h"
#include "enclave/nsm/nsm.h"
#include "enclave/options.h"
#include "enclave/sandbox.h"
#include "enclave/server.h"

/*
 * Big request buffers should go back to the system when freed: a fixed
 * mmap threshold stops glibc from raising it after the first big free and
 * then keeping tens of MiB on the heap for good. The heap itself keeps up
 * to 4 MiB free at its top: trimmed at 512 KiB, a connection per request
 * grew and shrank it every few requests, and each regrowth page-faulted.
 */
static void
tune_malloc(void)
{
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
	mallopt(M_ARENA_MAX, 4);
}

/* Enough descriptors for --max-connections plus listeners and KMS pipes. */
static void
raise_fd_limit(unsigned max_connections)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_connections + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
		log_warn("file descriptor limit %llu is below what %u "
		    "connections need", (unsigned long long)rl.rlim_cur,
		    max_connections);
}

static int
setup_context(struct enclave_ctx *ctx, const struct options *opt)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->opt = opt;
	ctx->started = time(NULL);
	memory_budget_init(&ctx->memory, opt->memory_limit);
	ctx->kms.broker_fd = -1;
	/* Concurrent blocking requests (job.c); more wait their turn. */
	if (sem_init(&ctx->job_slots, 0, SERVER_MAX_RUNNING_JOBS) < 0)
		return -1;
	if ((ctx->step = step_find(opt->step)) == NULL) {
		fprintf(stderr, "enclaved: --step: unknown step '%s' (built in: "
		    "%s)\nTry 'enclaved --help'.\n", opt->step, step_names());
		return -1;
	}
	if (strcmp(opt->kms_backend, "native") == 0) {
		/* In the context: the broker, forked later, keeps a reference. */
		ctx->kms_native.nsm_device = opt->nsm_device;
		ctx->kms_native.endpoint = opt->kms_endpoint;
		ctx->kms_native.ca_file = opt->kms_ca_file;
		kms_native_init(&ctx->kms, &ctx->kms_native);
		ctx->kms.proxy_port = opt->proxy_port;
		ctx->kms.timeout_s = opt->kms_timeout_s;
		return 0;
	}
	ctx->kms = kms_kmstool_template;
	ctx->kms.tool_path = opt->kmstool_path;
	ctx->kms.proxy_port = opt->proxy_port;
	ctx->kms.timeout_s = opt->kms_timeout_s;
	if (access(opt->kmstool_path, X_OK) < 0)
		log_warn("KMS tool %s is not executable (%s): configure will "
		    "fail until it is", opt->kmstool_path, strerror(errno));
	return 0;
}

/*
 * The NSM that attest requests use (--nsm-device). Where there is none
 * (not in a Nitro Enclave) the reason is kept and every attest request is
 * answered attestation_unavailable with it: nothing makes a document up.
 */
static void
open_nsm(struct enclave_ctx *ctx)
{
	ctx->nsm = nsm_open(ctx->opt->nsm_device, &ctx->nsm_unavailable);
	if (ctx->nsm == NULL)
		log_warn("attest: %s; attest requests will be answered "
		    "attestation_unavailable", ctx->nsm_unavailable.text);
	else
		log_info("attest: NSM %s %s", ctx->nsm->t->name,
		    ctx->nsm->path);
}

static int
wait_for_stop(const sigset_t *set)
{
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			return sig;
	}
}

int
main(int argc, char **argv)
{
	struct options opt;
	struct enclave_ctx ctx;
	struct server *srv;
	sigset_t set;
	int rc;

	if ((rc = options_parse(&opt, argc, argv, step_names())) != 0)
		return rc > 0 ? 0 : 2;
	log_set_level(opt.log_level);
	if (setup_context(&ctx, &opt) < 0)
		return 2;
	options_log(&opt);

	if (process_harden() < 0)
		log_warn("cannot disable core dumps: %s", strerror(errno));
	if (secret_heap_init(locked_heap_size(&opt)) < 0 ||
	    (ctx.keys = keystore_new(opt.max_keys)) == NULL) {
		log_error("cannot set up secure memory for keys");
		return 1;
	}
	if (!secret_heap_locked())
		log_warn("key memory (%zu KiB) could not be locked "
		    "(RLIMIT_MEMLOCK?): keys may be swapped",
		    locked_heap_size(&opt) >> 10);
	else
		log_info("locked memory for keys and credentials: %zu KiB",
		    locked_heap_size(&opt) >> 10);
	if (aead_init() < 0) {
		log_error("cannot initialise OpenSSL's AES-GCM and random generator");
		return 1;
	}
	json_use_wiping_allocator();
	tune_malloc();
	raise_fd_limit(opt.max_connections);

	if (kms_broker_start(&ctx.kms) < 0) {
		log_error("cannot start the KMS broker: %s", strerror(errno));
		return 1;
	}

	/* Every thread inherits this mask; only sigwait below sees them. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	/* The NSM for attest: opened now, while open(2) is still allowed. */
	open_nsm(&ctx);

	if ((srv = server_open(&ctx)) == NULL)
		return 1;
	/* glibc reads the zone file on the first time conversion: do it now. */
	tzset();
	if (opt.sandbox) {
		if (sandbox_apply(nsm_spec_is_simulator(opt.nsm_device)) < 0) {
			log_error("cannot load the seccomp filter: %s",
			    strerror(errno));
			return 1;
		}
		log_info("sandbox: seccomp allowlist loaded");
	} else {
		log_warn("sandbox disabled (--no-sandbox): for debugging only");
	}
	if (server_run(srv) < 0)
		return 1;
	log_info("received %s: stopping, finishing requests in flight",
	    strsignal(wait_for_stop(&set)));
	server_stop(srv);
	kms_broker_stop(&ctx.kms);
	nsm_close(ctx.nsm);
	keystore_free(ctx.keys);
	log_info("stopped: keys wiped, %llu requests served",
	    (unsigned long long)atomic_load(&ctx.stats.requests));
	return 0;
}
