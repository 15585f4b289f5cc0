/*
 * json_parse.c - strict parsing and wiping frees for cJSON (see json_parse.h).
 */
#include "common/json_parse.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/frame.h"
#include "common/json_scan.h"

cJSON *
json_parse_exact(const void *text, size_t n)
{
	struct json_verdict v;

	return json_parse_strict(text, n, 0, &v);
}

/* The raw name (quotes included) as printable ASCII for a message. */
static void
show_name(struct slice raw, char out[JSON_NAME_SHOWN])
{
	static const char cut[] = "...";
	size_t i, len = raw.len >= 2 ? raw.len - 2 : 0, room;

	room = len < JSON_NAME_SHOWN ? len : JSON_NAME_SHOWN - sizeof(cut);
	for (i = 0; i < room; i++) {
		uint8_t c = raw.data[i + 1];

		out[i] = c >= 0x20 && c < 0x7f && c != '"' ? (char)c : '?';
	}
	if (room < len)
		memcpy(out + room, cut, sizeof(cut));
	else
		out[room] = '\0';
}

/*
 * Text checks first (cJSON must never see a raw NUL or \uzzzz), then
 * cJSON, then what cJSON does not check: trailing text, number syntax and,
 * last, member names (json_check_names() needs well-formed text).
 */
cJSON *
json_parse_strict(const void *text, size_t n, int flags,
    struct json_verdict *v)
{
	const char *end = NULL, *stop = (const char *)text + n;
	struct slice name = { NULL, 0 };
	cJSON *root;
	int rc;

	memset(v, 0, sizeof(*v));
	v->fault = JSON_FAULT_SYNTAX;
	if (json_check_text(text, n, &v->has_nul) < 0)
		return NULL;
	root = cJSON_ParseWithLengthOpts(text, n, &end, 0);
	if (root == NULL)
		return NULL;
	while (end < stop && frame_is_space((uint8_t)*end))
		end++;
	if (end != stop || !json_numbers_strict(text, n)) {
		cJSON_Delete(root);
		return NULL;
	}
	rc = json_check_names(text, n, flags, &name);
	if (rc != JSON_NAMES_OK) {
		cJSON_Delete(root);
		if (rc == JSON_NAMES_NUL || rc == JSON_NAMES_DUPLICATE) {
			v->fault = rc == JSON_NAMES_NUL ? JSON_FAULT_NUL_NAME :
			    JSON_FAULT_DUPLICATE;
			show_name(name, v->name);
		}
		return NULL;
	}
	v->fault = JSON_FAULT_NONE;
	return root;
}

void
json_verdict_explain(const struct json_verdict *v, char *out, size_t size)
{
	switch (v->fault) {
	case JSON_FAULT_NONE:
		snprintf(out, size, "valid JSON");
		break;
	case JSON_FAULT_NUL_NAME:
		snprintf(out, size, "member name \"%s\" holds U+0000", v->name);
		break;
	case JSON_FAULT_DUPLICATE:
		snprintf(out, size, "duplicate member name \"%s\"", v->name);
		break;
	default:
		snprintf(out, size, "not valid JSON");
		break;
	}
}

/* glibc knows each block's size, so the wipe needs no bookkeeping here. */
static void
wiping_free(void *p)
{
	if (p != NULL)
		OPENSSL_cleanse(p, malloc_usable_size(p));
	free(p);
}

void
json_use_wiping_allocator(void)
{
	cJSON_Hooks hooks = { .malloc_fn = malloc, .free_fn = wiping_free };

	cJSON_InitHooks(&hooks);
}

cJSON *
json_member(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

const char *
json_string_field(const cJSON *obj, const char *name)
{
	const cJSON *item = json_member(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

int
json_string_exact(const void *text, size_t n, const char *name,
    struct buf *out)
{
	struct json_member m;

	if (json_find_member(text, n, name, &m) < 0 || m.value.len == 0 ||
	    m.value.data[0] != '"')
		return -1;
	return json_decode_string(m.value, out, m.value.len);
}
