/*
 * options.h - enclaved's command line, parsed once at startup.
 */
#ifndef ENCLAVE_OPTIONS_H
#define ENCLAVE_OPTIONS_H

#include <stddef.h>

#include "common/endpoint.h"
#include "common/log.h"

#define OPTIONS_MAX_LISTEN 8
/* --kms-key-id pins, at most: a TSK may come from one of these KMS keys. */
#define OPTIONS_MAX_KMS_KEYS 16

struct options {
	struct endpoint listen[OPTIONS_MAX_LISTEN];
	size_t          n_listen;

	const char     *kms_backend;	/* "kmstool" or "native" */
	const char     *kmstool_path;
	const char     *nsm_device;	/* /dev/nsm, or unix:/path (simulator) */
	const char     *kms_endpoint;	/* native: NULL (vsock-proxy) or tcp:H:P */
	const char     *kms_ca_file;	/* native: NULL (the system bundle) */
	const char     *region;
	/* Measured (the image's command): key ARNs or key ids; none: any. */
	const char     *kms_key_ids[OPTIONS_MAX_KMS_KEYS];
	size_t          n_kms_key_ids;
	unsigned        proxy_port;
	unsigned        kms_timeout_s;
	unsigned long long max_encryptions;	/* per key: NIST SP 800-38D */
	unsigned        max_keys;	/* keys held at once */

	const char     *step;
	const char     *agent_id;
	int             bind_direction;	/* aad "request\0"/"result\0" + aad */

	size_t          max_message;
	size_t          memory_limit;	/* all connections' buffers together */
	unsigned        idle_timeout_s;
	unsigned        read_timeout_s;
	unsigned        max_connections;
	unsigned        threads;
	enum log_level  log_level;
	int             sandbox;	/* seccomp after startup */
};

/*
 * Fill `opt` from argv. Returns 0 to run, 1 when --help or --version was
 * printed (exit 0), -1 after printing a usage error (exit 2). `steps`
 * names the workflow steps linked in, for --help (steps/step.h).
 */
int  options_parse(struct options *opt, int argc, char **argv,
    const char *steps);
void options_log(const struct options *opt);

/* A region name safe to pass on: letters, digits and '-', 1..32 chars. */
int  options_region_valid(const char *region);

#endif
