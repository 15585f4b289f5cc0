/*
 * cpio.h - a reproducible cpio "newc" archive, the EIF's ramdisk format.
 *
 * The same inputs give the same bytes on any machine at any time: entries
 * sorted by path, one fixed mtime, uid and gid 0, inode numbers given in
 * order, nlink 1 (2 for a directory), no device nodes, the TRAILER!!!
 * entry and newc's 4-byte padding. The kernel unpacks it as the initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst).
 */
#ifndef HOST_EIF_CPIO_H
#define HOST_EIF_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/reason.h"

/* One member: a directory, a regular file (data) or a symlink (target). */
struct cpio_entry {
	char          *path;	/* relative, no leading "/" or "./" */
	mode_t         mode;	/* S_IFDIR, S_IFREG or S_IFLNK | permissions */
	struct buf     data;	/* file bytes or link target */
};

struct cpio_archive {
	struct cpio_entry *entries;
	size_t             n, cap;
};

#define CPIO_ARCHIVE_INIT { NULL, 0, 0 }
#define CPIO_MAX_BYTES    ((size_t)4 << 30)	/* 4 GiB: an enclave's ramdisk */

/* Add an entry; copies path and bytes. A path given twice is refused. */
int  cpio_add(struct cpio_archive *a, const char *path, mode_t mode,
              const void *data, size_t len, struct reason *why);
/* Add a directory tree under `prefix` (e.g. "rootfs"; "" for the archive's
 * top): directories, regular files and symlinks, with their permission
 * bits; anything else (device, fifo, socket) is refused. */
int  cpio_add_tree(struct cpio_archive *a, const char *prefix,
                   const char *dir, struct reason *why);
/* Sort and write the archive, every entry with mtime `mtime`. */
int  cpio_write(struct cpio_archive *a, uint32_t mtime, struct buf *out,
                struct reason *why);
void cpio_free(struct cpio_archive *a);

#endif
