/*
 * configure.c - install a TSK that KMS releases to this enclave, under
 * its key id ("default" when the request names none).
 *
 * The credentials are copied into locked memory when the configure runs
 * (at most SERVER_MAX_RUNNING_JOBS at once, what the locked heap is sized
 * for) and wiped as soon as the KMS call returns; the request's own copies
 * are wiped when it is freed. A failed configure leaves the key in use
 * untouched.
 */
#include "enclave/handlers/handlers.h"

#include <stdio.h>
#include <string.h>

#include "common/aead.h"
#include "common/guard.h"
#include "common/kms_key_ref.h"
#include "common/timefmt.h"
#include "enclave/keystore.h"

/* KMS ciphertext blobs are at most 6144 bytes: 8192 in base64. */
#define TSK_B64_MAX        8192

static const char *const required[] = {
	"encrypted_tsk", "aws_access_key_id", "aws_secret_access_key",
	"aws_session_token",
};
/* The longest value of each (credentials: kms.h, from what AWS issues). */
static const size_t longest[] = {
	TSK_B64_MAX, KMS_ACCESS_KEY_ID_MAX, KMS_SECRET_ACCESS_KEY_MAX,
	KMS_SESSION_TOKEN_MAX,
};

static int
copy_credential(struct secret *dst, const char *value)
{
	return secret_dup(dst, value, strlen(value) + 1);
}

/*
 * Which KMS key the Decrypt names (F27). The image's --kms-key-id pins
 * are measured; a configure may only choose among them, so a host cannot
 * have the enclave take a TSK from a KMS key it controls. Without pins a
 * kms_key_id is still passed on (KMS then refuses a TSK of another key).
 * Everything here happens before KMS is asked.
 */
static int
configure_kms_key(struct enclave_ctx *ctx, struct configure_request *c,
    struct request *req, struct reply *reply)
{
	const struct options *opt = ctx->opt;
	struct reason why;
	size_t i;

	switch (request_string_field(req, "kms_key_id", &c->kms_key_id)) {
	case FIELD_WRONG_TYPE:
		reply_error(reply, WIRE_INVALID_FIELD,
		    "kms_key_id must be a string");
		return -1;
	case FIELD_HAS_NUL:
		reply_error(reply, WIRE_INVALID_FIELD,
		    "kms_key_id contains a NUL character");
		return -1;
	case FIELD_MISSING:
		c->kms_key_id = NULL;
		if (opt->n_kms_key_ids == 1)
			c->kms_key_id = opt->kms_key_ids[0];
		if (opt->n_kms_key_ids > 1) {
			reply_error(reply, WIRE_MISSING_FIELDS, "missing fields: "
			    "kms_key_id (this enclave is pinned to %zu KMS "
			    "keys: name one)", opt->n_kms_key_ids);
			return -1;
		}
		return 0;
	case FIELD_OK:
		break;
	}
	if (kms_key_ref_check(c->kms_key_id, &why) < 0) {
		reply_error(reply, WIRE_INVALID_FIELD, "kms_key_id: %s",
		    why.text);
		return -1;
	}
	if (opt->n_kms_key_ids == 0)
		return 0;
	for (i = 0; i < opt->n_kms_key_ids; i++)
		if (strcmp(c->kms_key_id, opt->kms_key_ids[i]) == 0)
			return 0;
	reply_error(reply, WIRE_INVALID_FIELD, "kms_key_id is not one of the "
	    "KMS keys this enclave is pinned to (enclaved --kms-key-id); "
	    "KMS was not asked");
	return -1;
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
	struct reason why;
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		switch (request_string_field(req, required[i], &value[i])) {
		case FIELD_WRONG_TYPE:
			reply_error(reply, WIRE_INVALID_FIELD,
			    "%s must be a string", required[i]);
			return -1;
		case FIELD_HAS_NUL:
			reply_error(reply, WIRE_INVALID_FIELD,
			    "%s contains a NUL character", required[i]);
			return -1;
		case FIELD_MISSING:
			if (missing[0] != '\0')
				strcat(missing, ", ");
			strcat(missing, required[i]);
			break;
		case FIELD_OK:
			if (strlen(value[i]) > longest[i]) {
				reply_error(reply, WIRE_INVALID_FIELD,
				    "%s is longer than %zu characters",
				    required[i], longest[i]);
				return -1;
			}
			break;
		}
	}
	region = request_member(req, "region");
	if (region != NULL && !cJSON_IsNull(region) && !cJSON_IsString(region)) {
		reply_error(reply, WIRE_INVALID_FIELD, "region must be a string");
		return -1;
	}
	if (cJSON_IsString(region) &&
	    request_string_field(req, "region", &region_text) == FIELD_HAS_NUL) {
		reply_error(reply, WIRE_INVALID_FIELD, "region is not a region name");
		return -1;
	}
	if (missing[0] != '\0') {
		reply_error(reply, WIRE_MISSING_FIELDS, "missing fields: %s", missing);
		return -1;
	}
	GUARD(request_key_id_field(req, "key_id", &c->key_id, reply));
	if (c->key_id == NULL)
		c->key_id = KEY_ID_DEFAULT;
	GUARD(request_encryption_context(req, &c->context, reply));
	/* kmstool_enclave_cli has no option to send one (F39). */
	if (c->context.n > 0 && ctx->opt->kms_backend != NULL &&
	    strcmp(ctx->opt->kms_backend, "native") != 0) {
		reply_error(reply, WIRE_INVALID_FIELD, "encryption_context "
		    "needs enclaved --kms native: kmstool_enclave_cli (--kms "
		    "kmstool) has no option to send one to KMS");
		return -1;
	}
	c->region = ctx->opt->region;
	if (cJSON_IsString(region) && region->valuestring[0] != '\0') {
		if (!options_region_valid(region->valuestring)) {
			reply_error(reply, WIRE_INVALID_FIELD,
			    "region is not a region name");
			return -1;
		}
		c->region = region->valuestring;
	}
	if (kms_credentials_check(value[1], value[2], value[3], &why) < 0) {
		reply_error_reason(reply, WIRE_INVALID_FIELD, &why);
		return -1;
	}
	GUARD(configure_kms_key(ctx, c, req, reply));
	c->encrypted_tsk = value[0];
	c->access_key_id = value[1];
	c->secret_access_key = value[2];
	c->session_token = value[3];
	return 0;
}

/*
 * The locked heap is sized for every configure that may run at once, with
 * the longest credentials; should it run out all the same (OpenSSL's own
 * use of it), the configure is `busy`, to be tried again, not an error.
 */
static int
lock_credentials(struct configure_request *c, struct reply *reply)
{
	if (copy_credential(&c->creds.access_key_id, c->access_key_id) < 0 ||
	    copy_credential(&c->creds.secret_access_key,
	    c->secret_access_key) < 0 ||
	    copy_credential(&c->creds.session_token, c->session_token) < 0) {
		kms_credentials_free(&c->creds);
		reply_error(reply, WIRE_BUSY, "no locked memory left for the "
		    "credentials of another configure; try again");
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
		.key_id = c->kms_key_id,
		.creds = &c->creds,
		.context = c->context,
	};
	enum keystore_status st;
	struct kms_result res;
	char now[TIMEFMT_RFC3339_LEN + 1];
	char text[96 + KEY_ID_MAX];

	/* A full table: no KMS call (and no credentials sent) for nothing. */
	if ((st = keystore_check_room(ctx->keys, c->key_id)) != KEYSTORE_OK) {
		kms_credentials_free(&c->creds);
		reply_key_error(reply, st, c->key_id);
		return;
	}
	if (lock_credentials(c, reply) < 0)
		return;
	ctx->kms.decrypt(&ctx->kms, &kr, &res);
	kms_credentials_free(&c->creds);
	switch (res.status) {
	case KMS_OK:
		break;
	case KMS_TIMEOUT:
		reply_error_reason(reply, WIRE_KMS_TIMEOUT, &res.reason);
		return;
	case KMS_FAILED:
		reply_error_reason(reply, WIRE_KMS_DECRYPT_FAILED, &res.reason);
		return;
	case KMS_INTERNAL:
		reply_error_reason(reply, WIRE_INTERNAL_ERROR, &res.reason);
		return;
	}
	if (res.plaintext.len != AEAD_KEY_LEN) {
		reply_error(reply, WIRE_INVALID_KEY,
		    "KMS returned a %zu-byte key; AES-256 needs %d bytes",
		    res.plaintext.len, AEAD_KEY_LEN);
		secret_free(&res.plaintext);
		return;
	}
	if ((st = keystore_install(ctx->keys, c->key_id, &res.plaintext)) !=
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
		reply_error(reply, WIRE_INTERNAL_ERROR, "out of memory");
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
