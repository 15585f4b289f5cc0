/*
 * cmd_eif.c - describe-eif: what an Enclave Image File holds and the PCRs
 * it will measure to, read with the one strict EIF reader (verify/eif.h).
 *
 * A data owner runs it on an image to compare with the measurements a
 * build published (--expect), before pinning a KMS key policy to them.
 */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "common/hex.h"
#include "verify/eif.h"
#include "host/enclavectl/ctl.h"

#define EIF_FILE_MAX ((size_t)4 << 30)

static const char describe_help[] =
"usage: enclavectl describe-eif [--json] [--expect MEASUREMENTS] FILE\n"
"\n"
"Reads an Enclave Image File strictly (header, section table, section\n"
"order, sizes within the file, no overlap or stray bytes, CRC) and prints\n"
"its sections, metadata and PCR0, PCR1, PCR2 (PCR8 when it is signed), as\n"
"the Nitro hypervisor will measure them. A malformed file: exit 1 and what\n"
"is wrong with it.\n"
"  --json                 print one JSON object (nitro-cli describe-eif's\n"
"                         members, plus \"Sections\")\n"
"  --expect FILE          a measurements.json (make eif, build-enclave.sh):\n"
"                         PCR0, PCR1 and PCR2 must all equal the image's\n"
"                         (and PCR8, if the file has one); else exit 1\n";

enum { OPT_JSON = 256, OPT_EXPECT, OPT_HELP };

static const struct option describe_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct described {
	struct eif_image img;
	uint8_t          pcr[3][EIF_PCR_LEN];
	uint8_t          pcr8[EIF_PCR_LEN];
	cJSON           *metadata;
};

static void
to_hex(char out[2 * EIF_PCR_LEN + 1], const uint8_t v[EIF_PCR_LEN])
{
	hex_encode(out, v, EIF_PCR_LEN);
	out[2 * EIF_PCR_LEN] = '\0';
}

/* The metadata's CustomMetadata.Blobs: "aws" unless built with stand-ins. */
static const char *
blobs_of(const cJSON *meta)
{
	const cJSON *custom = cJSON_GetObjectItemCaseSensitive(meta,
	    "CustomMetadata");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(custom, "Blobs");

	return cJSON_IsString(b) ? b->valuestring : NULL;
}

static int
print_text(const struct described *d)
{
	char hex[2 * EIF_PCR_LEN + 1], *meta;
	const char *blobs = blobs_of(d->metadata);
	size_t i;

	printf("EIF version %u, %s, %zu sections, CRC-32 %08x (checked)\n",
	    d->img.version, (d->img.flags & 1) ? "aarch64" : "x86_64",
	    d->img.nsections, d->img.crc32);
	for (i = 0; i < d->img.nsections; i++)
		printf("  section %zu: %-9s offset %llu, %zu bytes\n", i,
		    eif_section_name(d->img.sections[i].type),
		    (unsigned long long)d->img.sections[i].offset,
		    d->img.sections[i].len);
	if ((meta = cJSON_PrintUnformatted(d->metadata)) == NULL)
		return -1;
	printf("metadata: %s\n", meta);
	cJSON_free(meta);
	if (blobs != NULL && strcmp(blobs, "aws") != 0)
		printf("WARNING: built with %s blobs, not AWS's: this image "
		    "does not boot in a Nitro Enclave (tests only)\n", blobs);
	for (i = 0; i < 3; i++) {
		to_hex(hex, d->pcr[i]);
		printf("PCR%zu: %s\n", i, hex);
	}
	if (d->img.signature != NULL) {
		to_hex(hex, d->pcr8);
		printf("PCR8: %s\n", hex);
	}
	return 0;
}

/* nitro-cli describe-eif's members, and our section table. */
static int
print_json(const struct described *d)
{
	char hex[2 * EIF_PCR_LEN + 1], name[16], *text;
	cJSON *root = cJSON_CreateObject(), *m, *sections, *meta;
	const cJSON *v;
	size_t i;
	int rc = -1;

	if (root == NULL || !cJSON_AddNumberToObject(root, "EifVersion",
	    d->img.version) ||
	    (m = cJSON_AddObjectToObject(root, "Measurements")) == NULL ||
	    !cJSON_AddStringToObject(m, "HashAlgorithm", "Sha384 { ... }"))
		goto out;
	for (i = 0; i < 3; i++) {
		to_hex(hex, d->pcr[i]);
		snprintf(name, sizeof(name), "PCR%zu", i);
		if (!cJSON_AddStringToObject(m, name, hex))
			goto out;
	}
	if (d->img.signature != NULL) {
		to_hex(hex, d->pcr8);
		if (!cJSON_AddStringToObject(m, "PCR8", hex))
			goto out;
	}
	if (!cJSON_AddBoolToObject(root, "IsSigned", d->img.signature != NULL) ||
	    !cJSON_AddBoolToObject(root, "CheckCRC", 1) ||
	    !cJSON_AddStringToObject(root, "Arch",
	        (d->img.flags & 1) ? "aarch64" : "x86_64"))
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(d->metadata, "ImageName");
	if (cJSON_IsString(v) &&
	    !cJSON_AddStringToObject(root, "ImageName", v->valuestring))
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(d->metadata, "ImageVersion");
	if (cJSON_IsString(v) &&
	    !cJSON_AddStringToObject(root, "ImageVersion", v->valuestring))
		goto out;
	if ((meta = cJSON_Duplicate(d->metadata, 1)) == NULL)
		goto out;
	cJSON_AddItemToObject(root, "Metadata", meta);
	if ((sections = cJSON_AddArrayToObject(root, "Sections")) == NULL)
		goto out;
	for (i = 0; i < d->img.nsections; i++) {
		cJSON *s = cJSON_CreateObject();

		if (s == NULL)
			goto out;
		cJSON_AddItemToArray(sections, s);
		if (!cJSON_AddStringToObject(s, "Type",
		    eif_section_name(d->img.sections[i].type)) ||
		    !cJSON_AddNumberToObject(s, "Offset",
		    (double)d->img.sections[i].offset) ||
		    !cJSON_AddNumberToObject(s, "Size",
		    (double)d->img.sections[i].len))
			goto out;
	}
	if ((text = cJSON_Print(root)) == NULL)
		goto out;
	printf("%s\n", text);
	cJSON_free(text);
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

/* Every expected PCR must match; each difference is named. */
static int
check_expected(const char *cmd, const struct described *d,
               const struct ctl_measurements *want)
{
	char hex[2 * EIF_PCR_LEN + 1];
	int i, bad = 0;

	for (i = 0; i < 3; i++) {
		if (memcmp(d->pcr[i], want->pcr[i], EIF_PCR_LEN) == 0)
			continue;
		to_hex(hex, want->pcr[i]);
		ctl_error(cmd, "PCR%d differs from the measurements file "
		    "(which says %s)", i, hex);
		bad = 1;
	}
	if (want->has_pcr8 && (d->img.signature == NULL ||
	    memcmp(d->pcr8, want->pcr8, EIF_PCR_LEN) != 0)) {
		ctl_error(cmd, "PCR8 differs from the measurements file%s",
		    d->img.signature == NULL ? " (the image is not signed)" : "");
		bad = 1;
	}
	return bad ? CTL_EXIT_REMOTE : CTL_EXIT_OK;
}

/* Parse, measure and read the metadata; 0 or the exit status. */
static int
describe(const char *cmd, const struct buf *file, struct described *d)
{
	struct reason why = { "" };
	const struct eif_section *ms;

	if (eif_parse(file->data, file->len, &d->img, &why) < 0) {
		ctl_error(cmd, "not a valid EIF: %s", why.text);
		return CTL_EXIT_REMOTE;
	}
	ms = d->img.metadata;
	d->metadata = cJSON_ParseWithLength((const char *)ms->data, ms->len);
	if (!cJSON_IsObject(d->metadata)) {
		ctl_error(cmd, "not a valid EIF: the metadata section is not "
		    "a JSON object");
		return CTL_EXIT_REMOTE;
	}
	if (eif_pcrs(&d->img, d->pcr[0], d->pcr[1], d->pcr[2]) < 0) {
		ctl_error(cmd, "SHA-384 failed");
		return CTL_EXIT_REMOTE;
	}
	if (d->img.signature != NULL && eif_pcr8(&d->img, d->pcr8, &why) < 0) {
		ctl_error(cmd, "not a valid EIF: %s", why.text);
		return CTL_EXIT_REMOTE;
	}
	return 0;
}

ctl_command_fn cmd_describe_eif;
int
cmd_describe_eif(const struct ctl_global *g, int argc, char **argv)
{
	const char *cmd = "describe-eif", *expect = NULL, *path;
	struct ctl_measurements want;
	struct described d = { 0 };
	struct buf file = BUF_INIT;
	int opt, json = 0, rc;

	(void)g;
	ctl_getopt_reset();
	while ((opt = ctl_getopt(cmd, argc, argv, describe_options)) != -1) {
		switch (opt) {
		case OPT_JSON:   json = 1; break;
		case OPT_EXPECT: expect = optarg; break;
		case 'h':
		case OPT_HELP:   fputs(describe_help, stdout); return CTL_EXIT_OK;
		default:         return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return ctl_usage_error(cmd, "no EIF FILE given");
	path = argv[optind++];
	if (ctl_no_operands(cmd, argc, argv) != 0)
		return CTL_EXIT_USAGE;
	if (expect != NULL &&
	    (rc = ctl_load_measurements(cmd, expect, &want)) != 0)
		return rc;
	if (ctl_read_input(cmd, path, EIF_FILE_MAX, &file) != 0)
		return CTL_EXIT_USAGE;
	rc = describe(cmd, &file, &d);
	if (rc == 0 && (json ? print_json(&d) : print_text(&d)) < 0) {
		ctl_error(cmd, "out of memory");
		rc = CTL_EXIT_REMOTE;
	}
	if (rc == 0 && expect != NULL) {
		rc = check_expected(cmd, &d, &want);
		if (rc == 0 && !json)
			printf("matches %s: PCR0, PCR1 and PCR2%s\n", expect,
			    want.has_pcr8 ? " and PCR8" : "");
	}
	cJSON_Delete(d.metadata);
	buf_free(&file, 0);
	return rc;
}
