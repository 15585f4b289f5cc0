/*
 * key_id.c - the key id alphabet (see key_id.h).
 */
#include "common/key_id.h"

int
key_id_valid(const char *id, size_t len)
{
	size_t i;

	if (len == 0 || len > KEY_ID_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}
