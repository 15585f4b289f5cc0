/*
 * kms_response.c - what KMS's JSON answer means.
 *
 * Success (200) to a Decrypt with a Recipient carries
 * CiphertextForRecipient (base64 CMS) and never Plaintext. Errors carry
 * {"__type": "[prefix#]AccessDeniedException", "message"|"Message": ...};
 * the reason is "AccessDeniedException: <message>", what kmstool users
 * see in AWS's own logs, scrubbed and bounded like the KMS tool's stderr
 * (kmstool_output.c's reason writer, reused).
 */
#include "enclave/kms/native/native_internal.h"

#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "common/base64.h"
#include "common/guard.h"
#include "common/json_parse.h"
#include "enclave/kms/kmstool_output.h"

int
kms_recipient_ciphertext(const uint8_t *body, size_t len, struct buf *cms,
    char *reason, size_t reason_len)
{
	cJSON *root = json_parse_exact(body, len);
	const char *b64;
	size_t n, got;
	int rc = -1;

	if (root == NULL || !cJSON_IsObject(root)) {
		snprintf(reason, reason_len, "KMS answered 200 without a JSON "
		    "object");
		goto out;
	}
	if ((b64 = json_string_field(root, "CiphertextForRecipient")) == NULL ||
	    (n = strlen(b64)) == 0) {
		snprintf(reason, reason_len, "KMS answer has no "
		    "CiphertextForRecipient (was the Recipient ignored?)");
		goto out;
	}
	if (buf_reserve(cms, base64_decoded_max(n), NATIVE_HTTP_BODY_MAX) < 0 ||
	    base64_decode(cms->data + cms->len, &got, b64, n) < 0) {
		snprintf(reason, reason_len, "KMS answer's "
		    "CiphertextForRecipient is not base64");
		goto out;
	}
	cms->len += got;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

void
kms_error_reason(int status, const uint8_t *body, size_t len,
    const char *const *redact, char *reason, size_t reason_len)
{
	cJSON *root = json_parse_exact(body, len);
	const char *type = NULL, *msg = NULL, *hash;
	char text[KMS_REASON_MAX * 2];
	size_t i;

	if (root != NULL && cJSON_IsObject(root)) {
		type = json_string_field(root, "__type");
		msg = json_string_field(root, "message");
		if (msg == NULL)
			msg = json_string_field(root, "Message");
	}
	if (type != NULL && (hash = strrchr(type, '#')) != NULL)
		type = hash + 1;
	if (msg != NULL && msg[0] == '\0')
		msg = NULL;
	if (type != NULL && type[0] != '\0')
		snprintf(text, sizeof(text), "%s%s%s", type, msg ? ": " : "",
		    msg ? msg : "");
	else if (msg != NULL)
		snprintf(text, sizeof(text), "KMS answered HTTP %d: %s",
		    status, msg);
	else
		snprintf(text, sizeof(text), "KMS answered HTTP %d", status);
	cJSON_Delete(root);
	/* One line: the reason writer keeps the last meaningful line. */
	for (i = 0; text[i] != '\0'; i++)
		if (text[i] == '\r' || text[i] == '\n')
			text[i] = ' ';
	kmstool_failure_reason((const uint8_t *)text, strlen(text), redact,
	    reason, reason_len);
}
