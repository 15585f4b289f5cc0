/*
 * eif_write.h - laying out an Enclave Image File (verify/eif.h reads it).
 *
 * Version 4, as nitro-cli writes it: the 548-byte header, then Kernel,
 * Cmdline, Metadata and the ramdisks, each behind its 12-byte section
 * header, back to back, and the CRC over every byte but its own.
 */
#ifndef HOST_EIF_EIF_WRITE_H
#define HOST_EIF_EIF_WRITE_H

#include "common/buf.h"
#include "common/reason.h"

#define EIF_DEFAULT_MEM  ((uint64_t)1 << 30)	/* what nitro-cli writes */
#define EIF_DEFAULT_CPUS 2
#define EIF_MAX_BYTES    ((size_t)8 << 30)

struct eif_parts {
	struct slice kernel, cmdline, metadata;
	struct slice ramdisks[8];
	size_t       nramdisks;
	int          aarch64;
};

/* Append the whole EIF for `parts` to `out`. */
int eif_write(const struct eif_parts *parts, struct buf *out,
              struct reason *why);

#endif
