/*
 * fuzz_base64.c - base64_decode / base64_encode (src/common/base64.c).
 *
 * Checked against a strict RFC 4648 reference decoder written here: the
 * same verdict and the same bytes, the output within base64_decoded_max()
 * (the buffer is exactly that size, so ASan sees an overrun); and the raw
 * input, encoded, decodes back to itself.
 */
#include "fuzz_common.h"

#include "common/base64.h"

static int
ref_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict: length % 4 == 0, '=' only as the last one or two characters. */
static int
ref_decode(const uint8_t *s, size_t n, uint8_t *out, size_t *olen)
{
	size_t i, o = 0, pad = 0;

	if (n % 4 != 0)
		return -1;
	if (n >= 1 && s[n - 1] == '=')
		pad++;
	if (n >= 2 && s[n - 2] == '=')
		pad++;
	for (i = 0; i < n; i += 4) {
		uint32_t v = 0;
		int k, last = i + 4 == n;

		for (k = 0; k < 4; k++) {
			int d;

			if (last && k >= 4 - (int)pad) {
				v <<= 6;
				continue;
			}
			if ((d = ref_value(s[i + k])) < 0)
				return -1;
			v = v << 6 | (uint32_t)d;
		}
		out[o++] = (uint8_t)(v >> 16);
		if (!(last && pad == 2))
			out[o++] = (uint8_t)(v >> 8);
		if (!(last && pad >= 1))
			out[o++] = (uint8_t)v;
	}
	*olen = o;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max = base64_decoded_max(size), len = 0, rlen = 0;
	uint8_t *out = malloc(max), *ref = malloc(max + 3);
	char *src = fuzz_strndup(data, size), *enc;
	int rc, rrc;

	FUZZ_CHECK(out && ref);
	FUZZ_CHECK(max == BASE64_DECODED_MAX(size));
	rc = base64_decode(out, &len, src, size);
	rrc = ref_decode(data, size, ref, &rlen);
	FUZZ_CHECK(rc == rrc);
	if (rc == 0) {
		FUZZ_CHECK(len <= max && len == rlen);
		FUZZ_CHECK(memcmp(out, ref, len) == 0);
		FUZZ_CHECK(len == size / 4 * 3 - (size && data[size - 1] == '=')
		    - (size > 1 && data[size - 2] == '='));
	}

	/* Round trip of the raw bytes. */
	enc = malloc(base64_encoded_len(size) + 1);
	FUZZ_CHECK(enc != NULL);
	base64_encode(enc, data, size);
	FUZZ_CHECK(strlen(enc) == base64_encoded_len(size));
	free(out);
	out = malloc(base64_decoded_max(strlen(enc)));
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(base64_decode(out, &len, enc, strlen(enc)) == 0);
	FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);

	free(enc);
	free(src);
	free(out);
	free(ref);
	return 0;
}
