/*
 * kms_response.c - what KMS's JSON answer means.
 *
 * Success (200) to a Decrypt with a Recipient carries
 * CiphertextForRecipient (base64 CMS) and never Plaintext. Errors carry
 * {"__type": "[prefix#]AccessDeniedException", "message"|"Message": ...};
 * the reason is "AccessDeniedException: <message>", what kmstool users
 * see in AWS's own logs, scrubbed and bounded like the KMS tool's stderr
 * (kmstool_output.c's reason writer, reused). The same two fields decide
 * whether an error is worth another attempt (kms_answer_classify).
 */
#include "enclave/kms/native/native_internal.h"

#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "common/base64.h"
#include "common/guard.h"
#include "common/json_parse.h"
#include "common/kms_key_ref.h"
#include "enclave/kms/kmstool_output.h"

int
kms_recipient_ciphertext(const uint8_t *body, size_t len, struct buf *cms,
    struct reason *reason)
{
	cJSON *root = json_parse_exact(body, len);
	const char *b64;
	size_t n, got;
	uint8_t *dst;
	int rc = -1;

	if (root == NULL || !cJSON_IsObject(root)) {
		reason_fail(reason, "KMS answered 200 without a JSON "
		    "object");
		goto out;
	}
	if ((b64 = json_string_field(root, "CiphertextForRecipient")) == NULL ||
	    (n = strlen(b64)) == 0) {
		reason_fail(reason, "KMS answer has no "
		    "CiphertextForRecipient (was the Recipient ignored?)");
		goto out;
	}
	if ((dst = buf_tail(cms, base64_decoded_max(n),
	    NATIVE_HTTP_BODY_MAX)) == NULL ||
	    base64_decode(dst, &got, b64, n) < 0 ||
	    buf_commit(cms, got) < 0) {
		reason_fail(reason, "KMS answer's "
		    "CiphertextForRecipient is not base64");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

/*
 * KMS names the key that decrypted in its answer's KeyId, always as the
 * key ARN. With a pin (F27) it must be that key: a bare key id matches
 * the ARN's key/ID, an ARN must be equal. Its value is quoted in the
 * reason only when it looks like an ARN (printable, bounded): a key ARN
 * is no secret, and it tells the operator which key the TSK came from.
 */
int
kms_answer_key_check(const uint8_t *body, size_t len, const char *pin,
    struct reason *reason)
{
	cJSON *root = json_parse_exact(body, len);
	const char *answered;
	int rc = -1;

	if (root == NULL || !cJSON_IsObject(root) ||
	    (answered = json_string_field(root, "KeyId")) == NULL ||
	    answered[0] == '\0') {
		reason_fail(reason, "KMS answer names no KeyId; the pinned "
		    "key %.160s cannot be checked", pin);
		goto out;
	}
	if (!kms_key_ref_is_arn(answered) ||
	    kms_key_ref_check(answered, NULL) < 0) {
		reason_fail(reason, "KMS answer's KeyId is not a key ARN");
		goto out;
	}
	if (kms_key_ref_is_arn(pin) ? strcmp(answered, pin) != 0 :
	    strcmp(kms_key_ref_id(answered), pin) != 0) {
		reason_fail(reason, "KMS decrypted with %.100s, not the pinned "
		    "key %.100s", answered, pin);
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

/*
 * The error's type, its prefix up to '#' stripped, and message ("message"
 * or "Message"), pointing into `root`; NULL for what is absent or empty.
 */
static void
error_fields(const cJSON *root, const char **type, const char **msg)
{
	const char *hash;

	*type = *msg = NULL;
	if (root == NULL || !cJSON_IsObject(root))
		return;
	*type = json_string_field(root, "__type");
	*msg = json_string_field(root, "message");
	if (*msg == NULL)
		*msg = json_string_field(root, "Message");
	if (*type != NULL && (hash = strrchr(*type, '#')) != NULL)
		*type = hash + 1;
	if (*type != NULL && (*type)[0] == '\0')
		*type = NULL;
	if (*msg != NULL && (*msg)[0] == '\0')
		*msg = NULL;
}

static int
starts_with(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * KMS's words for a request signed more than 5 minutes from its clock,
 * behind ("Signature expired: 20240820T230143Z is now earlier than
 * 20240820T230302Z (20240820T230802Z - 5 min.)") or ahead ("Signature
 * not yet current: ... is still later than ... (... + 5 min.)"). Any
 * other InvalidSignatureException (a wrong secret) is final.
 */
enum kms_answer
kms_answer_classify(int status, const uint8_t *body, size_t len)
{
	cJSON *root = json_parse_exact(body, len);
	const char *type, *msg;
	enum kms_answer kind = KMS_ANSWER_PERMANENT;

	error_fields(root, &type, &msg);
	if (status >= 400 && status < 500 && type != NULL &&
	    strcmp(type, "InvalidSignatureException") == 0 &&
	    (starts_with(msg, "Signature expired") ||
	    starts_with(msg, "Signature not yet current")))
		kind = KMS_ANSWER_CLOCK_SKEW;
	else if (status == 429 || (status >= 500 && status < 600) ||
	    (type != NULL && strcmp(type, "ThrottlingException") == 0))
		kind = KMS_ANSWER_TRANSIENT;
	cJSON_Delete(root);
	return kind;
}

void
kms_error_reason(int status, const uint8_t *body, size_t len,
    const char *const *redact, char *out, size_t out_size)
{
	cJSON *root = json_parse_exact(body, len);
	const char *type, *msg;
	char text[REASON_MAX * 2];
	size_t i;

	error_fields(root, &type, &msg);
	if (type != NULL)
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
	    out, out_size);
}
