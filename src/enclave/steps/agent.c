/*
 * agent.c - the multi-agent state handoff of the original design.
 *
 * The plaintext is an agent state {"agent_id", "iteration", "data",
 * "timestamp"}: this enclave's agent takes it over (agent_id = --agent-id),
 * counts one more iteration, stamps the time, and leaves `data` alone.
 * Plaintext that is not a JSON object starts a new state, carrying the
 * plaintext as a JSON string in `data`; it must then be UTF-8 text.
 */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>
#include <openssl/crypto.h>

#include "common/guard.h"
#include "common/json_parse.h"
#include "common/json_text.h"
#include "common/utf8.h"
#include "enclave/steps/step.h"

static int
set_field(cJSON *obj, const char *name, cJSON *value)
{
	if (value == NULL)
		return -1;
	if (cJSON_HasObjectItem(obj, name))
		return cJSON_ReplaceItemInObjectCaseSensitive(obj, name, value) ?
		    0 : -1;
	return cJSON_AddItemToObject(obj, name, value) ? 0 : -1;
}

/* Take over an existing state object. */
static enum step_result
continue_state(const struct step_context *ctx, cJSON *state, struct buf *out,
    char reason[STEP_REASON_MAX])
{
	cJSON *iteration = cJSON_GetObjectItemCaseSensitive(state, "iteration");
	double next = 1;
	char *text;
	int rc;

	if (iteration != NULL) {
		if (!cJSON_IsNumber(iteration)) {
			snprintf(reason, STEP_REASON_MAX,
			    "agent state's iteration is not a number");
			return STEP_FAILED;
		}
		next = iteration->valuedouble + 1;
	}
	if (set_field(state, "agent_id", cJSON_CreateString(ctx->agent_id)) < 0 ||
	    set_field(state, "iteration", cJSON_CreateNumber(next)) < 0 ||
	    set_field(state, "timestamp",
	    cJSON_CreateNumber((double)ctx->now)) < 0 ||
	    (text = cJSON_PrintUnformatted(state)) == NULL) {
		snprintf(reason, STEP_REASON_MAX, "out of memory");
		return STEP_FAILED;
	}
	rc = buf_append_str(out, text, ctx->max_output);
	OPENSSL_cleanse(text, strlen(text));
	cJSON_free(text);
	if (rc < 0) {
		snprintf(reason, STEP_REASON_MAX, "agent state too large");
		return STEP_FAILED;
	}
	return STEP_NEW;
}

/* Start a new state around text that is not a JSON object. */
static enum step_result
new_state(const struct step_context *ctx, struct slice in, struct buf *out,
    char reason[STEP_REASON_MAX])
{
	char tail[64];

	if (!utf8_valid(in.data, in.len)) {
		snprintf(reason, STEP_REASON_MAX,
		    "plaintext is neither a JSON object nor UTF-8 text");
		return STEP_FAILED;
	}
	snprintf(tail, sizeof(tail), ",\"timestamp\":%lld}",
	    (long long)ctx->now);
	if (buf_append_str(out, "{\"agent_id\":", ctx->max_output) < 0 ||
	    json_append_cstring(out, ctx->agent_id, ctx->max_output) < 0 ||
	    buf_append_str(out, ",\"iteration\":1,\"data\":",
	    ctx->max_output) < 0 ||
	    json_append_string(out, in.data, in.len, ctx->max_output) < 0 ||
	    buf_append_str(out, tail, ctx->max_output) < 0) {
		snprintf(reason, STEP_REASON_MAX, "agent state too large");
		return STEP_FAILED;
	}
	return STEP_NEW;
}

static enum step_result
agent_run(const struct step_context *ctx, struct slice in, struct buf *out,
    char reason[STEP_REASON_MAX])
{
	cJSON *state = json_parse_exact(in.data, in.len);
	enum step_result r;

	if (state != NULL && cJSON_IsObject(state))
		r = continue_state(ctx, state, out, reason);
	else
		r = new_state(ctx, in, out, reason);
	cJSON_Delete(state);
	return r;
}

const struct step step_agent = {
	.name = "agent",
	.summary = "multi-agent state handoff: agent_id, iteration + 1, timestamp",
	.run = agent_run,
};
