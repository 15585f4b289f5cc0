/*
 * json_string.c - whether a request's text needs escaping at all.
 *
 * Requests are assembled by hand rather than through cJSON: a credential
 * must be written exactly once into a buffer we wipe (cJSON would leave
 * copies in freed nodes), and a 32 MiB ciphertext must not be copied at
 * all. The literals themselves come from common/json_text.h.
 */
#include "client/client_internal.h"

#include <stdint.h>

/* True when s needs no escaping: printable ASCII without '"' or '\\'. */
int
json_string_plain(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t ch = (uint8_t)s[i];

		if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\')
			return 0;
	}
	return 1;
}
