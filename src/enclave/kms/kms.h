/*
 * kms.h - how configure turns an encrypted TSK into the key.
 *
 * A backend asks KMS, with this enclave's attestation, to decrypt the TSK:
 * `--kms kmstool` runs AWS's kmstool_enclave_cli (kmstool.c), `--kms
 * native` asks KMS itself (native/). Either runs in a child of the KMS
 * broker (broker.h), outside the daemon's seccomp filter; the daemon and
 * the request layer see only this interface.
 */
#ifndef ENCLAVE_KMS_H
#define ENCLAVE_KMS_H

#include <stddef.h>

#include "common/reason.h"
#include "common/secret.h"

/*
 * The longest credentials a configure may carry: what AWS issues, with
 * room to spare. An access key id is 16 to 128 characters (the STS
 * Credentials and IAM AccessKey data types); a secret access key has no
 * documented length and is 40 characters as issued (1024 leaves room for
 * any other issuer); a session token's
 * size "is not fixed", typically under 4096 bytes (STS GetSessionToken).
 * They bound the locked memory a configure needs (locked_heap.h).
 */
#define KMS_ACCESS_KEY_ID_MAX     128
#define KMS_SECRET_ACCESS_KEY_MAX 1024
#define KMS_SESSION_TOKEN_MAX     8192

/* AWS credentials, held in locked memory for the length of one call. */
struct kms_credentials {
	struct secret access_key_id;	/* NUL-terminated text */
	struct secret secret_access_key;
	struct secret session_token;
};

/*
 * KMS's EncryptionContext: string pairs bound to the ciphertext, which
 * Decrypt must repeat exactly; only the native backend can send one (the
 * KMS tool has no option for it). Bounded so a broker message stays
 * small: keys are 1..KMS_CONTEXT_KEY_MAX bytes without '=' (KEY=VALUE
 * stays unambiguous in logs and enclavectl's syntax), all keys and values
 * together at most KMS_CONTEXT_BYTES_MAX.
 */
#define KMS_CONTEXT_PAIRS_MAX  16
#define KMS_CONTEXT_KEY_MAX    128
#define KMS_CONTEXT_BYTES_MAX  4096

struct kms_context_pair {
	const char *key;
	const char *value;
};

struct kms_context {
	size_t                  n;
	struct kms_context_pair pair[KMS_CONTEXT_PAIRS_MAX];
};

struct kms_decrypt_request {
	const char             *ciphertext_b64;
	const char             *region;
	const char             *key_id;	/* the KMS key to name, or NULL */
	struct kms_credentials *creds;
	struct kms_context      context;	/* n == 0: none */
};

enum kms_status {
	KMS_OK,
	KMS_FAILED,		/* kms_decrypt_failed */
	KMS_TIMEOUT,		/* kms_timeout */
	KMS_INTERNAL,		/* internal_error: could not even ask */
};

struct kms_result {
	enum kms_status status;
	struct secret   plaintext;	/* KMS_OK: the decrypted bytes */
	struct reason   reason;		/* otherwise: why, no secrets */
};

struct kms_native_config;

struct kms_backend {
	const char *name;
	void (*decrypt)(const struct kms_backend *kms,
	    const struct kms_decrypt_request *req, struct kms_result *res);
	/* backend configuration */
	const char *tool_path;
	unsigned    proxy_port;
	unsigned    timeout_s;
	/* --kms native's own (native/native.h), kept by reference */
	const struct kms_native_config *native;
	/* the daemon's end of the broker's control socket (broker.h) */
	int         broker_fd;
};

void kms_credentials_free(struct kms_credentials *creds);
/* 1 when `key` may name an EncryptionContext pair (see above). */
int  kms_context_key_valid(const char *key, size_t len);
/*
 * -1 with a reason naming the field (never its value) unless each
 * credential is in the alphabet AWS issues it in (credentials.c).
 */
int  kms_credentials_check(const char *access_key_id,
    const char *secret_access_key, const char *session_token,
    struct reason *why);
/* The credential strings as a NULL-terminated list, to scrub from reasons. */
void kms_credentials_list(const struct kms_credentials *creds,
    const char *list[4]);

extern const struct kms_backend kms_kmstool_template;

#endif
