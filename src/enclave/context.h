/*
 * context.h - the daemon's state, all of it in one place (OpenBSD's
 * `env`): the options, the KMS backend (with its broker), the step, the
 * keys, the NSM, the limit on blocking requests, the memory budget and
 * the counters health reports. main.c makes it; it is passed to every
 * request handler, so a handler's signature says what it may touch, and
 * no file of the daemon keeps state of its own at file scope.
 */
#ifndef ENCLAVE_CONTEXT_H
#define ENCLAVE_CONTEXT_H

#include <semaphore.h>
#include <stdatomic.h>
#include <time.h>

#include "common/reason.h"
#include "enclave/keystore.h"
#include "enclave/kms/kms.h"
#include "enclave/kms/native/native.h"
#include "enclave/nsm/nsm.h"
#include "common/memory_budget.h"
#include "enclave/options.h"
#include "enclave/steps/step.h"

struct enclave_stats {
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t errors;
	atomic_uint_fast64_t connections_total;
	atomic_uint          connections;
};

struct enclave_ctx {
	const struct options     *opt;
	struct kms_backend        kms;
	struct kms_native_config  kms_native;	/* --kms native's, by kms */
	const struct step        *step;
	time_t                    started;
	struct enclave_stats      stats;
	struct memory_budget      memory;	/* all connections' buffers */
	struct keystore          *keys;		/* the TSKs (keystore.h) */
	/* The NSM for attest, opened at startup; NULL: none, and why. */
	struct nsm               *nsm;
	struct reason             nsm_unavailable;
	sem_t                     job_slots;	/* blocking requests at once */
};

#endif
