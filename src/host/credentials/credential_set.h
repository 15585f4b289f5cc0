/*
 * credential_set.h - one set of AWS credentials, held in locked memory.
 *
 * The three strings live in struct secret (OpenSSL's locked heap),
 * NUL-terminated, and are wiped by host_credentials_clear(). The bottom
 * of host/credentials/: the sources (credentials.c, imds_*.c) fill a set,
 * this file calls none of them.
 */
#ifndef HOST_CREDENTIAL_SET_H
#define HOST_CREDENTIAL_SET_H

#include <stddef.h>
#include <time.h>

#include "common/secret.h"
#include "enclaveclient/client.h"

struct host_credentials {
	struct secret access_key_id;	/* each NUL-terminated; len excludes it */
	struct secret secret_access_key;
	struct secret session_token;
	time_t        expiration;	/* 0: does not expire (environment) */
};

#define HOST_CREDENTIALS_INIT { SECRET_INIT, SECRET_INIT, SECRET_INIT, 0 }

/* v[0..n) as a NUL-terminated secret (enclave_configure() takes C strings). */
int  host_credentials_set_string(struct secret *s, const char *v, size_t n);
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
