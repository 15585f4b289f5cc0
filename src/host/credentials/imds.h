/*
 * imds.h - AWS credentials from the EC2 instance metadata service, IMDSv2
 * (PUT a session token, GET the role name, GET the role's credentials):
 * the exchanges in imds_fetch.c, reading the answers in imds_parse.c.
 */
#ifndef HOST_IMDS_H
#define HOST_IMDS_H

#include <stddef.h>

#include "common/reason.h"
#include "host/credentials/credential_set.h"

/* The default IMDS address, and where the SDKs' variable moves it. */
#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_ENDPOINT_ENV     "AWS_EC2_METADATA_SERVICE_ENDPOINT"
/* Largest IMDS answer read (the credentials JSON is about 1.5 KiB). */
#define IMDS_MAX_RESPONSE     ((size_t)64 << 10)

/*
 * Fetch from IMDSv2 at `endpoint` (NULL: $AWS_EC2_METADATA_SERVICE_ENDPOINT
 * or the default), each HTTP exchange limited to timeout_ms. The process
 * must have called curl_global_init() (imds_global_init()) before.
 */
int  host_credentials_from_imds(struct host_credentials *out,
    const char *endpoint, int timeout_ms, struct reason *why);

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

#endif
