/*
 * credentials.c - the AWS credentials a configure lends a KMS backend.
 */
#include "enclave/kms/kms.h"

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
