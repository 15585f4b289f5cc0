/*
 * health.c - what an operator wants to know at a glance. Never a secret:
 * counts and times only.
 */
#include "enclave/handlers/handlers.h"

#include "common/secret.h"
#include "common/timefmt.h"
#include "enclave/keystore.h"
#include "enclave/version.h"

static int
health_parse(struct enclave_ctx *ctx, struct request *req, struct reply *reply)
{
	(void)ctx;
	(void)req;
	(void)reply;
	return 0;
}

/* "keys":[{"key_id":ID,"encryptions":N},...]: names and counts only. */
static int
add_keys(struct keystore *ks, cJSON *o)
{
	struct keystore_entry keys[KEYSTORE_MAX_KEYS];
	size_t n = keystore_list(ks, keys, KEYSTORE_MAX_KEYS), i;
	cJSON *list = cJSON_AddArrayToObject(o, "keys"), *k;

	if (list == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((k = cJSON_CreateObject()) == NULL)
			return -1;
		cJSON_AddItemToArray(list, k);
		if (!cJSON_AddStringToObject(k, "key_id", keys[i].key_id) ||
		    !cJSON_AddNumberToObject(k, "encryptions",
		    (double)keys[i].encryptions))
			return -1;
	}
	return 0;
}

static void
health_execute(struct enclave_ctx *ctx, struct request *req,
    struct reply *reply)
{
	char now[TIMEFMT_RFC3339_LEN + 1], at[TIMEFMT_RFC3339_LEN + 1];
	time_t configured_at = keystore_configured_at(ctx->keys);
	int configured = keystore_configured(ctx->keys);
	cJSON *o = cJSON_CreateObject();

	(void)req;
	timefmt_rfc3339_now(now);
	if (o == NULL ||
	    !cJSON_AddStringToObject(o, "status", "healthy") ||
	    !cJSON_AddBoolToObject(o, "configured", configured) ||
	    !cJSON_AddStringToObject(o, "timestamp", now) ||
	    !cJSON_AddStringToObject(o, "version", ENCLAVED_VERSION) ||
	    !cJSON_AddNumberToObject(o, "protocol", PROTOCOL_VERSION) ||
	    !cJSON_AddNumberToObject(o, "uptime_seconds",
	    (double)(time(NULL) - ctx->started)) ||
	    !cJSON_AddStringToObject(o, "kms_backend", ctx->kms.name) ||
	    !cJSON_AddStringToObject(o, "step", ctx->step->name) ||
	    !cJSON_AddNumberToObject(o, "connections",
	    (double)atomic_load(&ctx->stats.connections)) ||
	    !cJSON_AddNumberToObject(o, "connections_total",
	    (double)atomic_load(&ctx->stats.connections_total)) ||
	    !cJSON_AddNumberToObject(o, "requests_total",
	    (double)atomic_load(&ctx->stats.requests)) ||
	    !cJSON_AddNumberToObject(o, "errors_total",
	    (double)atomic_load(&ctx->stats.errors)) ||
	    !cJSON_AddNumberToObject(o, "configure_count",
	    (double)keystore_generation(ctx->keys)) ||
	    !cJSON_AddNumberToObject(o, "key_encryptions",
	    (double)keystore_encryptions(ctx->keys)) ||
	    !cJSON_AddNumberToObject(o, "key_encryption_limit",
	    (double)ctx->opt->max_encryptions) ||
	    !cJSON_AddBoolToObject(o, "key_memory_locked", secret_heap_locked()) ||
	    add_keys(ctx->keys, o) < 0)
		goto oom;
	if (configured) {
		timefmt_rfc3339(at, configured_at);
		if (!cJSON_AddStringToObject(o, "configured_at", at))
			goto oom;
	}
	if (reply_json(reply, o) < 0)
		goto oom;
	cJSON_Delete(o);
	return;
oom:
	cJSON_Delete(o);
	reply_error(reply, WIRE_INTERNAL_ERROR, "out of memory");
}

const struct handler handler_health = {
	.parse = health_parse,
	.execute = health_execute,
};
