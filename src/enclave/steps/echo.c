/*
 * echo.c - the default step: the plaintext goes back unchanged.
 */
#include "enclave/steps/step.h"

static enum step_result
echo_run(const struct step_context *ctx, struct slice in, struct buf *out,
    struct reason *reason)
{
	(void)ctx;
	(void)in;
	(void)out;
	(void)reason;
	return STEP_SAME;
}

const struct step step_echo = {
	.name = "echo",
	.summary = "returns the plaintext unchanged",
	.run = echo_run,
};
STEP_REGISTER(step_echo);
