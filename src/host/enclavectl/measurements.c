/*
 * measurements.c - reading a measurements.json (make eif,
 * scripts/build-enclave.sh): {"Measurements": {"PCR0": hex, ...}}.
 *
 * PCR0, PCR1 and PCR2 are required together: bytes can move between
 * adjacent measured sections without changing PCR0, so only the three
 * together pin an image (docs/security.md). PCR8 is read when present.
 */
#include <string.h>

#include <cJSON.h>

#include "common/hex.h"
#include "host/enclavectl/ctl.h"

#define MEASUREMENTS_MAX ((size_t)1 << 20)

/* One member as 96 hex digits (either case), decoded. */
static int
pcr_member(const char *cmd, const char *path, const cJSON *m,
           const char *name, uint8_t out[CTL_PCR_LEN], int required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, name);
	const char *s;

	if (v == NULL && !required)
		return 1;
	if (!cJSON_IsString(v) || strlen(s = v->valuestring) != 2 * CTL_PCR_LEN ||
	    !ctl_is_hex((const uint8_t *)s, 2 * CTL_PCR_LEN) ||
	    hex_decode(out, s, 2 * CTL_PCR_LEN) < 0) {
		ctl_error(cmd, "%s: Measurements.%s must be 96 hex digits",
		    path, name);
		return -1;
	}
	return 0;
}

int
ctl_load_measurements(const char *cmd, const char *path,
                      struct ctl_measurements *out)
{
	struct buf text = BUF_INIT;
	cJSON *root = NULL;
	const cJSON *m;
	int rc = CTL_EXIT_USAGE, i;
	char name[16];

	memset(out, 0, sizeof(*out));
	if (ctl_read_input(cmd, path, MEASUREMENTS_MAX, &text) != 0)
		return CTL_EXIT_USAGE;
	root = cJSON_ParseWithLength((const char *)text.data, text.len);
	m = cJSON_GetObjectItemCaseSensitive(root, "Measurements");
	if (!cJSON_IsObject(m)) {
		ctl_error(cmd, "%s: not a measurements file (no \"Measurements\" "
		    "object)", path);
		goto out;
	}
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "PCR%d", i);
		if (pcr_member(cmd, path, m, name, out->pcr[i], 1) != 0)
			goto out;
	}
	switch (pcr_member(cmd, path, m, "PCR8", out->pcr8, 0)) {
	case 0:  out->has_pcr8 = 1; break;
	case 1:  break;
	default: goto out;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	buf_free(&text, 0);
	return rc;
}
