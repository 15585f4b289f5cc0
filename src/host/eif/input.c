/*
 * input.c - reading the builder's input files (host/eif/input.h).
 *
 * Through the descriptor, so what is checked (a regular file) is what is
 * read; a file that passes the limit is an error, not a short read.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/guard.h"
#include "host/eif/input.h"

#define READ_CHUNK 65536

int
input_read_fd(int fd, const char *name, struct buf *out, size_t limit,
              struct reason *why)
{
	for (;;) {
		uint8_t *p = buf_tail(out, READ_CHUNK, limit + READ_CHUNK);
		ssize_t n;

		if (p == NULL)
			return reason_fail(why, "%s: out of memory", name);
		n = read(fd, p, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return reason_fail(why, "reading %s: %s", name,
			    strerror(errno));
		if (n == 0)
			return 0;
		GUARD(buf_commit(out, (size_t)n));
		if (out->len > limit)
			return reason_fail(why, "%s is larger than %zu bytes",
			    name, limit);
	}
}

int
input_read_path(const char *path, struct buf *out, size_t limit,
                struct reason *why)
{
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return reason_fail(why, "cannot open %s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return reason_fail(why, "%s is not a regular file", path);
	}
	rc = input_read_fd(fd, path, out, limit, why);
	close(fd);
	return rc;
}
