/*
 * test_eif_cpio.c - host/eif/cpio: the reproducible newc writer. Entries
 * sorted whatever the order they were added or readdir gives, fixed mtime,
 * uid/gid 0, inodes in order, nlink, 4-byte padding, the trailer, and no
 * device nodes or fifos taken from a tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/eif/cpio.h"

/* Field k (0 = ino ... 12 = check) of the newc header at p. */
static unsigned long
field(const uint8_t *p, int k)
{
	char text[9];

	memcpy(text, p + 6 + 8 * k, 8);
	text[8] = '\0';
	return strtoul(text, NULL, 16);
}

/* The header after the entry at p (newc: name and data padded to 4). */
static const uint8_t *
next_entry(const uint8_t *start, const uint8_t *p)
{
	size_t off = (size_t)(p - start);
	size_t namesize = field(p, 11), filesize = field(p, 6);

	off = (off + 110 + namesize + 3) & ~(size_t)3;
	off = (off + filesize + 3) & ~(size_t)3;
	return start + off;
}

static void
test_sorted_fixed_fields_and_trailer(void **state)
{
	struct cpio_archive a = CPIO_ARCHIVE_INIT;
	struct buf out = BUF_INIT;
	struct reason why;
	static const char *want[] = { "a", "a/b", "cmd", "z", "TRAILER!!!" };
	const uint8_t *p;
	size_t i;

	(void)state;
	assert_int_equal(cpio_add(&a, "z", S_IFREG | 0644, "12345", 5, &why), 0);
	assert_int_equal(cpio_add(&a, "cmd", S_IFREG | 0644, "x\n", 2, &why), 0);
	assert_int_equal(cpio_add(&a, "a/b", S_IFLNK | 0777, "z", 1, &why), 0);
	assert_int_equal(cpio_add(&a, "a", S_IFDIR | 0755, NULL, 0, &why), 0);
	assert_int_equal(cpio_write(&a, 1700000000, &out, &why), 0);
	assert_int_equal(out.len % 4, 0);
	p = out.data;
	for (i = 0; i < 5; i++) {
		assert_memory_equal(p, "070701", 6);
		assert_string_equal((const char *)p + 110, want[i]);
		if (i < 4) {
			assert_int_equal(field(p, 0), i + 1);	/* ino in order */
			assert_int_equal(field(p, 2), 0);	/* uid */
			assert_int_equal(field(p, 3), 0);	/* gid */
			assert_int_equal(field(p, 5), 1700000000);
			assert_int_equal(field(p, 4), i == 0 ? 2 : 1);
		}
		p = next_entry(out.data, p);
	}
	assert_ptr_equal(p, out.data + out.len);
	/* z's data, after its padded name. */
	assert_int_equal(field(out.data, 1), S_IFDIR | 0755);
	buf_free(&out, 0);
	cpio_free(&a);
}

static void
test_same_bytes_whatever_the_order(void **state)
{
	struct cpio_archive a = CPIO_ARCHIVE_INIT, b = CPIO_ARCHIVE_INIT;
	struct buf x = BUF_INIT, y = BUF_INIT;
	struct reason why;

	(void)state;
	assert_int_equal(cpio_add(&a, "one", S_IFREG | 0644, "1", 1, &why), 0);
	assert_int_equal(cpio_add(&a, "two", S_IFREG | 0600, "22", 2, &why), 0);
	assert_int_equal(cpio_add(&b, "two", S_IFREG | 0600, "22", 2, &why), 0);
	assert_int_equal(cpio_add(&b, "one", S_IFREG | 0644, "1", 1, &why), 0);
	assert_int_equal(cpio_write(&a, 0, &x, &why), 0);
	assert_int_equal(cpio_write(&b, 0, &y, &why), 0);
	assert_int_equal(x.len, y.len);
	assert_memory_equal(x.data, y.data, x.len);
	buf_free(&x, 0);
	buf_free(&y, 0);
	cpio_free(&a);
	cpio_free(&b);
}

static void
test_duplicate_and_absolute_paths_refused(void **state)
{
	struct cpio_archive a = CPIO_ARCHIVE_INIT;
	struct reason why;

	(void)state;
	assert_int_equal(cpio_add(&a, "x", S_IFREG | 0644, "1", 1, &why), 0);
	assert_int_equal(cpio_add(&a, "x", S_IFREG | 0644, "1", 1, &why), -1);
	assert_non_null(strstr(why.text, "twice"));
	assert_int_equal(cpio_add(&a, "/etc", S_IFDIR | 0755, NULL, 0, &why), -1);
	cpio_free(&a);
}

/* A tree: files with their modes and a symlink in; a fifo refused. */
static void
test_tree_and_no_special_files(void **state)
{
	char dir[] = "/tmp/test_eif_cpio.XXXXXX", path[256];
	struct cpio_archive a = CPIO_ARCHIVE_INIT;
	struct buf out = BUF_INIT;
	struct reason why;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bin", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/bin/tool", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("#!x\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0751), 0);
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink("bin/tool", path), 0);
	assert_int_equal(cpio_add_tree(&a, "rootfs", dir, &why), 0);
	assert_int_equal(cpio_write(&a, 0, &out, &why), 0);
	assert_string_equal((const char *)out.data + 110, "rootfs/bin");
	assert_non_null(memmem(out.data, out.len, "rootfs/bin/tool", 15));
	assert_non_null(memmem(out.data, out.len, "#!x\n", 4));
	assert_non_null(memmem(out.data, out.len, "bin/tool", 8));
	buf_free(&out, 0);
	cpio_free(&a);

	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(cpio_add_tree(&a, "rootfs", dir, &why), -1);
	assert_non_null(strstr(why.text, "no device nodes"));
	cpio_free(&a);
	unlink(path);
	snprintf(path, sizeof(path), "%s/link", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bin/tool", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bin", dir);
	rmdir(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_fixed_fields_and_trailer),
		cmocka_unit_test(test_same_bytes_whatever_the_order),
		cmocka_unit_test(test_duplicate_and_absolute_paths_refused),
		cmocka_unit_test(test_tree_and_no_special_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
