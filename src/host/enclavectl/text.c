/*
 * text.c - checks on text enclavectl reads, before anything decodes it:
 * hex digits only, and the whitespace around an input.
 */
#include <ctype.h>
#include <stdint.h>

#include "common/frame.h"
#include "host/enclavectl/ctl.h"

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
