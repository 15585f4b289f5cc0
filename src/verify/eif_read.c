/*
 * eif_read.c - reading an Enclave Image File strictly (verify/eif.h).
 *
 * Every size in the file is checked against the file before it is used,
 * and the layout must be the one AWS's image-format library writes
 * (aws-nitro-enclaves-image-format, src/defs/mod.rs): a 548-byte header,
 * then each section's 12-byte header and data, back to back, in the order
 * Kernel, Cmdline, Metadata, Ramdisk..., [Signature]. Bytes no section
 * owns are refused: the CRC covers them but no PCR does.
 */
#include <string.h>

#include "common/guard.h"
#include "verify/eif.h"

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t
be64(const uint8_t *p)
{
	return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

/* The table is built once; CRC-32 is the reflected 0xEDB88320 polynomial. */
uint32_t
eif_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	static int ready;
	size_t i;

	if (!ready) {
		for (uint32_t k = 0; k < 256; k++) {
			uint32_t c = k;
			for (int b = 0; b < 8; b++)
				c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
			table[k] = c;
		}
		ready = 1;
	}
	crc = ~crc;
	for (i = 0; i < n; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

const char *
eif_section_name(uint16_t type)
{
	switch (type) {
	case EIF_SECTION_KERNEL:    return "kernel";
	case EIF_SECTION_CMDLINE:   return "cmdline";
	case EIF_SECTION_RAMDISK:   return "ramdisk";
	case EIF_SECTION_SIGNATURE: return "signature";
	case EIF_SECTION_METADATA:  return "metadata";
	default:                    return "unknown";
	}
}

/*
 * Section i may have `type` here: Kernel, Cmdline, Metadata first, then
 * ramdisks, then at most one signature, last (the order nitro-cli writes
 * and the order the PCRs are computed in).
 */
static int
check_order(const struct eif_image *img, size_t i, uint16_t type,
            struct reason *why)
{
	static const uint16_t head[] = { EIF_SECTION_KERNEL,
	    EIF_SECTION_CMDLINE, EIF_SECTION_METADATA };

	if (i < ARRAY_LEN(head)) {
		if (type != head[i])
			return reason_fail(why, "section %zu is %s (type %u); "
			    "expected %s", i, eif_section_name(type), type,
			    eif_section_name(head[i]));
		return 0;
	}
	if (img->signature != NULL)
		return reason_fail(why, "section %zu (%s) follows the "
		    "signature, which must be last", i, eif_section_name(type));
	if (type == EIF_SECTION_RAMDISK)
		return 0;
	if (type == EIF_SECTION_SIGNATURE) {
		if (img->nramdisks == 0)
			return reason_fail(why, "signature before any ramdisk");
		return 0;
	}
	return reason_fail(why, "section %zu is %s (type %u); expected a "
	    "ramdisk or the signature", i, eif_section_name(type), type);
}

/* One section: its header inside the file, right after the previous one. */
static int
read_section(struct eif_image *img, const uint8_t *data, size_t len,
             size_t i, uint64_t offset, uint64_t size, uint64_t *next,
             struct reason *why)
{
	struct eif_section *s = &img->sections[i];
	uint16_t type;

	if (offset < *next)
		return reason_fail(why, "section %zu at offset %llu overlaps "
		    "what comes before it (which ends at %llu)", i,
		    (unsigned long long)offset, (unsigned long long)*next);
	if (offset > *next)
		return reason_fail(why, "%llu bytes no section owns before "
		    "section %zu (offset %llu)",
		    (unsigned long long)(offset - *next), i,
		    (unsigned long long)offset);
	if (offset > len || len - offset < EIF_SECTION_HDR_LEN)
		return reason_fail(why, "section %zu's header at offset %llu "
		    "is past the end of the file (%zu bytes)", i,
		    (unsigned long long)offset, len);
	type = be16(data + offset);
	if (be16(data + offset + 2) != 0)
		return reason_fail(why, "section %zu has flags %#x (must be 0)",
		    i, be16(data + offset + 2));
	if (be64(data + offset + 4) != size)
		return reason_fail(why, "section %zu's header says %llu bytes, "
		    "the EIF header %llu", i,
		    (unsigned long long)be64(data + offset + 4),
		    (unsigned long long)size);
	if (size > len - offset - EIF_SECTION_HDR_LEN)
		return reason_fail(why, "section %zu (%s, %llu bytes at offset "
		    "%llu) runs past the end of the file (%zu bytes)", i,
		    eif_section_name(type), (unsigned long long)size,
		    (unsigned long long)offset, len);
	GUARD(check_order(img, i, type, why));
	s->type = type;
	s->offset = offset;
	s->data = data + offset + EIF_SECTION_HDR_LEN;
	s->len = (size_t)size;
	*next = offset + EIF_SECTION_HDR_LEN + size;
	switch (type) {
	case EIF_SECTION_KERNEL:    img->kernel = s; break;
	case EIF_SECTION_CMDLINE:   img->cmdline = s; break;
	case EIF_SECTION_METADATA:  img->metadata = s; break;
	case EIF_SECTION_SIGNATURE: img->signature = s; break;
	default:                    img->nramdisks++; break;
	}
	return 0;
}

int
eif_parse(const uint8_t *data, size_t len, struct eif_image *out,
          struct reason *why)
{
	uint64_t next = EIF_HEADER_LEN;
	uint32_t crc;
	size_t i, n;

	memset(out, 0, sizeof(*out));
	if (len < EIF_HEADER_LEN)
		return reason_fail(why, "truncated: %zu bytes, shorter than "
		    "the %d-byte EIF header", len, EIF_HEADER_LEN);
	if (memcmp(data, EIF_MAGIC, 4) != 0)
		return reason_fail(why, "bad magic: not an EIF (the file "
		    "must begin with \".eif\")");
	out->version = be16(data + 4);
	out->flags = be16(data + 6);
	out->default_mem = be64(data + 8);
	out->default_cpus = be64(data + 16);
	out->crc32 = be32(data + EIF_CRC_OFFSET);
	if (out->version != EIF_VERSION)
		return reason_fail(why, "EIF version %u; only version %d "
		    "(nitro-cli 1.2 and later) is read", out->version,
		    EIF_VERSION);
	if ((out->flags & ~1u) != 0)
		return reason_fail(why, "unknown header flags %#x", out->flags);
	if (be16(data + 24) != 0 || be32(data + 540) != 0)
		return reason_fail(why, "reserved header fields are not zero");
	n = be16(data + 26);
	if (n > EIF_MAX_SECTIONS)
		return reason_fail(why, "too many sections: %zu (at most %d)",
		    n, EIF_MAX_SECTIONS);
	if (n < 4)
		return reason_fail(why, "%zu sections; an EIF has at least 4 "
		    "(kernel, cmdline, metadata, a ramdisk)", n);
	for (i = 0; i < EIF_MAX_SECTIONS; i++) {
		uint64_t off = be64(data + 28 + 8 * i);
		uint64_t size = be64(data + 284 + 8 * i);

		if (i >= n) {
			if (off != 0 || size != 0)
				return reason_fail(why, "section table entry "
				    "%zu is set, but the header counts %zu "
				    "sections", i, n);
			continue;
		}
		GUARD(read_section(out, data, len, i, off, size, &next, why));
	}
	out->nsections = n;
	if (next != len)
		return reason_fail(why, "%llu bytes after the last section",
		    (unsigned long long)(len - next));
	crc = eif_crc32(0, data, EIF_CRC_OFFSET);
	crc = eif_crc32(crc, data + EIF_HEADER_LEN, len - EIF_HEADER_LEN);
	if (crc != out->crc32)
		return reason_fail(why, "bad CRC: the header says %08x, the "
		    "bytes give %08x (the file is damaged)", out->crc32, crc);
	return 0;
}
