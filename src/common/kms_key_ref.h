/*
 * kms_key_ref.h - naming a KMS key so that KMS's answer can be checked:
 * a key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/ID) or a bare key id
 * (a UUID, or mrk- and 32 hex digits for a multi-Region key).
 *
 * An alias (alias/NAME, or an alias ARN) is refused: KMS answers a
 * Decrypt with the key's ARN, never the alias, so a pin by alias could
 * not be checked against the answer, and whoever may edit aliases could
 * point it at another key. enclaved's --kms-key-id pins, configure's
 * kms_key_id, kmstool-dev's key matching and the tests share this.
 */
#ifndef COMMON_KMS_KEY_REF_H
#define COMMON_KMS_KEY_REF_H

#include <stddef.h>

#include "common/reason.h"

/* KMS's own bound on a KeyId. */
#define KMS_KEY_REF_MAX 2048

/* 0 when `ref` is a key ARN or a bare key id; -1 with a reason otherwise. */
int  kms_key_ref_check(const char *ref, struct reason *why);
/* 1 when `ref` (already checked) is an ARN. */
int  kms_key_ref_is_arn(const char *ref);
/* The bare key id in a checked `ref`: after "key/" in an ARN, else all. */
const char *kms_key_ref_id(const char *ref);
/*
 * 1 when a and b name the same key: equal, or one a key ARN and the
 * other its bare key id. Two different ARNs (another Region or account)
 * are different keys even with the same id.
 */
int  kms_key_ref_same(const char *a, const char *b);

#endif
