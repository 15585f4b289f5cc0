/*
 * eif.h - the Enclave Image File: reading it strictly, and its PCRs.
 *
 * One reader for every program that looks inside an EIF: enclavectl
 * describe-eif, the image builder's tests (src/host/eif/) and the fuzzer.
 * The layout, the CRC and the PCR rules come from AWS's
 * aws-nitro-enclaves-image-format (src/defs/mod.rs, src/defs/eif_hasher.rs,
 * src/utils/mod.rs); docs/architecture.md says where this fits.
 * Host side only: enclaved never links src/verify/.
 */
#ifndef VERIFY_EIF_H
#define VERIFY_EIF_H

#include <stddef.h>
#include <stdint.h>

#include "common/reason.h"

#define EIF_MAGIC            ".eif"
#define EIF_VERSION          4
#define EIF_HEADER_LEN       548
#define EIF_SECTION_HDR_LEN  12
#define EIF_MAX_SECTIONS     32
#define EIF_CRC_OFFSET       544	/* eif_crc32, the header's last 4 bytes */
#define EIF_PCR_LEN          48	/* SHA-384 */

enum eif_section_type {
	EIF_SECTION_INVALID   = 0,
	EIF_SECTION_KERNEL    = 1,
	EIF_SECTION_CMDLINE   = 2,
	EIF_SECTION_RAMDISK   = 3,
	EIF_SECTION_SIGNATURE = 4,
	EIF_SECTION_METADATA  = 5,
};

struct eif_section {
	uint16_t       type;
	uint64_t       offset;	/* of its 12-byte header in the file */
	const uint8_t *data;	/* borrowed from the file's bytes */
	size_t         len;
};

struct eif_image {
	uint16_t           version;
	uint16_t           flags;
	uint64_t           default_mem;
	uint64_t           default_cpus;
	uint32_t           crc32;
	size_t             nsections;
	struct eif_section sections[EIF_MAX_SECTIONS];
	size_t             nramdisks;
	const struct eif_section *kernel, *cmdline, *metadata, *signature;
};

/*
 * Check every byte of an EIF and point `out` at its sections (which borrow
 * `data`). Refused, with the reason: a short file, another magic or
 * version, a section count of 0 or past 32, a section header outside the
 * file, a size that disagrees with the header's table, sections out of the
 * order Kernel, Cmdline, Metadata, Ramdisk..., [Signature], overlapping,
 * with bytes between them or after the last, and a CRC that does not match.
 */
int  eif_parse(const uint8_t *data, size_t len, struct eif_image *out,
               struct reason *why);

/* CRC-32/ISO-HDLC (zlib's crc32), continued from `crc` (0 to start). */
uint32_t eif_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* The name of a section type ("kernel", ...), "unknown" otherwise. */
const char *eif_section_name(uint16_t type);

/*
 * PCR0, PCR1 and PCR2 of a parsed image, each SHA384(48 zero bytes ||
 * SHA384(data)) of the sections the spec names (eif_hasher.rs).
 */
int  eif_pcrs(const struct eif_image *img, uint8_t pcr0[EIF_PCR_LEN],
              uint8_t pcr1[EIF_PCR_LEN], uint8_t pcr2[EIF_PCR_LEN]);
/* The extend of one digest input from zero: SHA384(0^48 || SHA384(data)). */
int  eif_pcr_of(const uint8_t *data, size_t len, uint8_t out[EIF_PCR_LEN]);
/*
 * PCR8 of a signed image: the extend of the signing certificate's DER,
 * read from the signature section (a CBOR array of {signing_certificate:
 * PEM bytes, signature}). -1 with the reason when the section is malformed.
 */
int  eif_pcr8(const struct eif_image *img, uint8_t pcr8[EIF_PCR_LEN],
              struct reason *why);

#endif
