/*
 * fuzz_agent.c - the agent step (src/enclave/steps/agent.c via
 * step_agent.run): its input is decrypted plaintext, i.e. anything the
 * data owner (or, with a stolen key, anyone) sealed.
 *
 * Checks: STEP_NEW output is one JSON object with our agent_id, an
 * iteration and a timestamp, within max_output; STEP_SAME never happens;
 * STEP_FAILED leaves a printable, NUL-terminated reason;
 * a tight max_output fails cleanly instead of overrunning.
 */
#include "fuzz_common.h"

#include <cJSON.h>

#include "common/json_parse.h"
#include "common/json_scan.h"
#include "enclave/steps/step.h"

/* A state this step wrote is continued by the next agent. */
static void
handoff(const struct step_context *sc, const struct buf *state)
{
	struct reason reason = { .text = "" };
	struct buf out = BUF_INIT;
	const cJSON *ia, *ib, *da, *db;
	cJSON *a, *b;

	FUZZ_CHECK(step_agent.run(sc, (struct slice){ state->data, state->len },
	    &out, &reason) == STEP_NEW);
	a = json_parse_exact(state->data, state->len);
	b = json_parse_exact(out.data, out.len);
	FUZZ_CHECK(a != NULL && b != NULL);
	ia = cJSON_GetObjectItemCaseSensitive(a, "iteration");
	ib = cJSON_GetObjectItemCaseSensitive(b, "iteration");
	if (cJSON_IsNumber(ia) && ia->valuedouble > -1e15 && ia->valuedouble < 1e15)
		FUZZ_CHECK(cJSON_IsNumber(ib) &&
		    ib->valuedouble == ia->valuedouble + 1);
	/* data is left alone. */
	da = cJSON_GetObjectItemCaseSensitive(a, "data");
	db = cJSON_GetObjectItemCaseSensitive(b, "data");
	/* (Printed, not cJSON_Compare: that one fails on duplicate keys.) */
	FUZZ_CHECK((da == NULL) == (db == NULL));
	if (da != NULL) {
		char *ta = cJSON_PrintUnformatted(da), *tb = cJSON_PrintUnformatted(db);

		FUZZ_CHECK(ta != NULL && tb != NULL && strcmp(ta, tb) == 0);
		cJSON_free(ta);
		cJSON_free(tb);
	}
	cJSON_Delete(a);
	cJSON_Delete(b);
	buf_free(&out, 1);
}

static void
run(const uint8_t *data, size_t size, size_t max_output)
{
	struct step_context sc = {
		.agent_id = "fuzz-agent \"quoted\" \\ \xc3\xa9",
		.now = 1765620000,
		.max_output = max_output,
	};
	struct reason reason;
	struct buf out = BUF_INIT;
	uint8_t *in = fuzz_dup(data, size);
	enum step_result r;
	size_t i, rl;

	memset(&reason, 0, sizeof(reason));
	r = step_agent.run(&sc, (struct slice){ in, size }, &out, &reason);
	FUZZ_CHECK(r == STEP_NEW || r == STEP_FAILED);
	FUZZ_CHECK(out.len <= max_output);
	if (r == STEP_NEW) {
		const char *end = NULL;
		cJSON *o = cJSON_ParseWithLengthOpts((const char *)out.data,
		    out.len, &end, 0);
		const cJSON *id, *it, *ts;

		FUZZ_CHECK(o != NULL && cJSON_IsObject(o));
		FUZZ_CHECK(end == (const char *)out.data + out.len);
		id = cJSON_GetObjectItemCaseSensitive(o, "agent_id");
		it = cJSON_GetObjectItemCaseSensitive(o, "iteration");
		ts = cJSON_GetObjectItemCaseSensitive(o, "timestamp");
		FUZZ_CHECK(cJSON_IsString(id) &&
		    strcmp(id->valuestring, sc.agent_id) == 0);
		/* cJSON prints an infinite number as null. */
		FUZZ_CHECK(it != NULL && (cJSON_IsNumber(it) || cJSON_IsNull(it)));
		FUZZ_CHECK(cJSON_IsNumber(ts) && ts->valuedouble == 1765620000.0);
		/*
		 * The next agent takes the state over: iteration + 1. Known
		 * exceptions (docs/security.md, findings F2 and F3): a state
		 * carrying U+0000, and an iteration past the doubles (1e999).
		 */
		if (max_output > (1u << 20))
			handoff(&sc, &out);
		cJSON_Delete(o);
	} else {
		rl = strnlen(reason.text, sizeof(reason.text));
		FUZZ_CHECK(rl > 0 && rl < sizeof(reason.text));
		for (i = 0; i < rl; i++)
			FUZZ_CHECK(reason.text[i] >= 0x20 &&
			    reason.text[i] < 0x7f);
	}
	buf_free(&out, 1);
	free(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	run(data, size, 1u << 21);
	/* Too small for the state: must refuse, not overrun. */
	run(data, size, size / 2 + (size ? fuzz_seed(data, size) % 64 : 0));
	return 0;
}
