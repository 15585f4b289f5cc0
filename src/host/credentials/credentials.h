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
 * Four files, calls one way: credentials.c (the source, the environment)
 * -> imds_fetch.c -> imds_parse.c (imds.h) -> credential_set.c (the set
 * in locked memory, credential_set.h), which calls none of them. No
 * function here writes a log line; failures are described in `why`,
 * never with a secret in it.
 */
#ifndef HOST_CREDENTIALS_H
#define HOST_CREDENTIALS_H

#include "common/reason.h"
#include "host/credentials/credential_set.h"
#include "host/credentials/imds.h"

enum host_credentials_source { HOST_CREDS_ENV, HOST_CREDS_IMDS };

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

/* The environment or IMDS (host_credentials_from_imds, imds.h), per
 * `source`. */
int  host_credentials_fetch(struct host_credentials *out,
    enum host_credentials_source source, int wipe_env, int timeout_ms,
    struct reason *why);

#endif
