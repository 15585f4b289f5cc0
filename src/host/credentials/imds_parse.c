/*
 * imds_parse.c - reading what IMDS answers (see imds.h).
 *
 * Kept apart from the HTTP exchange so the unit tests feed it documents
 * directly. cJSON is used with the project's wiping allocator when the
 * program installed it (json_use_wiping_allocator()); the tree is deleted
 * before returning either way.
 */
#include "host/credentials/imds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_parse.h"
#include "common/timefmt.h"

/* A credential field: a non-empty string of printable ASCII. */
static const char *
field(const cJSON *root, const char *name)
{
	const char *v = json_string_field(root, name);
	const char *p;

	if (v == NULL || v[0] == '\0')
		return NULL;
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			return NULL;
	return v;
}

int
imds_parse_credentials(const char *json, size_t len,
    struct host_credentials *out, struct reason *why)
{
	const char *code, *akid, *secret, *token, *exp;
	cJSON *root;
	time_t t;
	int rc = -1;

	host_credentials_clear(out);
	if ((root = json_parse_exact(json, len)) == NULL ||
	    !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return reason_fail(why, "the metadata service's credentials "
		    "are not a JSON object");
	}
	code = json_string_field(root, "Code");
	if (code != NULL && strcmp(code, "Success") != 0) {
		/* The code is IMDS's own word (e.g. "AssumeRoleUnauthorized"). */
		reason_fail(why, "the metadata service answered Code "
		    "\"%.64s\"", code);
		goto done;
	}
	akid = field(root, "AccessKeyId");
	secret = field(root, "SecretAccessKey");
	token = field(root, "Token");
	exp = json_string_field(root, "Expiration");
	if (akid == NULL || secret == NULL || token == NULL) {
		reason_fail(why, "the metadata service's credentials lack "
		    "AccessKeyId, SecretAccessKey or Token");
		goto done;
	}
	if (exp == NULL || timefmt_parse_rfc3339(exp, &t) < 0) {
		reason_fail(why, "the metadata service's credentials have no "
		    "Expiration of the form YYYY-MM-DDTHH:MM:SSZ");
		goto done;
	}
	if (host_credentials_set_string(&out->access_key_id, akid,
	    strlen(akid)) < 0 ||
	    host_credentials_set_string(&out->secret_access_key, secret,
	    strlen(secret)) < 0 ||
	    host_credentials_set_string(&out->session_token, token,
	    strlen(token)) < 0) {
		host_credentials_clear(out);
		reason_fail(why, "out of secure memory");
		goto done;
	}
	out->expiration = t;
	rc = 0;
done:
	cJSON_Delete(root);
	return rc;
}

/*
 * The listing holds one role name per line (an instance profile has one).
 * A name goes into a URL path, so only IAM's own name characters pass.
 */
int
imds_parse_role(const char *text, size_t len, char *role, size_t role_size,
    struct reason *why)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-";
	size_t i = 0, n;

	while (i < len && (text[i] == ' ' || text[i] == '\t' ||
	    text[i] == '\r' || text[i] == '\n'))
		i++;
	for (n = 0; i + n < len && text[i + n] != '\n' && text[i + n] != '\r';
	    n++)
		if (strchr(ok, text[i + n]) == NULL || text[i + n] == '\0')
			return reason_fail(why, "the metadata service's role "
			    "name has characters IAM does not allow");
	if (n == 0)
		return reason_fail(why, "the instance has no IAM role "
		    "(the metadata service lists none)");
	if (n >= role_size)
		return reason_fail(why, "the metadata service's role name is "
		    "too long");
	memcpy(role, text + i, n);
	role[n] = '\0';
	return 0;
}

const char *
imds_endpoint(const char *override, char *out, size_t size)
{
	const char *v = override;
	size_t n;

	if (v == NULL || v[0] == '\0')
		v = getenv(IMDS_ENDPOINT_ENV);
	if (v == NULL || v[0] == '\0')
		v = IMDS_DEFAULT_ENDPOINT;
	n = strlen(v);
	while (n > 0 && v[n - 1] == '/')
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(out, v, n);
	out[n] = '\0';
	return out;
}
