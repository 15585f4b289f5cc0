/*
 * attest.c - {"type":"attest","nonce":hex[,"user_data":hex]}: a fresh
 * attestation document from the enclave's NSM, binding the nonce.
 */
#include "client/client_internal.h"

#include <string.h>

#include "common/guard.h"

/* Hex of at most 512 bytes: the daemon's limit, checked here too. */
static int
hex_ok(const char *s, int required)
{
	size_t n;

	if (s == NULL || s[0] == '\0')
		return !required;
	n = strlen(s);
	return n % 2 == 0 && n <= 2 * 512 &&
	    strspn(s, "0123456789abcdefABCDEF") == n;
}

int
enclave_attest(struct enclave_client *c, const char *nonce_hex,
    const char *user_data_hex, char **document_b64, size_t *document_len)
{
	cJSON *req = NULL, *root = NULL, *doc;
	const char *status;
	char *text = NULL;
	struct iovec iov;
	int rc;

	client_clear_error(c);
	if (document_len != NULL)
		*document_len = 0;
	if (document_b64 == NULL)
		return client_set_error(c, ENCLAVE_ERR_USAGE,
		    "attest needs a place for the document");
	*document_b64 = NULL;
	if (!hex_ok(nonce_hex, 1) || !hex_ok(user_data_hex, 0))
		return client_set_error(c, ENCLAVE_ERR_USAGE, "attest needs "
		    "a nonce (and optional user_data) as hex of 1..512 bytes");
	if ((req = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(req, "type", "attest") ||
	    !cJSON_AddStringToObject(req, "nonce", nonce_hex) ||
	    (user_data_hex != NULL && user_data_hex[0] != '\0' &&
	    !cJSON_AddStringToObject(req, "user_data", user_data_hex)) ||
	    (text = cJSON_PrintUnformatted(req)) == NULL) {
		cJSON_Delete(req);
		return client_set_error(c, ENCLAVE_ERR_NOMEM, "out of memory");
	}
	cJSON_Delete(req);
	iov.iov_base = text;
	iov.iov_len = strlen(text);
	rc = client_exchange(c, &iov, 1, &root);
	cJSON_free(text);
	if (rc < 0)
		return rc;
	status = json_string_field(root, "status");
	doc = json_member(root, "document");
	if (status == NULL || strcmp(status, "ok") != 0 ||
	    !cJSON_IsString(doc) || doc->valuestring == NULL ||
	    doc->valuestring[0] == '\0') {
		cJSON_Delete(root);
		return client_fail(c, ENCLAVE_ERR_PROTOCOL, "unexpected answer "
		    "to attest (no status \"ok\" with a string document)");
	}
	*document_b64 = doc->valuestring;
	doc->valuestring = NULL;
	if (document_len != NULL)
		*document_len = strlen(*document_b64);
	cJSON_Delete(root);
	return ENCLAVE_OK;
}
