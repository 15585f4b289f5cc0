/*
 * handlers.h - one handler per request type, the table of request types,
 * and the parsed request they share with request.c. Each handler lives in
 * handlers/<type>.c; table.c says, in one row per type, what the daemon
 * knows about it.
 */
#ifndef ENCLAVE_HANDLERS_H
#define ENCLAVE_HANDLERS_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "common/grant.h"
#include "enclave/bulk_field.h"
#include "enclave/context.h"
#include "enclave/keystore.h"
#include "enclave/kms/kms.h"
#include "enclave/reply.h"

struct process_request {
	uint8_t       *data;	/* nonce||ct||tag, decoded in place of the hex */
	size_t         len;
	const uint8_t *aad;	/* NULL or empty means none */
	size_t         aad_len;
	struct buf     aad_exact;	/* aad holding a NUL: its true bytes */
	const char    *key_id;	/* opens the ciphertext; NULL: the latest */
	const char    *result_key_id;	/* seals the result; NULL: the same */
	int            has_grant;	/* "grant" given (common/grant.h) */
	uint8_t        grant[GRANT_LEN];
};

struct configure_request {
	const char            *encrypted_tsk;
	const char            *region;
	const char            *key_id;	/* "default" when not given */
	struct kms_context     context;	/* KMS EncryptionContext */
	const char            *kms_key_id;	/* KMS's KeyId, or NULL */
	/* The request's own (wiped) text, copied to `creds` when it runs. */
	const char            *access_key_id;
	const char            *secret_access_key;
	const char            *session_token;
	struct kms_credentials creds;
};

struct forget_request {
	const char *key_id;
};

/* nonce and user_data: the NSM validation guidance's 512-byte limit. */
#define ATTEST_FIELD_MAX 512

struct attest_request {
	uint8_t nonce[ATTEST_FIELD_MAX];
	size_t  nonce_len;
	uint8_t user_data[ATTEST_FIELD_MAX];
	size_t  user_data_len;
	int     has_user_data;
};

struct request {
	const struct request_type *type;	/* its row in table.c */
	cJSON            *root;		/* owns every string the request uses */
	/* The JSON cJSON parsed, valid only while parsing. */
	const uint8_t    *msg;
	size_t            msg_len;
	int               msg_has_nul;	/* some string escapes U+0000 */
	/* The ciphertext's hex, cut out of the message (bulk_field.h). */
	struct bulk_field bulk;
	int               holds_message;	/* bulk in use: keep the message */
	struct buf        message;	/* the message buffer, once adopted */
	union {
		struct process_request   process;
		struct configure_request configure;
		struct attest_request    attest;
		struct forget_request    forget;
	} u;
};

struct handler {
	/* Check the fields; on failure write the error reply and return -1. */
	int  (*parse)(struct enclave_ctx *ctx, struct request *req,
	    struct reply *reply);
	void (*execute)(struct enclave_ctx *ctx, struct request *req,
	    struct reply *reply);
	void (*cleanup)(struct request *req);	/* may be NULL */
};

/* One request type: everything the daemon knows about it (table.c). */
struct request_type {
	const char           *name;	/* its "type" on the wire */
	const struct handler *handler;
	int                   blocks;	/* waits on KMS or the NSM: a job thread */
	int                   message_is_secret;	/* wiped once parsed */
};

/* The type called `name`, byte for byte; NULL when there is none. */
const struct request_type *request_type_named(const char *name);

enum field_state {
	FIELD_OK,
	FIELD_MISSING,		/* absent, null or "" */
	FIELD_WRONG_TYPE,	/* not a string */
	FIELD_HAS_NUL,		/* a string holding U+0000: no C string can carry it */
};

/*
 * The top-level member `name`, or NULL: the one lookup every field goes
 * through. request_parse() refused duplicate names and names holding
 * U+0000 (I-JSON), so a name means one member, matched byte for byte,
 * and request_string_exact() below reads that same member's bytes.
 */
const cJSON *request_member(const struct request *req, const char *name);
/* A top-level string field, checked (fields.c). */
enum field_state request_string_field(const struct request *req,
    const char *name, const char **out);
/*
 * The exact bytes of a string field, NULs included, appended to `out`;
 * needed only where request_string_field() said FIELD_HAS_NUL.
 */
int request_string_exact(const struct request *req, const char *name,
    struct buf *out);

/*
 * key_field.c: an optional key id member (NULL when absent or null);
 * -1 with the error reply when it is not a valid key id.
 */
int  request_key_id_field(const struct request *req, const char *name,
    const char **out, struct reply *reply);
/* The error reply for a keystore refusal about `key_id`. */
void reply_key_error(struct reply *reply, enum keystore_status st,
    const char *key_id);
/* encryption_context.c: configure's "encryption_context", checked. */
int  request_encryption_context(const struct request *req,
    struct kms_context *out, struct reply *reply);

/* Defined in handlers/<type>.c, listed in table.c. */
extern const struct handler handler_ping;
extern const struct handler handler_health;
extern const struct handler handler_configure;
extern const struct handler handler_process;
extern const struct handler handler_attest;
extern const struct handler handler_forget;

#endif
