/*
 * cpio.c - a reproducible cpio "newc" writer (host/eif/cpio.h).
 *
 * Nothing of the machine that builds reaches the bytes: not the owner,
 * not the time, not the inode or the order readdir returns. The mode's
 * permission bits do: they are part of what the enclave runs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/guard.h"
#include "host/eif/cpio.h"
#include "host/eif/input.h"

#define CPIO_HDR_LEN 110	/* "070701" and 13 fields of 8 hex digits */

int
cpio_add(struct cpio_archive *a, const char *path, mode_t mode,
         const void *data, size_t len, struct reason *why)
{
	struct cpio_entry *e;
	size_t i;

	if (path[0] == '\0' || path[0] == '/' || strlen(path) >= PATH_MAX)
		return reason_fail(why, "cpio: bad path '%s'", path);
	for (i = 0; i < a->n; i++)
		if (strcmp(a->entries[i].path, path) == 0)
			return reason_fail(why, "cpio: '%s' added twice", path);
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		struct cpio_entry *grown;

		if (cap > SIZE_MAX / sizeof(*grown) ||
		    (grown = realloc(a->entries, cap * sizeof(*grown))) == NULL)
			return reason_fail(why, "cpio: out of memory");
		a->entries = grown;
		a->cap = cap;
	}
	e = &a->entries[a->n];
	memset(e, 0, sizeof(*e));
	if ((e->path = strdup(path)) == NULL)
		return reason_fail(why, "cpio: out of memory");
	e->mode = mode;
	if (len > 0 && buf_append(&e->data, data, len, CPIO_MAX_BYTES) < 0) {
		free(e->path);
		return reason_fail(why, "cpio: '%s' is too large", path);
	}
	a->n++;
	return 0;
}

/* One directory entry of the tree, and below it when it is a directory. */
static int
add_node(struct cpio_archive *a, const char *name, const char *path,
         struct reason *why)
{
	struct buf data = BUF_INIT;
	struct stat st;
	int fd, rc = -1;

	if (lstat(path, &st) < 0)
		return reason_fail(why, "cpio: %s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		GUARD(cpio_add(a, name, S_IFDIR | (st.st_mode & 07777), NULL, 0,
		    why));
		return cpio_add_tree(a, name, path, why);
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target));

		if (n < 0 || (size_t)n >= sizeof(target))
			return reason_fail(why, "cpio: readlink %s failed", path);
		return cpio_add(a, name, S_IFLNK | 0777, target, (size_t)n, why);
	}
	if (!S_ISREG(st.st_mode))
		return reason_fail(why, "cpio: %s is not a file, directory or "
		    "symlink (no device nodes in an image)", path);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return reason_fail(why, "cpio: open %s: %s", path,
		    strerror(errno));
	if (input_read_fd(fd, path, &data, CPIO_MAX_BYTES, why) == 0)
		rc = cpio_add(a, name, S_IFREG | (st.st_mode & 07777), data.data,
		    data.len, why);
	close(fd);
	buf_free(&data, 0);
	return rc;
}

int
cpio_add_tree(struct cpio_archive *a, const char *prefix, const char *dir,
              struct reason *why)
{
	char name[PATH_MAX], path[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	int rc = 0;

	if ((dp = opendir(dir)) == NULL)
		return reason_fail(why, "cpio: opendir %s: %s", dir,
		    strerror(errno));
	while (rc == 0 && (errno = 0, d = readdir(dp)) != NULL) {
		int n1, n2;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		n1 = prefix[0] == '\0' ?
		    snprintf(name, sizeof(name), "%s", d->d_name) :
		    snprintf(name, sizeof(name), "%s/%s", prefix, d->d_name);
		n2 = snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (n1 < 0 || (size_t)n1 >= sizeof(name) || n2 < 0 ||
		    (size_t)n2 >= sizeof(path))
			rc = reason_fail(why, "cpio: path too long under %s",
			    dir);
		else
			rc = add_node(a, name, path, why);
	}
	if (rc == 0 && errno != 0)
		rc = reason_fail(why, "cpio: readdir %s: %s", dir,
		    strerror(errno));
	closedir(dp);
	return rc;
}

static int
by_path(const void *x, const void *y)
{
	return strcmp(((const struct cpio_entry *)x)->path,
	    ((const struct cpio_entry *)y)->path);
}

/* newc: data and names are padded to 4 bytes from the archive's start. */
static int
pad4(struct buf *out)
{
	static const uint8_t zero[4];

	return buf_append(out, zero, (4 - out->len % 4) % 4, CPIO_MAX_BYTES);
}

static int
write_entry(struct buf *out, uint32_t ino, uint32_t mode, uint32_t nlink,
            uint32_t mtime, const char *path, const struct buf *data)
{
	size_t namesize = strlen(path) + 1;

	if (data->len > UINT32_MAX || namesize > UINT32_MAX)
		return -1;
	GUARD(buf_printf(out, CPIO_MAX_BYTES,
	    "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
	    ino, mode, 0u, 0u, nlink, mtime, (uint32_t)data->len, 0u, 0u,
	    0u, 0u, (uint32_t)namesize, 0u));
	GUARD(buf_append(out, path, namesize, CPIO_MAX_BYTES));
	GUARD(pad4(out));
	if (data->len > 0)
		GUARD(buf_append(out, data->data, data->len, CPIO_MAX_BYTES));
	return pad4(out);
}

int
cpio_write(struct cpio_archive *a, uint32_t mtime, struct buf *out,
           struct reason *why)
{
	static const struct buf none = BUF_INIT;
	size_t i;

	if (a->n > 0)
		qsort(a->entries, a->n, sizeof(*a->entries), by_path);
	for (i = 0; i < a->n; i++) {
		const struct cpio_entry *e = &a->entries[i];

		if (write_entry(out, (uint32_t)(i + 1), (uint32_t)e->mode,
		    S_ISDIR(e->mode) ? 2 : 1, mtime, e->path, &e->data) < 0)
			return reason_fail(why, "cpio: the archive passes "
			    "4 GiB at %s", e->path);
	}
	if (write_entry(out, 0, 0, 1, 0, "TRAILER!!!", &none) < 0)
		return reason_fail(why, "cpio: the archive passes 4 GiB");
	return 0;
}

void
cpio_free(struct cpio_archive *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		free(a->entries[i].path);
		buf_free(&a->entries[i].data, 0);
	}
	free(a->entries);
	memset(a, 0, sizeof(*a));
}
