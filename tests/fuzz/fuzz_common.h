/*
 * fuzz_common.h - what every libFuzzer harness in tests/fuzz/ shares.
 *
 * A harness checks invariants, not just "no crash": FUZZ_CHECK aborts
 * with the failed condition, which libFuzzer reports as a crash and saves
 * as an artifact (a regression input for tests/fuzz/corpus/<name>/).
 */
#ifndef TESTS_FUZZ_COMMON_H
#define TESTS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* A deterministic PRNG, seeded from the input, for splits and choices. */
static inline uint64_t
fuzz_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t
fuzz_seed(const uint8_t *data, size_t size)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ULL;
	return h;
}

/* A heap copy of exactly n bytes (ASan sees any read past it). */
static inline uint8_t *
fuzz_dup(const uint8_t *data, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	FUZZ_CHECK(p != NULL);
	if (n)
		memcpy(p, data, n);
	return p;
}

/* A NUL-terminated heap copy. */
static inline char *
fuzz_strndup(const uint8_t *data, size_t n)
{
	char *p = malloc(n + 1);

	FUZZ_CHECK(p != NULL);
	if (n)
		memcpy(p, data, n);
	p[n] = '\0';
	return p;
}

static inline const uint8_t *
fuzz_memmem(const uint8_t *h, size_t hn, const uint8_t *n, size_t nn)
{
	size_t i;

	if (nn == 0)
		return h;
	for (i = 0; i + nn <= hn; i++)
		if (h[i] == n[0] && memcmp(h + i, n, nn) == 0)
			return h + i;
	return NULL;
}

/*
 * What cJSON 1.7.15 accepts and RFC 8259 does not: a raw control byte
 * (a raw NUL cuts cJSON's C string; between tokens cJSON skips any byte
 * up to 0x20 as whitespace), or a \u escape without four hex digits
 * (cJSON decodes it as U+0000). docs/security.md, findings F1b and F1c
 * (fixed: json_parse_exact refuses both); kept for harnesses that need
 * to tell such text apart.
 */
static inline int
fuzz_json_loose(const uint8_t *t, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++)
		if (t[i] < 0x20 && t[i] != '\t' && t[i] != '\n' && t[i] != '\r')
			return 1;
	for (i = 0; i + 1 < n; i++) {
		if (t[i] != '\\')
			continue;
		if (t[i + 1] == 'u') {
			for (k = 2; k < 6; k++)
				if (i + k >= n || !((t[i + k] >= '0' && t[i + k] <= '9') ||
				    ((t[i + k] | 0x20) >= 'a' && (t[i + k] | 0x20) <= 'f')))
					return 1;
		}
		i++;	/* skip the escaped character */
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
