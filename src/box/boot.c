/*
 * boot.c - the box init's command line and stop deadline (see boot.h).
 */
#include "box/boot.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/*
 * One read() of /proc/cmdline is not the whole file in general: read to
 * EOF, and fail rather than act on a prefix (a `box.run=` cut in two
 * would start a different program).
 */
int
boot_read_cmdline(int fd, char *buf, size_t size, size_t *len)
{
	size_t got = 0;
	ssize_t n;
	char extra;

	if (size == 0) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		if (got == size - 1) {
			/* Full: only EOF now makes it the whole text. */
			while ((n = read(fd, &extra, 1)) < 0 && errno == EINTR)
				;
			if (n < 0)
				return -1;
			if (n > 0) {
				errno = E2BIG;
				return -1;
			}
			break;
		}
		n = read(fd, buf + got, size - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len = got;
	return 0;
}

/* What the kernel writes between parameters, and the end of the text. */
static int
is_separator(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\0';
}

/* Word by word without changing the line (strtok would, and stops at NUL). */
int
boot_cmdline_value(const char *line, size_t len, const char *name,
    char *out, size_t size)
{
	size_t name_len = strlen(name), i = 0, start, end;

	while (i < len) {
		while (i < len && is_separator(line[i]))
			i++;
		start = i;
		while (i < len && !is_separator(line[i]))
			i++;
		end = i;
		if (end - start < 4 + name_len + 1 ||
		    memcmp(line + start, "box.", 4) != 0 ||
		    memcmp(line + start + 4, name, name_len) != 0 ||
		    line[start + 4 + name_len] != '=')
			continue;
		start += 4 + name_len + 1;
		if (end - start >= size)
			return -1;
		memcpy(out, line + start, end - start);
		out[end - start] = '\0';
		return 1;
	}
	return 0;
}

/* Set once when the stop begins: the grace period is time, not waits. */
struct timespec
boot_deadline(const struct timespec *now, unsigned int seconds)
{
	struct timespec d = *now;

	d.tv_sec += (time_t)seconds;
	return d;
}

/* Counting time, not wake-ups: a signal that ends a wait early costs only what passed. */
int
boot_time_left(const struct timespec *now, const struct timespec *deadline,
    struct timespec *left)
{
	left->tv_sec = 0;
	left->tv_nsec = 0;
	if (now->tv_sec > deadline->tv_sec ||
	    (now->tv_sec == deadline->tv_sec &&
	    now->tv_nsec >= deadline->tv_nsec))
		return 0;
	left->tv_sec = deadline->tv_sec - now->tv_sec;
	left->tv_nsec = deadline->tv_nsec - now->tv_nsec;
	if (left->tv_nsec < 0) {
		left->tv_sec--;
		left->tv_nsec += 1000000000L;
	}
	return 1;
}
