/*
 * context.h - what every request handler may consult: the options, the
 * KMS backend, the step, and the daemon's counters (reported by health).
 */
#ifndef ENCLAVE_CONTEXT_H
#define ENCLAVE_CONTEXT_H

#include <stdatomic.h>
#include <time.h>

#include "enclave/kms/kms.h"
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
	const struct step        *step;
	time_t                    started;
	struct enclave_stats      stats;
	struct memory_budget      memory;	/* all connections' buffers */
};

#endif
