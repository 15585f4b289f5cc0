/*
 * kms_key_ref.c - key ARNs and key ids (see kms_key_ref.h).
 */
#include "common/kms_key_ref.h"

#include <string.h>

/* n lowercase hex digits at s (KMS writes key ids in lowercase). */
static int
hex_run(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A UUID 8-4-4-4-12, or "mrk-" and 32 hex digits. */
static int
bare_id_valid(const char *id)
{
	static const size_t groups[] = { 8, 4, 4, 4, 12 };
	size_t i, n = strlen(id);
	const char *p = id;

	if (n == 36 && strncmp(id, "mrk-", 4) != 0) {
		for (i = 0; i < 5; i++) {
			if (!hex_run(p, groups[i]))
				return 0;
			p += groups[i];
			if (i < 4 && *p++ != '-')
				return 0;
		}
		return 1;
	}
	return n == 36 && strncmp(id, "mrk-", 4) == 0 && hex_run(id + 4, 32);
}

/* [a-z0-9-]+ up to the next ':'; returns its length, 0 if none. */
static size_t
field_len(const char *s, int digits_only)
{
	size_t n = 0;

	while (s[n] != '\0' && s[n] != ':') {
		if (!((s[n] >= '0' && s[n] <= '9') || (!digits_only &&
		    ((s[n] >= 'a' && s[n] <= 'z') || s[n] == '-'))))
			return 0;
		n++;
	}
	return s[n] == ':' ? n : 0;
}

/* arn:aws[-a-z]*:kms:REGION:ACCOUNT(12 digits):key/ID */
static int
arn_valid(const char *ref, struct reason *why)
{
	const char *p = ref + 4;
	size_t n;

	if (strncmp(p, "aws", 3) != 0 || (n = field_len(p, 0)) == 0 ||
	    strspn(p + 3, "abcdefghijklmnopqrstuvwxyz-") != n - 3)
		return reason_fail(why, "not a KMS key ARN: the partition is "
		    "not aws[-...]");
	p += n + 1;
	if (strncmp(p, "kms:", 4) != 0)
		return reason_fail(why, "not a KMS key ARN: the service is "
		    "not kms");
	p += 4;
	if ((n = field_len(p, 0)) == 0)
		return reason_fail(why, "not a KMS key ARN: no region");
	p += n + 1;
	if ((n = field_len(p, 1)) != 12)
		return reason_fail(why, "not a KMS key ARN: the account is "
		    "not 12 digits");
	p += n + 1;
	if (strncmp(p, "alias/", 6) == 0)
		return reason_fail(why, "an alias ARN cannot be checked: KMS "
		    "answers with the key ARN; name the key ARN or key id");
	if (strncmp(p, "key/", 4) != 0 || !bare_id_valid(p + 4))
		return reason_fail(why, "not a KMS key ARN: expected "
		    "key/<key id> at its end");
	return 0;
}

int
kms_key_ref_check(const char *ref, struct reason *why)
{
	size_t n = strlen(ref);

	if (n == 0 || n > KMS_KEY_REF_MAX)
		return reason_fail(why, "a KMS key is 1 to %d characters",
		    KMS_KEY_REF_MAX);
	if (strncmp(ref, "alias/", 6) == 0)
		return reason_fail(why, "an alias cannot be checked: KMS "
		    "answers with the key ARN; name the key ARN or key id");
	if (strncmp(ref, "arn:", 4) == 0)
		return arn_valid(ref, why);
	if (!bare_id_valid(ref))
		return reason_fail(why, "not a KMS key ARN "
		    "(arn:aws:kms:REGION:ACCOUNT:key/ID) or key id (a UUID "
		    "or mrk-...)");
	return 0;
}

int
kms_key_ref_is_arn(const char *ref)
{
	return strncmp(ref, "arn:", 4) == 0;
}

const char *
kms_key_ref_id(const char *ref)
{
	const char *k;

	if (!kms_key_ref_is_arn(ref) || (k = strstr(ref, ":key/")) == NULL)
		return ref;
	return k + 5;
}

int
kms_key_ref_same(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return 1;
	if (kms_key_ref_is_arn(a) && kms_key_ref_is_arn(b))
		return 0;
	if (!kms_key_ref_is_arn(a) && !kms_key_ref_is_arn(b))
		return 0;
	return strcmp(kms_key_ref_id(a), kms_key_ref_id(b)) == 0;
}
