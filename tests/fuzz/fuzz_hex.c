/*
 * fuzz_hex.c - hex_decode / hex_encode (src/common/hex.c).
 *
 * Checked against a reference decoder written from the spec (either case,
 * no prefix, no whitespace, even length): same verdict, same bytes; the
 * in-place decode (as process.c does it) gives the same bytes; encoding is
 * lowercase and decodes back to the input.
 */
#include "fuzz_common.h"

#include "common/hex.h"

static int
ref_nibble(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *src = fuzz_dup(data, size);
	uint8_t *out = malloc(size / 2 + 1), *ref = malloc(size / 2 + 1);
	uint8_t *inplace = fuzz_dup(data, size);
	char *enc = malloc(2 * size + 1);
	int ref_ok = size % 2 == 0, rc, rc2;
	size_t i;

	FUZZ_CHECK(out && ref && enc);
	for (i = 0; ref_ok && i < size / 2; i++) {
		int hi = ref_nibble(src[2 * i]), lo = ref_nibble(src[2 * i + 1]);

		if (hi < 0 || lo < 0)
			ref_ok = 0;
		else
			ref[i] = (uint8_t)(hi << 4 | lo);
	}
	/* The output buffer is exactly size / 2 bytes: ASan checks bounds. */
	free(out);
	out = malloc(size / 2 ? size / 2 : 1);
	FUZZ_CHECK(out != NULL);
	rc = hex_decode(out, (const char *)src, size);
	FUZZ_CHECK((rc == 0) == ref_ok);
	rc2 = hex_decode(inplace, (const char *)inplace, size);
	FUZZ_CHECK(rc2 == rc);
	if (rc == 0) {
		FUZZ_CHECK(memcmp(out, ref, size / 2) == 0);
		FUZZ_CHECK(memcmp(inplace, ref, size / 2) == 0);
	}

	/* Encode the raw input: 2n lowercase digits that decode back. */
	free(enc);
	enc = malloc(2 * size ? 2 * size : 1);
	FUZZ_CHECK(enc != NULL);
	hex_encode(enc, data, size);
	for (i = 0; i < 2 * size; i++)
		FUZZ_CHECK((enc[i] >= '0' && enc[i] <= '9') ||
		    (enc[i] >= 'a' && enc[i] <= 'f'));
	free(ref);
	ref = malloc(size ? size : 1);
	FUZZ_CHECK(ref != NULL);
	FUZZ_CHECK(hex_decode(ref, enc, 2 * size) == 0);
	FUZZ_CHECK(memcmp(ref, data, size) == 0);

	free(src);
	free(out);
	free(ref);
	free(inplace);
	free(enc);
	return 0;
}
