/*
 * step.h - the workflow step: what the enclave does to the plaintext.
 *
 * A process request decrypts the ciphertext, hands the plaintext to the
 * configured step, and encrypts whatever the step returns. To add a step,
 * write one file here: define a `const struct step` and register it with
 * STEP_REGISTER(name); `--step NAME` then selects it. A step sees only
 * plaintext and must not log it.
 *
 * A step that leaves the data as it is returns STEP_SAME and no copy is
 * made (a 16 MiB echo costs no extra 16 MiB). A step that produces new
 * data appends it to `out` (bounded by ctx->max_output) and returns
 * STEP_NEW; the caller wipes `out` when done. A step that refuses its
 * input fills `reason` (reason_fail; no plaintext in it!) and returns
 * STEP_FAILED.
 */
#ifndef ENCLAVE_STEP_H
#define ENCLAVE_STEP_H

#include <stddef.h>
#include <time.h>

#include "common/buf.h"
#include "common/reason.h"

struct step_context {
	const char *agent_id;	/* --agent-id */
	time_t      now;	/* the request's time */
	size_t      max_output;	/* largest output the response can carry */
};

enum step_result { STEP_SAME, STEP_NEW, STEP_FAILED };

struct step {
	const char *name;
	const char *summary;
	enum step_result (*run)(const struct step_context *ctx,
	    struct slice in, struct buf *out, struct reason *reason);
};

/*
 * Registration is a linker set, as BSD kernels do it: each step file puts a
 * pointer to its step into the section "enclave_steps", and the linker
 * gathers them; no central table to edit. enclaved links every object of
 * steps/ (see the Makefile).
 */
#define STEP_REGISTER(s)                                                \
	static const struct step *const step_registered_##s             \
	    __attribute__((used, section("enclave_steps"))) = &(s)

/* The registered step called `name`, or NULL. */
const struct step *step_find(const char *name);
/* "agent, echo": the registered names, for --help and error messages. */
const char        *step_names(void);

extern const struct step step_echo;
extern const struct step step_agent;

#endif
