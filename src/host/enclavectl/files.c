/*
 * files.c - enclavectl's input and output: a file or standard input read
 * whole within a limit (into a buffer that wipes what it outgrows: it may
 * hold plaintext), and an output file or standard output written whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/enclavectl/ctl.h"

#define READ_CHUNK ((size_t)64 << 10)

/*
 * Read to the end, into a buffer that never grows past limit + 1 bytes:
 * the one byte more tells an input over the limit from one exactly at
 * it. The buffer wipes the blocks it outgrows (they may hold plaintext).
 */
static int
read_fd(const char *cmd, const char *name, int fd, size_t limit,
    struct buf *out)
{
	const size_t bound = limit + 1;	/* limits are CTL_MAX_* and the like */
	struct stat st;
	size_t room;
	uint8_t *dst;
	ssize_t n;

	/* A regular file's size is known: one allocation, no copies. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (size_t)st.st_size <= limit &&
	    buf_reserve(out, (size_t)st.st_size + 1, bound) < 0)
		goto nomem;
	while (out->len <= limit) {
		/* What the block has, else as much again (at least 64 KiB). */
		if ((room = out->cap - out->len) == 0)
			room = out->len > READ_CHUNK ? out->len : READ_CHUNK;
		if (room > bound - out->len)
			room = bound - out->len;
		if ((dst = buf_tail(out, room, bound)) == NULL)
			goto nomem;
		n = read(fd, dst, room);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ctl_error(cmd, "reading %s: %s", name, strerror(errno));
			return -1;
		}
		if (buf_commit(out, (size_t)n) < 0)
			goto nomem;
	}
	ctl_error(cmd, "%s is larger than %zu bytes", name, limit);
	return -1;
nomem:
	ctl_error(cmd, "out of memory reading %s", name);
	return -1;
}

int
ctl_read_input(const char *cmd, const char *path, size_t limit,
    struct buf *out)
{
	int fd, rc;

	if (path == NULL || strcmp(path, "-") == 0)
		return read_fd(cmd, "standard input", STDIN_FILENO, limit, out);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		ctl_error(cmd, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	rc = read_fd(cmd, path, fd, limit, out);
	close(fd);
	return rc;
}

int
ctl_output_open(const char *cmd, const char *path, int mode)
{
	int fd;

	if (path == NULL || strcmp(path, "-") == 0)
		return STDOUT_FILENO;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		ctl_error(cmd, "cannot create %s: %s", path, strerror(errno));
	return fd;
}

int
ctl_write_all(const char *cmd, int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ctl_error(cmd, "writing the output: %s", strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ctl_output_close(const char *cmd, int fd)
{
	if (fd == STDOUT_FILENO)
		return 0;
	if (close(fd) < 0) {
		ctl_error(cmd, "writing the output: %s", strerror(errno));
		return -1;
	}
	return 0;
}
