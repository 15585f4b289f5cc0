/*
 * credentials.c - where credentials come from: the environment here, IMDS
 * in imds_fetch.c (see credentials.h).
 */
#include "host/credentials/credentials.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/guard.h"

int
host_credentials_source_parse(const char *s, enum host_credentials_source *out)
{
	if (strcmp(s, "env") == 0)
		*out = HOST_CREDS_ENV;
	else if (strcmp(s, "imds") == 0)
		*out = HOST_CREDS_IMDS;
	else
		return -1;
	return 0;
}

/*
 * Name every missing variable at once, so one run tells the operator all
 * that is wrong rather than one variable per attempt.
 */
int
host_credentials_from_env(struct host_credentials *out, int wipe_env,
    struct reason *why)
{
	static const char *const names[] = { "AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN" };
	struct secret *dst[3];
	char *v[3];
	char missing[128] = "";
	size_t i;

	dst[0] = &out->access_key_id;
	dst[1] = &out->secret_access_key;
	dst[2] = &out->session_token;
	host_credentials_clear(out);
	for (i = 0; i < 3; i++) {
		v[i] = getenv(names[i]);
		if (v[i] == NULL || v[i][0] == '\0') {
			if (missing[0] != '\0')
				strcat(missing, ", ");
			strcat(missing, names[i]);
		}
	}
	if (missing[0] != '\0') {
		reason_fail(why, "credentials come from the environment;"
		    " not set: %s", missing);
		return -1;
	}
	for (i = 0; i < 3; i++) {
		if (host_credentials_set_string(dst[i], v[i], strlen(v[i])) < 0) {
			host_credentials_clear(out);
			reason_fail(why, "out of secure memory");
			return -1;
		}
	}
	if (wipe_env)
		for (i = 0; i < 3; i++)
			OPENSSL_cleanse(v[i], strlen(v[i]));
	out->expiration = 0;
	return 0;
}

int
host_credentials_fetch(struct host_credentials *out,
    enum host_credentials_source source, int wipe_env, int timeout_ms,
    struct reason *why)
{
	if (source == HOST_CREDS_IMDS)
		return host_credentials_from_imds(out, NULL, timeout_ms, why);
	return host_credentials_from_env(out, wipe_env, why);
}
