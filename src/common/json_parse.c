/*
 * json_parse.c - strict parsing and wiping frees for cJSON (see json_parse.h).
 */
#include "common/json_parse.h"

#include <malloc.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "common/frame.h"
#include "common/json_scan.h"

cJSON *
json_parse_exact(const void *text, size_t n)
{
	int has_nul;

	return json_parse_exact_nul(text, n, &has_nul);
}

cJSON *
json_parse_exact_nul(const void *text, size_t n, int *has_nul)
{
	const char *end = NULL, *stop = (const char *)text + n;
	cJSON *root;

	if (json_check_text(text, n, has_nul) < 0)
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
	return root;
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

const char *
json_string_field(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}
