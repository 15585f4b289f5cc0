/*
 * boot.h - the parts of the box's init (init.c) that decide something:
 * reading /proc/cmdline whole, finding `box.NAME=` in it, and the stop
 * deadline. Kept apart from init.c, which only runs as PID 1, so that
 * tests/unit/test_box_boot.c can run them on the host.
 */
#ifndef BOX_BOOT_H
#define BOX_BOOT_H

#include <stddef.h>
#include <time.h>

/*
 * The longest /proc/cmdline init reads. The kernel's own limit is
 * COMMAND_LINE_SIZE (2048 on x86 and arm64), but a bootconfig appends its
 * parameters to /proc/cmdline (up to 32 KiB), so 64 KiB is room for any
 * real command line; a longer one is refused, not cut.
 */
#define BOOT_CMDLINE_MAX 65536

/*
 * Read all of fd into buf (size bytes, NUL-terminated; *len the bytes
 * read). -1 with errno set on a read error, or with errno E2BIG when the
 * text does not fit in size - 1 bytes: never a prefix of it.
 */
int boot_read_cmdline(int fd, char *buf, size_t size, size_t *len);

/*
 * The value of `box.NAME=` in the command line (space, tab or newline
 * separated words), copied with its NUL into out[size]. 1 found, 0 absent,
 * -1 present but longer than size - 1 (so a long value is an error, never
 * a cut one). The first occurrence wins, as for the kernel's own
 * parameters.
 */
int boot_cmdline_value(const char *line, size_t len, const char *name,
    char *out, size_t size);

/* now + seconds. */
struct timespec boot_deadline(const struct timespec *now, unsigned int seconds);

/*
 * Time left until deadline, in *left. 1 while some remains, 0 once now has
 * reached it (then *left is zero).
 */
int boot_time_left(const struct timespec *now, const struct timespec *deadline,
    struct timespec *left);

#endif
