/*
 * fuzz_eif.c - the EIF reader and PCRs (src/verify/eif_read.c, eif_pcr.c),
 * which describe-eif runs on any file a data owner is handed.
 *
 * Each input is read twice: as it is, and with its CRC set right, so the
 * fuzzer reaches the section checks behind the CRC. An accepted file must
 * be laid out as the spec says: sections back to back from byte 548 to
 * the end, each inside the input, in the order Kernel, Cmdline, Metadata,
 * Ramdisk..., [Signature]; then the PCRs (and PCR8) are computed.
 */
#include "fuzz_common.h"

#include "verify/eif.h"

static void
check_accepted(const uint8_t *data, size_t size, const struct eif_image *img)
{
	uint64_t next = EIF_HEADER_LEN;
	uint8_t p0[EIF_PCR_LEN], p1[EIF_PCR_LEN], p2[EIF_PCR_LEN];
	struct reason why;
	size_t i;

	FUZZ_CHECK(img->nsections >= 4 && img->nsections <= EIF_MAX_SECTIONS);
	FUZZ_CHECK(img->kernel == &img->sections[0]);
	FUZZ_CHECK(img->cmdline == &img->sections[1]);
	FUZZ_CHECK(img->metadata == &img->sections[2]);
	FUZZ_CHECK(img->nramdisks >= 1);
	for (i = 0; i < img->nsections; i++) {
		const struct eif_section *s = &img->sections[i];

		FUZZ_CHECK(s->offset == next);
		FUZZ_CHECK(s->data == data + s->offset + EIF_SECTION_HDR_LEN);
		FUZZ_CHECK(s->len <= size - (size_t)(s->data - data));
		if (i >= 3)
			FUZZ_CHECK(s->type == EIF_SECTION_RAMDISK ||
			    (s->type == EIF_SECTION_SIGNATURE &&
			     i == img->nsections - 1));
		next = s->offset + EIF_SECTION_HDR_LEN + s->len;
	}
	FUZZ_CHECK(next == size);
	FUZZ_CHECK(eif_pcrs(img, p0, p1, p2) == 0);
	if (img->signature != NULL)
		(void)eif_pcr8(img, p0, &why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = fuzz_dup(data, size);
	struct eif_image img;
	struct reason why;
	uint32_t crc;

	if (eif_parse(copy, size, &img, &why) == 0)
		check_accepted(copy, size, &img);
	if (size >= EIF_HEADER_LEN) {
		crc = eif_crc32(0, copy, EIF_CRC_OFFSET);
		crc = eif_crc32(crc, copy + EIF_HEADER_LEN, size - EIF_HEADER_LEN);
		copy[544] = (uint8_t)(crc >> 24);
		copy[545] = (uint8_t)(crc >> 16);
		copy[546] = (uint8_t)(crc >> 8);
		copy[547] = (uint8_t)crc;
		if (eif_parse(copy, size, &img, &why) == 0)
			check_accepted(copy, size, &img);
	}
	free(copy);
	return 0;
}
