/*
 * credentials.h - AWS credentials for configure, on the host (libhost).
 *
 * enclavectl and enclave-gateway both hand the enclave a credential set
 * it asks KMS with. Two sources: the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and the EC2 instance metadata
 * service, IMDSv2 (PUT a session token, GET the role name, GET the role's
 * credentials), whose address AWS_EC2_METADATA_SERVICE_ENDPOINT overrides
 * as it does for the AWS SDKs.
 *
 * The three strings live in struct secret (OpenSSL's locked heap),
 * NUL-terminated, and are wiped by host_credentials_clear(). No function
 * here writes a log line; failures are described in `why`, never with a
 * secret in it.
 */
#ifndef HOST_CREDENTIALS_H
#define HOST_CREDENTIALS_H

#include <stddef.h>
#include <time.h>

#include "common/reason.h"
#include "common/secret.h"
#include "enclaveclient/client.h"

enum host_credentials_source { HOST_CREDS_ENV, HOST_CREDS_IMDS };

struct host_credentials {
	struct secret access_key_id;	/* each NUL-terminated; len excludes it */
	struct secret secret_access_key;
	struct secret session_token;
	time_t        expiration;	/* 0: does not expire (environment) */
};

#define HOST_CREDENTIALS_INIT { SECRET_INIT, SECRET_INIT, SECRET_INIT, 0 }

/* The default IMDS address, and where the SDKs' variable moves it. */
#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_ENDPOINT_ENV     "AWS_EC2_METADATA_SERVICE_ENDPOINT"
/* Largest IMDS answer read (the credentials JSON is about 1.5 KiB). */
#define IMDS_MAX_RESPONSE     ((size_t)64 << 10)

/* "env" or "imds" to a source; -1 for anything else. */
int  host_credentials_source_parse(const char *s,
    enum host_credentials_source *out);

/*
 * Copy the three environment variables into `out`. wipe_env=1 then
 * cleanses the environment's copies, so the process keeps only the
 * locked one. Fails naming every variable that is missing.
 */
int  host_credentials_from_env(struct host_credentials *out, int wipe_env,
    struct reason *why);

/*
 * Fetch from IMDSv2 at `endpoint` (NULL: $AWS_EC2_METADATA_SERVICE_ENDPOINT
 * or the default), each HTTP exchange limited to timeout_ms. The process
 * must have called curl_global_init() (imds_global_init()) before.
 */
int  host_credentials_from_imds(struct host_credentials *out,
    const char *endpoint, int timeout_ms, struct reason *why);

/* One of the two above, per `source`. */
int  host_credentials_fetch(struct host_credentials *out,
    enum host_credentials_source source, int wipe_env, int timeout_ms,
    struct reason *why);

/*
 * Parse the role's credentials document: {"Code":"Success",
 * "AccessKeyId":..., "SecretAccessKey":..., "Token":...,
 * "Expiration":"YYYY-MM-DDTHH:MM:SSZ", ...}. Separate from the fetch so
 * it can be tested without a server.
 */
int  imds_parse_credentials(const char *json, size_t len,
    struct host_credentials *out, struct reason *why);
/* The first role of the security-credentials listing (one per line). */
int  imds_parse_role(const char *text, size_t len, char *role,
    size_t role_size, struct reason *why);
/* The IMDS base URL without a trailing '/': argument, variable, default. */
const char *imds_endpoint(const char *override, char *out, size_t size);
/* curl_global_init, once, before any thread starts. */
int  imds_global_init(void);

/* A copy (fresh secrets) of src into dst. */
int  host_credentials_copy(struct host_credentials *dst,
    const struct host_credentials *src);
/* Wipe and free; the struct is then empty and reusable. */
void host_credentials_clear(struct host_credentials *c);
/* 1 when all three strings are present. */
int  host_credentials_present(const struct host_credentials *c);
/* Pointers into c for enclave_configure() (valid while c is). */
void host_credentials_view(const struct host_credentials *c,
    struct enclave_credentials *view);

#endif
