/*
 * bulk_field.c - cutting the big string out of a message (see bulk_field.h).
 */
#include "enclave/bulk_field.h"

#include <string.h>

#include "common/guard.h"
#include "common/json_scan.h"

int
bulk_field_cut(uint8_t *msg, size_t len, const char *name,
    struct bulk_field *field, struct buf *rest)
{
	struct json_member m;
	struct slice value;
	size_t head, tail, total;

	/* The scanner is safe on any bytes; cJSON validates the rest later. */
	if (json_find_member(msg, len, name, &m) < 0 || m.value_escaped ||
	    m.value.len < BULK_FIELD_MIN + 2 || m.value.data[0] != '"')
		return 0;
	value = m.value;
	head = (size_t)(value.data - msg);
	tail = len - head - value.len;
	total = head + 2 + tail;	/* the message less the value's body */
	GUARD(buf_reserve(rest, total, total));
	GUARD(buf_append(rest, msg, head, total));
	GUARD(buf_append(rest, "\"\"", 2, total));
	GUARD(buf_append(rest, value.data + value.len, tail, total));
	field->data = msg + head + 1;
	field->len = value.len - 2;
	return 1;
}
