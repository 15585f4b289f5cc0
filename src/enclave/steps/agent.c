/*
 * agent.c - the multi-agent state handoff of the original design.
 *
 * The plaintext is an agent state {"agent_id", "iteration", "data",
 * "timestamp"}: this enclave's agent takes it over (agent_id = --agent-id),
 * counts one more iteration, stamps the time, and leaves `data` (and any
 * other member) byte for byte as it was.
 * Plaintext that is not a JSON object starts a new state, carrying the
 * plaintext as a JSON string in `data`; it must then be UTF-8 text.
 * A state object must be I-JSON (RFC 7493): with two members of one name,
 * at any depth, this step and the next reader could each take another,
 * so it is refused; so is a top-level name holding U+0000. Names holding
 * U+0000 deeper down are the data's own and pass untouched.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>
#include <openssl/crypto.h>

#include "common/frame.h"
#include "common/guard.h"
#include "common/json_parse.h"
#include "common/json_scan.h"
#include "common/json_text.h"
#include "common/utf8.h"
#include "enclave/steps/step.h"

/* The three fields this step writes; every other member is copied as is. */
enum { F_AGENT_ID, F_ITERATION, F_TIMESTAMP, F_COUNT };
static const char *const written[F_COUNT] = { "agent_id", "iteration",
	"timestamp" };

static int
append_value(const struct step_context *ctx, int field, double iteration,
    struct buf *out)
{
	char num[64];

	switch (field) {
	case F_AGENT_ID:
		return json_append_cstring(out, ctx->agent_id, ctx->max_output);
	case F_ITERATION:
		/* Whole numbers print as integers, as the state's author wrote
		 * them; continue_state has kept the value within +-2^53. */
		if (iteration == (double)(long long)iteration)
			snprintf(num, sizeof(num), "%lld", (long long)iteration);
		else
			snprintf(num, sizeof(num), "%.17g", iteration);
		break;
	default:
		snprintf(num, sizeof(num), "%lld", (long long)ctx->now);
		break;
	}
	return buf_append_str(out, num, ctx->max_output);
}

/*
 * Which of the written fields a raw key names, F_COUNT for none, or -1 for
 * a key holding U+0000: copied through, "agent_id\u0000" would read as
 * agent_id to anything that cuts strings at NUL (cJSON, the next agent).
 */
static int
written_field(struct slice raw_key, struct buf *scratch)
{
	int f;

	buf_truncate(scratch, 0);
	if (json_decode_string(raw_key, scratch, raw_key.len) < 0 ||
	    (scratch->len > 0 && memchr(scratch->data, '\0', scratch->len)))
		return -1;
	for (f = 0; f < F_COUNT; f++)
		if (scratch->len == strlen(written[f]) &&
		    memcmp(scratch->data, written[f], scratch->len) == 0)
			return f;
	return F_COUNT;
}

/*
 * Take over an existing state object. The output is built from the
 * plaintext's own text, member by member: `data` and any other member keep
 * their exact bytes (cJSON would turn 9007199254740993 into a double).
 */
static enum step_result
continue_state(const struct step_context *ctx, const cJSON *state,
    struct slice in, struct buf *out, struct reason *reason)
{
	const cJSON *it = json_member(state, "iteration");
	struct buf key = BUF_INIT;
	struct json_member m;
	int seen[F_COUNT] = { 0 }, f, rc, first = 1;
	double next = 1;
	size_t pos = 0;

	if (it != NULL) {
		if (!cJSON_IsNumber(it)) {
			reason_fail(reason,
			    "agent state's iteration is not a number");
			return STEP_FAILED;
		}
		next = it->valuedouble + 1;
		/* Past 2^53 a double no longer counts by one; inf is no JSON. */
		if (!isfinite(next) || fabs(next) >= 9007199254740992.0) {
			reason_fail(reason,
			    "agent state's iteration is out of range");
			return STEP_FAILED;
		}
	}
	rc = buf_append_str(out, "{", ctx->max_output);
	while (rc == 0 && (rc = json_next_member(in.data, in.len, &pos, &m)) == 1) {
		if ((f = written_field(m.key, &key)) < 0) {
			buf_free(&key, 1);
			reason_fail(reason,
			    "agent state has a key holding U+0000");
			return STEP_FAILED;
		}
		if (f < F_COUNT)
			seen[f] = 1;
		rc = (!first ? buf_append_str(out, ",", ctx->max_output) : 0) |
		    buf_append(out, m.key.data, m.key.len, ctx->max_output) |
		    buf_append_str(out, ":", ctx->max_output) |
		    (f < F_COUNT ? append_value(ctx, f, next, out) :
		    buf_append(out, m.value.data, m.value.len, ctx->max_output));
		first = 0;
	}
	for (f = 0; rc == 0 && f < F_COUNT; f++) {
		if (seen[f])
			continue;
		rc = (!first ? buf_append_str(out, ",", ctx->max_output) : 0) |
		    json_append_cstring(out, written[f], ctx->max_output) |
		    buf_append_str(out, ":", ctx->max_output) |
		    append_value(ctx, f, next, out);
		first = 0;
	}
	if (rc == 0)
		rc = buf_append_str(out, "}", ctx->max_output);
	buf_free(&key, 1);
	if (rc != 0) {
		reason_fail(reason, "agent state too large");
		return STEP_FAILED;
	}
	return STEP_NEW;
}

/* Start a new state around text that is not a JSON object. */
static enum step_result
new_state(const struct step_context *ctx, struct slice in, struct buf *out,
    struct reason *reason)
{
	char tail[64];

	if (!utf8_valid(in.data, in.len)) {
		reason_fail(reason,
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
		reason_fail(reason, "agent state too large");
		return STEP_FAILED;
	}
	return STEP_NEW;
}

/* A state object that is JSON but not I-JSON: why it is refused. */
static int
refused_state(struct slice in, const struct json_verdict *v,
    struct reason *reason)
{
	size_t i = 0;

	while (i < in.len && frame_is_space(in.data[i]))
		i++;
	if (i == in.len || in.data[i] != '{')
		return 0;	/* not an object: a new state's data */
	/* The name is plaintext: it stays out of the reason. */
	if (v->fault == JSON_FAULT_DUPLICATE)
		reason_fail(reason, "agent state has two members of one name");
	else if (v->fault == JSON_FAULT_NUL_NAME)
		reason_fail(reason, "agent state has a key holding U+0000");
	else
		return 0;
	return 1;
}

static enum step_result
agent_run(const struct step_context *ctx, struct slice in, struct buf *out,
    struct reason *reason)
{
	struct json_verdict v;
	cJSON *state = json_parse_strict(in.data, in.len,
	    JSON_PARSE_NESTED_NUL_NAMES, &v);
	enum step_result r;

	if (state != NULL && cJSON_IsObject(state))
		r = continue_state(ctx, state, in, out, reason);
	else if (state == NULL && refused_state(in, &v, reason))
		r = STEP_FAILED;
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
STEP_REGISTER(step_agent);
