/*
 * direction.c - the direction labels in front of aad (see direction.h).
 */
#include "common/direction.h"

#include <string.h>

#include "common/guard.h"

/* The labels with their NUL: the exact bytes docs/protocol.md gives. */
static const char request_label[] = "request";	/* 72 65 71 75 65 73 74 00 */
static const char result_label[] = "result";	/* 72 65 73 75 6c 74 00 */

int
direction_bind_aad(struct buf *out, enum direction d, const uint8_t *aad,
    size_t len)
{
	const char *label = d == DIRECTION_REQUEST ? request_label :
	    result_label;
	size_t label_len = d == DIRECTION_REQUEST ? sizeof(request_label) :
	    sizeof(result_label);
	size_t total;

	buf_truncate(out, 0);
	GUARD(size_add(label_len, len, &total));
	GUARD(buf_reserve(out, total, total));
	GUARD(buf_append(out, label, label_len, total));
	return buf_append(out, aad, len, total);
}

int
direction_parse(const char *name, enum direction *d)
{
	if (strcmp(name, request_label) == 0)
		*d = DIRECTION_REQUEST;
	else if (strcmp(name, result_label) == 0)
		*d = DIRECTION_RESULT;
	else
		return -1;
	return 0;
}
