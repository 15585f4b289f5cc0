/*
 * context.c - encoding kmstool-dev's encryption context (see context.h).
 */
#include "standins/kmstool-dev/context.h"

#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "standins/kmstool-dev/blob.h"

static size_t
key_len(const char *pair)
{
	return strcspn(pair, "=");
}

int
kt_context_arg_valid(const char *arg)
{
	size_t k = key_len(arg);

	return k > 0 && k <= 255 && arg[k] == '=' && strlen(arg + k + 1) <= 65535;
}

int
kt_context_same_key(const char *a, const char *b)
{
	size_t ka = key_len(a);

	return ka == key_len(b) && memcmp(a, b, ka) == 0;
}

static int
by_key(const void *x, const void *y)
{
	const char *a = *(const char *const *)x, *b = *(const char *const *)y;
	size_t ka = key_len(a), kb = key_len(b);
	int c = memcmp(a, b, ka < kb ? ka : kb);

	return c != 0 ? c : (ka > kb) - (ka < kb);
}

static int
put_u16_string(struct buf *out, const char *s, size_t n)
{
	uint8_t len[2] = { (uint8_t)(n >> 8), (uint8_t)n };

	GUARD(buf_append(out, len, sizeof(len), KT_CONTEXT_MAX));
	return n == 0 ? 0 : buf_append(out, s, n, KT_CONTEXT_MAX);
}

int
kt_context_encode(const char *const *pairs, size_t n, struct buf *out)
{
	const char *sorted[KT_CONTEXT_PAIRS_MAX];
	size_t i, k;

	if (n > KT_CONTEXT_PAIRS_MAX)
		return -1;
	if (n == 0)
		return 0;
	memcpy(sorted, pairs, n * sizeof(*pairs));
	qsort(sorted, n, sizeof(*sorted), by_key);
	for (i = 0; i < n; i++) {
		if (!kt_context_arg_valid(sorted[i]))
			return -1;
		k = key_len(sorted[i]);
		GUARD(put_u16_string(out, sorted[i], k));
		GUARD(put_u16_string(out, sorted[i] + k + 1,
		    strlen(sorted[i] + k + 1)));
	}
	return 0;
}
