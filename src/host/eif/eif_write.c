/*
 * eif_write.c - laying out an Enclave Image File (host/eif/eif_write.h).
 *
 * Field by field as aws-nitro-enclaves-image-format's EifHeader and
 * EifSectionHeader (src/defs/mod.rs), all big-endian. Nothing here
 * depends on the time or the machine: the same parts give the same file.
 */
#include <string.h>

#include "common/guard.h"
#include "host/eif/eif_write.h"
#include "verify/eif.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	store_u32be(p, (uint32_t)(v >> 32));
	store_u32be(p + 4, (uint32_t)v);
}

static int
add_section(struct buf *out, uint8_t *hdr, size_t i, uint16_t type,
            const struct slice *s)
{
	uint8_t sh[EIF_SECTION_HDR_LEN];

	put64(hdr + 28 + 8 * i, out->len);
	put64(hdr + 284 + 8 * i, s->len);
	put16(sh, type);
	put16(sh + 2, 0);
	put64(sh + 4, s->len);
	GUARD(buf_append(out, sh, sizeof(sh), EIF_MAX_BYTES));
	if (s->len > 0)
		GUARD(buf_append(out, s->data, s->len, EIF_MAX_BYTES));
	return 0;
}

int
eif_write(const struct eif_parts *parts, struct buf *out, struct reason *why)
{
	uint8_t hdr[EIF_HEADER_LEN] = { 0 };
	size_t i, n = 3 + parts->nramdisks, start = out->len;
	uint32_t crc;

	if (parts->nramdisks == 0 || parts->nramdisks > ARRAY_LEN(parts->ramdisks))
		return reason_fail(why, "eif: %zu ramdisks (1 to %zu)",
		    parts->nramdisks, ARRAY_LEN(parts->ramdisks));
	if (start != 0)
		return reason_fail(why, "eif: the output must start empty");
	memcpy(hdr, EIF_MAGIC, 4);
	put16(hdr + 4, EIF_VERSION);
	put16(hdr + 6, parts->aarch64 ? 1 : 0);
	put64(hdr + 8, EIF_DEFAULT_MEM);
	put64(hdr + 16, EIF_DEFAULT_CPUS);
	put16(hdr + 26, (uint16_t)n);
	if (buf_append(out, hdr, sizeof(hdr), EIF_MAX_BYTES) < 0)
		goto too_big;
	if (add_section(out, hdr, 0, EIF_SECTION_KERNEL, &parts->kernel) < 0 ||
	    add_section(out, hdr, 1, EIF_SECTION_CMDLINE, &parts->cmdline) < 0 ||
	    add_section(out, hdr, 2, EIF_SECTION_METADATA, &parts->metadata) < 0)
		goto too_big;
	for (i = 0; i < parts->nramdisks; i++)
		if (add_section(out, hdr, 3 + i, EIF_SECTION_RAMDISK,
		    &parts->ramdisks[i]) < 0)
			goto too_big;
	crc = eif_crc32(0, hdr, EIF_CRC_OFFSET);
	crc = eif_crc32(crc, out->data + EIF_HEADER_LEN,
	    out->len - EIF_HEADER_LEN);
	store_u32be(hdr + EIF_CRC_OFFSET, crc);
	memcpy(out->data, hdr, sizeof(hdr));
	return 0;
too_big:
	return reason_fail(why, "eif: the image passes %zu bytes",
	    EIF_MAX_BYTES);
}
