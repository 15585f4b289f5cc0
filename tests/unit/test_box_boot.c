/*
 * test_box_boot.c - the box init's decisions (src/box/boot.c), on the host:
 * /proc/cmdline read whole and never cut, `box.NAME=` found exactly, and
 * the stop grace period counted in seconds, not in wake-ups.
 *
 * init.c itself runs only as PID 1 (make box-test boots it); boot.c is
 * compiled into this binary directly, as test_kmstool_dev does.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "box/boot.c"

/* A file holding text, positioned at its start, as /proc/cmdline reads. */
static int
file_with(const char *text, size_t n)
{
	FILE *f = tmpfile();
	int fd;

	assert_non_null(f);
	fd = dup(fileno(f));
	fclose(f);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* The old init read 2047 bytes and looked no further: box.run was lost. */
static void
test_cmdline_longer_than_2047_bytes_read_whole(void **state)
{
	static char text[4000], line[BOOT_CMDLINE_MAX];
	char out[256];
	size_t len = 0;
	int fd;

	(void)state;
	memset(text, 'x', sizeof(text));
	memcpy(text, "console=ttyS0 pad=", 18);
	memcpy(text + 3000, " box.run=/box/flow.sh box.tty=1\n", 32);
	fd = file_with(text, 3032);
	assert_int_equal(boot_read_cmdline(fd, line, sizeof(line), &len), 0);
	close(fd);
	assert_int_equal(len, 3032);
	assert_int_equal(boot_cmdline_value(line, len, "run", out, sizeof(out)), 1);
	assert_string_equal(out, "/box/flow.sh");
	assert_int_equal(boot_cmdline_value(line, len, "tty", out, sizeof(out)), 1);
	assert_string_equal(out, "1");
}

/* One byte more than fits is an error, E2BIG, never a prefix. */
static void
test_cmdline_too_long_refused(void **state)
{
	char line[11];
	size_t len = 99;
	int fd;

	(void)state;
	fd = file_with("0123456789", 10);
	assert_int_equal(boot_read_cmdline(fd, line, sizeof(line), &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(line, "0123456789");
	close(fd);

	fd = file_with("0123456789a", 11);
	errno = 0;
	assert_int_equal(boot_read_cmdline(fd, line, sizeof(line), &len), -1);
	assert_int_equal(errno, E2BIG);
	close(fd);
}

static void
test_cmdline_at_the_maximum(void **state)
{
	static char text[BOOT_CMDLINE_MAX + 1], line[BOOT_CMDLINE_MAX];
	size_t len = 0;
	int fd;

	(void)state;
	memset(text, 'y', sizeof(text));
	fd = file_with(text, BOOT_CMDLINE_MAX - 1);
	assert_int_equal(boot_read_cmdline(fd, line, sizeof(line), &len), 0);
	assert_int_equal(len, BOOT_CMDLINE_MAX - 1);
	close(fd);
	fd = file_with(text, BOOT_CMDLINE_MAX);
	assert_int_equal(boot_read_cmdline(fd, line, sizeof(line), &len), -1);
	assert_int_equal(errno, E2BIG);
	close(fd);
}

static void
test_cmdline_read_error(void **state)
{
	char line[16];
	size_t len;

	(void)state;
	errno = 0;
	assert_int_equal(boot_read_cmdline(-1, line, sizeof(line), &len), -1);
	assert_int_equal(errno, EBADF);
}

static void
test_value_exact_name(void **state)
{
	const char *line = "xbox.run=/a box.runx=/b box.ru=/c\tbox.run=/d box.run=/e";
	char out[16];

	(void)state;
	assert_int_equal(boot_cmdline_value(line, strlen(line), "run", out,
	    sizeof(out)), 1);
	assert_string_equal(out, "/d");		/* the first exact one */
	assert_int_equal(boot_cmdline_value(line, strlen(line), "log", out,
	    sizeof(out)), 0);
	assert_int_equal(boot_cmdline_value("box.run", 7, "run", out,
	    sizeof(out)), 0);
	assert_int_equal(boot_cmdline_value("box.run=", 8, "run", out,
	    sizeof(out)), 1);
	assert_string_equal(out, "");
	assert_int_equal(boot_cmdline_value("", 0, "run", out, sizeof(out)), 0);
}

/* A value that does not fit is an error, not cut and not ignored. */
static void
test_value_too_long_refused(void **state)
{
	const char *line = "quiet box.log=/run/enclaved.log";
	char out[17], fits[18];	/* the value is 17 characters */

	(void)state;
	assert_int_equal(boot_cmdline_value(line, strlen(line), "log", out,
	    sizeof(out)), -1);
	assert_int_equal(boot_cmdline_value(line, strlen(line), "log", fits,
	    sizeof(fits)), 1);
	assert_string_equal(fits, "/run/enclaved.log");
}

/* The value ends at the line's length even without a separator. */
static void
test_value_bounded_by_len(void **state)
{
	const char *line = "box.run=/bin/shXXXX";
	char out[32];

	(void)state;
	assert_int_equal(boot_cmdline_value(line, 15, "run", out, sizeof(out)), 1);
	assert_string_equal(out, "/bin/sh");
}

static void
test_deadline_counts_time(void **state)
{
	struct timespec start = { 100, 900000000L }, d, now, left;

	(void)state;
	d = boot_deadline(&start, 10);
	assert_int_equal(d.tv_sec, 110);
	assert_int_equal(d.tv_nsec, 900000000L);

	assert_int_equal(boot_time_left(&start, &d, &left), 1);
	assert_int_equal(left.tv_sec, 10);
	assert_int_equal(left.tv_nsec, 0);

	now = (struct timespec){ 109, 950000000L };	/* borrow a second */
	assert_int_equal(boot_time_left(&now, &d, &left), 1);
	assert_int_equal(left.tv_sec, 0);
	assert_int_equal(left.tv_nsec, 950000000L);

	assert_int_equal(boot_time_left(&d, &d, &left), 0);
	assert_int_equal(left.tv_sec, 0);
	assert_int_equal(left.tv_nsec, 0);
	now = (struct timespec){ 111, 0 };
	assert_int_equal(boot_time_left(&now, &d, &left), 0);
	now = (struct timespec){ 110, 899999999L };
	assert_int_equal(boot_time_left(&now, &d, &left), 1);
	assert_int_equal(left.tv_nsec, 1);
}

/*
 * The old loop waited at most ten times: ten signals (SIGCHLD of other
 * children, a repeated SIGTERM) a millisecond apart ended the grace period
 * after 10 ms. Counted in time, a hundred wake-ups leave it nearly whole.
 */
static void
test_wakeups_do_not_shorten_the_grace(void **state)
{
	struct timespec now = { 5, 0 }, d, left;
	int wakeups;

	(void)state;
	d = boot_deadline(&now, 10);
	for (wakeups = 0; wakeups < 100; wakeups++) {
		assert_int_equal(boot_time_left(&now, &d, &left), 1);
		now.tv_nsec += 1000000L;		/* a signal 1 ms later */
	}
	assert_int_equal(boot_time_left(&now, &d, &left), 1);
	assert_int_equal(left.tv_sec, 9);
	assert_int_equal(left.tv_nsec, 900000000L);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline_longer_than_2047_bytes_read_whole),
		cmocka_unit_test(test_cmdline_too_long_refused),
		cmocka_unit_test(test_cmdline_at_the_maximum),
		cmocka_unit_test(test_cmdline_read_error),
		cmocka_unit_test(test_value_exact_name),
		cmocka_unit_test(test_value_too_long_refused),
		cmocka_unit_test(test_value_bounded_by_len),
		cmocka_unit_test(test_deadline_counts_time),
		cmocka_unit_test(test_wakeups_do_not_shorten_the_grace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
