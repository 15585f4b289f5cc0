/*
 * context.c - what a KMS EncryptionContext key may be (see kms.h).
 */
#include "enclave/kms/kms.h"

#include <string.h>

/*
 * KEY=VALUE (enclavectl's --encryption-context, setup-kms.sh) splits at
 * the first '=', so a key holding one would change meaning on the way; a
 * NUL would cut it short.
 */
int
kms_context_key_valid(const char *key, size_t len)
{
	return len > 0 && len <= KMS_CONTEXT_KEY_MAX &&
	    memchr(key, '=', len) == NULL && memchr(key, '\0', len) == NULL;
}
