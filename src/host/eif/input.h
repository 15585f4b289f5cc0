/*
 * input.h - reading the builder's input files whole, within a limit.
 */
#ifndef HOST_EIF_INPUT_H
#define HOST_EIF_INPUT_H

#include "common/buf.h"
#include "common/reason.h"

/* Append everything `fd` holds to `out` (at most `limit` bytes in all). */
int input_read_fd(int fd, const char *name, struct buf *out, size_t limit,
                  struct reason *why);
/* The same for a regular file named by `path` (symlinks followed). */
int input_read_path(const char *path, struct buf *out, size_t limit,
                    struct reason *why);

#endif
