/*
 * metadata.c - the EIF's metadata section (host/eif/metadata.h).
 *
 * The members nitro-cli writes (aws-nitro-enclaves-image-format,
 * EifIdentityInfo; enclave_build's BuildMetadata). No PCR measures this
 * section, but the file's SHA-256 and CRC do: the build time is the
 * source's (SOURCE_DATE_EPOCH), so two builds of one commit are the same
 * bytes. cJSON keeps members in insertion order.
 */
#include <string.h>

#include <cJSON.h>

#include "common/guard.h"
#include "common/timefmt.h"
#include "host/eif/metadata.h"

#define BUILD_TOOL         "enclave-eif"
#define BUILD_TOOL_VERSION "1"
#define METADATA_MAX       65536

int
metadata_write(const struct metadata_in *in, struct buf *out,
               struct reason *why)
{
	char when[TIMEFMT_RFC3339_LEN + 1];
	cJSON *root = cJSON_CreateObject(), *build, *custom;
	char *text = NULL;
	size_t i;
	int rc = -1;

	timefmt_rfc3339(when, in->build_time);
	if (root == NULL ||
	    !cJSON_AddStringToObject(root, "ImageName", in->image_name) ||
	    !cJSON_AddStringToObject(root, "ImageVersion", in->image_version) ||
	    (build = cJSON_AddObjectToObject(root, "BuildMetadata")) == NULL ||
	    !cJSON_AddStringToObject(build, "BuildTime", when) ||
	    !cJSON_AddStringToObject(build, "BuildTool", BUILD_TOOL) ||
	    !cJSON_AddStringToObject(build, "BuildToolVersion",
	        BUILD_TOOL_VERSION) ||
	    !cJSON_AddStringToObject(build, "OperatingSystem", "Linux") ||
	    !cJSON_AddStringToObject(build, "KernelVersion",
	        in->kernel_version) ||
	    !cJSON_AddObjectToObject(root, "DockerInfo") ||
	    (custom = cJSON_AddObjectToObject(root, "CustomMetadata")) == NULL)
		goto out;
	for (i = 0; i < in->ncustom; i++)
		if (!cJSON_AddStringToObject(custom, in->custom[i][0],
		    in->custom[i][1]))
			goto out;
	if ((text = cJSON_PrintUnformatted(root)) == NULL)
		goto out;
	rc = buf_append_str(out, text, METADATA_MAX);
out:
	if (rc < 0)
		reason_fail(why, "metadata: out of memory or over %d bytes",
		    METADATA_MAX);
	cJSON_free(text);
	cJSON_Delete(root);
	return rc;
}
