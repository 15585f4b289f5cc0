/*
 * metadata.h - the EIF's metadata section, as nitro-cli fills it.
 */
#ifndef HOST_EIF_METADATA_H
#define HOST_EIF_METADATA_H

#include <time.h>

#include "common/buf.h"
#include "common/reason.h"

#define METADATA_MAX_CUSTOM 32

struct metadata_in {
	const char *image_name, *image_version, *kernel_version;
	time_t      build_time;	/* from the source, never the clock */
	const char *custom[METADATA_MAX_CUSTOM][2];	/* name, value */
	size_t      ncustom;
};

/* The JSON text, keys in one fixed order, so the bytes are reproducible. */
int metadata_write(const struct metadata_in *in, struct buf *out,
                   struct reason *why);

#endif
