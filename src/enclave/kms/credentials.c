/*
 * credentials.c - the AWS credentials a configure lends a KMS backend.
 */
#include "enclave/kms/kms.h"

#include <string.h>

void
kms_credentials_free(struct kms_credentials *creds)
{
	secret_free(&creds->access_key_id);
	secret_free(&creds->secret_access_key);
	secret_free(&creds->session_token);
}

void
kms_credentials_list(const struct kms_credentials *creds, const char *list[4])
{
	list[0] = (const char *)creds->access_key_id.data;
	list[1] = (const char *)creds->secret_access_key.data;
	list[2] = (const char *)creds->session_token.data;
	list[3] = NULL;
}

static const char upper_alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

/* 1 when `value` is non-empty and every byte is in `alphabet`. */
static int
in_alphabet(const char *value, const char *alphabet)
{
	size_t n = strlen(value);

	return n > 0 && strspn(value, alphabet) == n;
}

/*
 * The credentials go into an HTTP header (the Authorization line, the
 * X-Amz-Security-Token) and onto the KMS tool's command line: a CR, LF,
 * space, comma or slash there would add a header or change what is
 * signed. So each is held to the alphabet AWS issues it in: access key
 * ids are uppercase letters and digits (AKIA..., ASIA...), secret access
 * keys and session tokens are base64. The reason names the field and
 * never quotes its value.
 */
int
kms_credentials_check(const char *access_key_id, const char *secret_access_key,
    const char *session_token, struct reason *why)
{
	if (!in_alphabet(access_key_id, upper_alnum))
		return reason_fail(why, "aws_access_key_id must be uppercase "
		    "letters and digits, as AWS issues it");
	if (!in_alphabet(secret_access_key, base64_alphabet))
		return reason_fail(why, "aws_secret_access_key must be base64 "
		    "characters (A-Z a-z 0-9 + / =), as AWS issues it");
	if (!in_alphabet(session_token, base64_alphabet))
		return reason_fail(why, "aws_session_token must be base64 "
		    "characters (A-Z a-z 0-9 + / =), as AWS issues it");
	return 0;
}
