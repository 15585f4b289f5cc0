/*
 * configure.c - install a TSK that KMS releases to this enclave, under
 * its key id ("default" when the request names none).
 *
 * The credentials are copied into locked memory at once and wiped as soon
 * as the KMS call returns; the request's own copies are wiped when it is
 * freed. A failed configure leaves the key in use untouched.
 */
#include "enclave/handlers.h"

#include <stdio.h>
#include <string.h>

#include "common/aead.h"
#include "common/guard.h"
#include "common/timefmt.h"
#include "enclave/keystore.h"

/* KMS ciphertext blobs are a few hundred bytes; tokens a few thousand. */
#define TSK_B64_MAX        8192
#define CREDENTIAL_MAX     8192

static const char *const required[] = {
	"encrypted_tsk", "aws_access_key_id", "aws_secret_access_key",
	"aws_session_token",
};

static int
copy_credential(struct secret *dst, const char *value)
{
	return secret_dup(dst, value, strlen(value) + 1);
}

static int
configure_parse(struct enclave_ctx *ctx, struct request *req,
    struct reply *reply)
{
	struct configure_request *c = &req->u.configure;
	const char *value[sizeof(required) / sizeof(required[0])];
	const cJSON *region;
	const char *region_text;
	char missing[128] = "";
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		switch (request_string_field(req, required[i], &value[i])) {
		case FIELD_WRONG_TYPE:
			reply_error(reply, "invalid_field",
			    "%s must be a string", required[i]);
			return -1;
		case FIELD_HAS_NUL:
			reply_error(reply, "invalid_field",
			    "%s contains a NUL character", required[i]);
			return -1;
		case FIELD_MISSING:
			if (missing[0] != '\0')
				strcat(missing, ", ");
			strcat(missing, required[i]);
			break;
		case FIELD_OK:
			if (strlen(value[i]) > (i == 0 ? TSK_B64_MAX :
			    CREDENTIAL_MAX)) {
				reply_error(reply, "invalid_field",
				    "%s is too long", required[i]);
				return -1;
			}
			break;
		}
	}
	region = request_member(req, "region");
	if (region != NULL && !cJSON_IsNull(region) && !cJSON_IsString(region)) {
		reply_error(reply, "invalid_field", "region must be a string");
		return -1;
	}
	if (cJSON_IsString(region) &&
	    request_string_field(req, "region", &region_text) == FIELD_HAS_NUL) {
		reply_error(reply, "invalid_field", "region is not a region name");
		return -1;
	}
	if (missing[0] != '\0') {
		reply_error(reply, "missing_fields", "missing fields: %s", missing);
		return -1;
	}
	GUARD(request_key_id_field(req, "key_id", &c->key_id, reply));
	if (c->key_id == NULL)
		c->key_id = KEY_ID_DEFAULT;
	GUARD(request_encryption_context(req, &c->context, reply));
	c->region = ctx->opt->region;
	if (cJSON_IsString(region) && region->valuestring[0] != '\0') {
		if (!options_region_valid(region->valuestring)) {
			reply_error(reply, "invalid_field",
			    "region is not a region name");
			return -1;
		}
		c->region = region->valuestring;
	}
	c->encrypted_tsk = value[0];
	if (copy_credential(&c->creds.access_key_id, value[1]) < 0 ||
	    copy_credential(&c->creds.secret_access_key, value[2]) < 0 ||
	    copy_credential(&c->creds.session_token, value[3]) < 0) {
		reply_error(reply, "internal_error",
		    "out of locked memory for credentials");
		return -1;
	}
	return 0;
}

static void
configure_execute(struct enclave_ctx *ctx, struct request *req,
    struct reply *reply)
{
	struct configure_request *c = &req->u.configure;
	struct kms_decrypt_request kr = {
		.ciphertext_b64 = c->encrypted_tsk,
		.region = c->region,
		.creds = &c->creds,
		.context = c->context,
	};
	enum keystore_status st;
	struct kms_result res;
	char now[TIMEFMT_RFC3339_LEN + 1];
	char text[96 + KEY_ID_MAX];

	/* A full table: no KMS call (and no credentials sent) for nothing. */
	if ((st = keystore_check_room(c->key_id)) != KEYSTORE_OK) {
		kms_credentials_free(&c->creds);
		reply_key_error(reply, st, c->key_id);
		return;
	}
	ctx->kms.decrypt(&ctx->kms, &kr, &res);
	kms_credentials_free(&c->creds);
	switch (res.status) {
	case KMS_OK:
		break;
	case KMS_TIMEOUT:
		reply_error(reply, "kms_timeout", "%s", res.reason);
		return;
	case KMS_FAILED:
		reply_error(reply, "kms_decrypt_failed", "%s", res.reason);
		return;
	case KMS_INTERNAL:
		reply_error(reply, "internal_error", "%s", res.reason);
		return;
	}
	if (res.plaintext.len != AEAD_KEY_LEN) {
		reply_error(reply, "invalid_key",
		    "KMS returned a %zu-byte key; AES-256 needs %d bytes",
		    res.plaintext.len, AEAD_KEY_LEN);
		secret_free(&res.plaintext);
		return;
	}
	if ((st = keystore_install(c->key_id, &res.plaintext)) !=
	    KEYSTORE_OK) {
		secret_free(&res.plaintext);
		reply_key_error(reply, st, c->key_id);
		return;
	}
	timefmt_rfc3339_now(now);
	/* The key id is from the plain alphabet (keystore.h): no escaping. */
	snprintf(text, sizeof(text),
	    "{\"status\":\"ok\",\"msg\":\"configured\",\"timestamp\":\"%s\","
	    "\"key_id\":\"%s\"}", now, c->key_id);
	if (buf_append_str(&reply->body, text, reply->limit) < 0)
		reply_error(reply, "internal_error", "out of memory");
}

static void
configure_cleanup(struct request *req)
{
	kms_credentials_free(&req->u.configure.creds);
}

const struct handler handler_configure = {
	.parse = configure_parse,
	.execute = configure_execute,
	.cleanup = configure_cleanup,
};
