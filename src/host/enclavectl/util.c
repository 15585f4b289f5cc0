/*
 * util.c - enclavectl's messages, option parsing and file I/O.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/frame.h"
#include "common/guard.h"
#include "common/number.h"
#include "common/timefmt.h"
#include "host/enclavectl/ctl.h"

static void
vmessage(const char *cmd, const char *fmt, va_list ap)
{
	if (cmd != NULL)
		fprintf(stderr, "enclavectl %s: ", cmd);
	else
		fprintf(stderr, "enclavectl: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
ctl_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(cmd, fmt, ap);
	va_end(ap);
}

int
ctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'enclavectl%s%s --help'.\n", cmd ? " " : "",
	    cmd ? cmd : "");
	return CTL_EXIT_USAGE;
}

/* glibc: optind = 0 makes getopt start over, for each command's argv. */
void
ctl_getopt_reset(void)
{
	optind = 0;
	opterr = 0;
}

/* A global option written after the command: say where it belongs. */
static int
is_global_option(const char *arg)
{
	static const char *const globals[] = { "--enclave", "--framing",
	    "--timeout", "--retry" };
	size_t i, n;

	for (i = 0; i < ARRAY_LEN(globals); i++) {
		n = strlen(globals[i]);
		if (strncmp(arg, globals[i], n) == 0 &&
		    (arg[n] == '\0' || arg[n] == '='))
			return 1;
	}
	return 0;
}

/*
 * The global options stop at the first operand ('+'), the command name;
 * a command's own options may come before or after its operands (GNU
 * order). ':' makes a missing value its own case, so every message names
 * the command.
 */
int
ctl_getopt(const char *cmd, int argc, char **argv,
    const struct option *longopts)
{
	int opt = getopt_long(argc, argv, cmd == NULL ? "+:h" : ":h", longopts,
	    NULL);
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";

	if (opt == '?') {
		if (cmd != NULL && is_global_option(arg))
			ctl_usage_error(cmd, "'%s' is a global option: put it "
			    "before the command", arg);
		else if (strncmp(arg, "--", 2) == 0)
			ctl_usage_error(cmd, "unknown option '%s'", arg);
		else
			ctl_usage_error(cmd, "unknown option '-%c'", optopt);
		return '?';
	}
	if (opt == ':') {
		ctl_usage_error(cmd, "option '%s' needs a value", arg);
		return '?';
	}
	return opt;
}

int
ctl_no_operands(const char *cmd, int argc, char **argv)
{
	if (optind < argc)
		return ctl_usage_error(cmd, "unexpected argument '%s'",
		    argv[optind]);
	return 0;
}

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
ctl_is_hex(const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit(s[i]))
			return 0;
	return 1;
}

void
ctl_trim(const uint8_t *data, size_t *start, size_t *end)
{
	while (*start < *end && frame_is_space(data[*start]))
		(*start)++;
	while (*end > *start && frame_is_space(data[*end - 1]))
		(*end)--;
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

int
ctl_parse_time(const char *s, time_t *out)
{
	uint64_t v;

	if (timefmt_parse_rfc3339(s, out) == 0)
		return 0;
	if (number_parse(s, 0, INT64_MAX, &v) < 0)
		return -1;
	*out = (time_t)v;
	return 0;
}
