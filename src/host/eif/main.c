/*
 * main.c - enclave-eif: build an Enclave Image File without Docker.
 *
 *   enclave-eif --kernel F --cmdline F --init F --nsm F --rootfs DIR
 *               --cmd F --env F --output F [--source-date-epoch N] ...
 *
 * What nitro-cli build-enclave makes from a Docker image, made from a
 * staged directory (enclave/stage-rootfs.sh), bit for bit the same on
 * every build of the same inputs: ramdisk 0 is AWS's bootstrap (dev/,
 * init, nsm.ko), ramdisk 1 the application (rootfs/..., cmd, env). A host
 * tool: it never runs in, or links into, the enclave. `make eif` drives it
 * (scripts/make-eif.sh); docs/operations.md says how a data owner
 * reproduces the PCRs it prints.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/guard.h"
#include "common/hex.h"
#include "common/number.h"
#include "host/eif/cpio.h"
#include "host/eif/eif_write.h"
#include "host/eif/input.h"
#include "host/eif/metadata.h"
#include "verify/eif.h"

#define BLOB_MAX ((size_t)512 << 20)	/* a kernel, init or module */
#define TEXT_MAX ((size_t)64 << 10)	/* cmdline, cmd, env */

struct options {
	const char *kernel, *cmdline, *init, *nsm, *bootstrap, *rootfs;
	const char *cmd, *env;
	const char *output;
	uint64_t    mtime;
	int         aarch64;
	struct metadata_in meta;
};

static void
usage(FILE *out)
{
	fprintf(out,
"usage: enclave-eif --kernel FILE --cmdline FILE\n"
"                   {--init FILE --nsm FILE | --bootstrap DIR}\n"
"                   --rootfs DIR --cmd FILE --env FILE --output FILE\n"
"                   [--source-date-epoch N] [--name NAME] [--image-version V]\n"
"                   [--kernel-version V] [--meta NAME=VALUE]... [--aarch64]\n"
"\n"
"Builds an Enclave Image File (version 4) as nitro-cli build-enclave lays\n"
"it out, reproducibly: the same inputs give the same bytes.\n"
"  --kernel, --cmdline   the kernel (bzImage or Image) and its command line\n"
"  --init, --nsm         AWS's init and nsm.ko: ramdisk 0 (PCR1)\n"
"  --bootstrap DIR       instead, ramdisk 0 is DIR's tree (the box's own\n"
"                        bootstrap, docs/box.md); ramdisk 1 is unchanged\n"
"  --rootfs DIR          the staged filesystem: ramdisk 1 under rootfs/ (PCR2)\n"
"  --cmd, --env          the command (one argument a line) and environment\n"
"                        (NAME=value a line) AWS's init runs it with\n"
"  --source-date-epoch N every file's mtime and the metadata's BuildTime\n"
"                        (default $SOURCE_DATE_EPOCH, else 0)\n"
"  --meta NAME=VALUE     a CustomMetadata member (repeatable, kept in order)\n"
"Prints PCR0, PCR1 and PCR2. Exit 0 built, 1 failed, 2 bad usage.\n");
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* One line naming what is wrong, and where the help is: exit status 2. */
static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "enclave-eif: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry enclave-eif --help\n");
	return 2;
}

enum {
	OPT_KERNEL = 256, OPT_CMDLINE, OPT_INIT, OPT_NSM, OPT_ROOTFS, OPT_CMD,
	OPT_ENV, OPT_SDE, OPT_NAME, OPT_IMAGE_VERSION, OPT_KERNEL_VERSION,
	OPT_META, OPT_AARCH64, OPT_BOOTSTRAP,
};

static const struct option long_opts[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "init", required_argument, NULL, OPT_INIT },
	{ "nsm", required_argument, NULL, OPT_NSM },
	{ "bootstrap", required_argument, NULL, OPT_BOOTSTRAP },
	{ "rootfs", required_argument, NULL, OPT_ROOTFS },
	{ "cmd", required_argument, NULL, OPT_CMD },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "output", required_argument, NULL, 'o' },
	{ "source-date-epoch", required_argument, NULL, OPT_SDE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "image-version", required_argument, NULL, OPT_IMAGE_VERSION },
	{ "kernel-version", required_argument, NULL, OPT_KERNEL_VERSION },
	{ "meta", required_argument, NULL, OPT_META },
	{ "aarch64", no_argument, NULL, OPT_AARCH64 },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
add_meta(struct options *o, char *arg)
{
	char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg)
		return usage_error("--meta takes NAME=VALUE, not '%s'", arg);
	if (o->meta.ncustom == METADATA_MAX_CUSTOM)
		return usage_error("%s: too many --meta", arg);
	*eq = '\0';
	o->meta.custom[o->meta.ncustom][0] = arg;
	o->meta.custom[o->meta.ncustom][1] = eq + 1;
	o->meta.ncustom++;
	return 0;
}

/* Parse the options; 0 to go on, else the exit status. */
static int
parse_options(struct options *o, int argc, char **argv)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	int c;

	o->meta.image_name = "confidential-enclave";
	o->meta.image_version = "unversioned";
	o->meta.kernel_version = "unknown";
	while ((c = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:  o->kernel = optarg; break;
		case OPT_CMDLINE: o->cmdline = optarg; break;
		case OPT_INIT:    o->init = optarg; break;
		case OPT_NSM:     o->nsm = optarg; break;
		case OPT_BOOTSTRAP: o->bootstrap = optarg; break;
		case OPT_ROOTFS:  o->rootfs = optarg; break;
		case OPT_CMD:     o->cmd = optarg; break;
		case OPT_ENV:     o->env = optarg; break;
		case 'o':         o->output = optarg; break;
		case OPT_SDE:     sde = optarg; break;
		case OPT_NAME:    o->meta.image_name = optarg; break;
		case OPT_IMAGE_VERSION: o->meta.image_version = optarg; break;
		case OPT_KERNEL_VERSION: o->meta.kernel_version = optarg; break;
		case OPT_META:
			if (add_meta(o, optarg) != 0)
				return 2;
			break;
		case OPT_AARCH64: o->aarch64 = 1; break;
		case 'h': usage(stdout); return -1;
		default:  return usage_error("%s", "bad option");
		}
	}
	if (optind != argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->kernel || !o->cmdline || !o->rootfs || !o->cmd || !o->env ||
	    !o->output)
		return usage_error("%s", "--kernel, --cmdline, --rootfs, --cmd, "
		    "--env and --output are all required");
	if (o->bootstrap != NULL ? (o->init != NULL || o->nsm != NULL) :
	    (o->init == NULL || o->nsm == NULL))
		return usage_error("%s", "ramdisk 0 is either --init and --nsm "
		    "or --bootstrap DIR");
	if (sde != NULL && sde[0] != '\0' &&
	    number_parse(sde, 0, UINT32_MAX, &o->mtime) < 0)
		return usage_error("SOURCE_DATE_EPOCH must be seconds, not "
		    "'%s'", sde);
	o->meta.build_time = (time_t)o->mtime;
	return 0;
}

/*
 * Ramdisk 0: the bootstrap, as nitro-cli's yaml_generator.rs lists it; or,
 * for the box, a staged tree of its own, so that the application ramdisk
 * beside it is the very one an enclave's EIF holds.
 */
static int
bootstrap_ramdisk(const struct options *o, struct buf *out, struct reason *why)
{
	struct cpio_archive a = CPIO_ARCHIVE_INIT;
	struct buf init = BUF_INIT, nsm = BUF_INIT;
	int rc = -1;

	if (o->bootstrap != NULL) {
		GUARD_GOTO(cpio_add_tree(&a, "", o->bootstrap, why), out);
		rc = cpio_write(&a, (uint32_t)o->mtime, out, why);
		goto out;
	}
	GUARD_GOTO(input_read_path(o->init, &init, BLOB_MAX, why), out);
	GUARD_GOTO(input_read_path(o->nsm, &nsm, BLOB_MAX, why), out);
	GUARD_GOTO(cpio_add(&a, "dev", S_IFDIR | 0755, NULL, 0, why), out);
	GUARD_GOTO(cpio_add(&a, "init", S_IFREG | 0755, init.data, init.len,
	    why), out);
	GUARD_GOTO(cpio_add(&a, "nsm.ko", S_IFREG | 0755, nsm.data, nsm.len,
	    why), out);
	rc = cpio_write(&a, (uint32_t)o->mtime, out, why);
out:
	cpio_free(&a);
	buf_free(&init, 0);
	buf_free(&nsm, 0);
	return rc;
}

/* Ramdisk 1: the application; the mount points init needs are added when
 * the staged tree lacks them. */
static int
app_ramdisk(const struct options *o, struct buf *out, struct reason *why)
{
	static const char *const mounts[] = { "rootfs/dev", "rootfs/proc",
	    "rootfs/run", "rootfs/sys", "rootfs/tmp", "rootfs/var" };
	struct cpio_archive a = CPIO_ARCHIVE_INIT;
	struct buf cmd = BUF_INIT, env = BUF_INIT;
	size_t i, j;
	int rc = -1;

	GUARD_GOTO(input_read_path(o->cmd, &cmd, TEXT_MAX, why), out);
	GUARD_GOTO(input_read_path(o->env, &env, TEXT_MAX, why), out);
	GUARD_GOTO(cpio_add(&a, "cmd", S_IFREG | 0644, cmd.data, cmd.len, why),
	    out);
	GUARD_GOTO(cpio_add(&a, "env", S_IFREG | 0644, env.data, env.len, why),
	    out);
	GUARD_GOTO(cpio_add(&a, "rootfs", S_IFDIR | 0755, NULL, 0, why), out);
	GUARD_GOTO(cpio_add_tree(&a, "rootfs", o->rootfs, why), out);
	for (i = 0; i < ARRAY_LEN(mounts); i++) {
		for (j = 0; j < a.n; j++)
			if (strcmp(a.entries[j].path, mounts[i]) == 0)
				break;
		if (j == a.n)
			GUARD_GOTO(cpio_add(&a, mounts[i], S_IFDIR | 0755,
			    NULL, 0, why), out);
	}
	rc = cpio_write(&a, (uint32_t)o->mtime, out, why);
out:
	cpio_free(&a);
	buf_free(&cmd, 0);
	buf_free(&env, 0);
	return rc;
}

/* Write the file whole under a temporary name, then rename it in place. */
static int
write_output(const char *path, const struct buf *b, struct reason *why)
{
	char tmp[PATH_MAX];
	FILE *f;
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return reason_fail(why, "output path too long");
	if ((f = fopen(tmp, "wbx")) == NULL && errno == EEXIST &&
	    unlink(tmp) == 0)
		f = fopen(tmp, "wbx");
	if (f == NULL)
		return reason_fail(why, "cannot create %s: %s", tmp,
		    strerror(errno));
	if (fwrite(b->data, 1, b->len, f) != b->len ||
	    fchmod(fileno(f), 0644) < 0) {
		fclose(f);
		unlink(tmp);
		return reason_fail(why, "writing %s: %s", tmp, strerror(errno));
	}
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return reason_fail(why, "writing %s: %s", path, strerror(errno));
	}
	return 0;
}

static void
print_pcr(const char *name, const uint8_t v[EIF_PCR_LEN])
{
	char hex[2 * EIF_PCR_LEN + 1];

	hex_encode(hex, v, EIF_PCR_LEN);
	hex[2 * EIF_PCR_LEN] = '\0';
	printf("%s: %s\n", name, hex);
}

/* Build, then read the file back with the one EIF reader before it counts. */
static int
build(const struct options *o, struct reason *why)
{
	struct buf kernel = BUF_INIT, cmdline = BUF_INIT, meta = BUF_INIT;
	struct buf rd0 = BUF_INIT, rd1 = BUF_INIT, eif = BUF_INIT;
	struct eif_parts parts = { 0 };
	struct eif_image img;
	uint8_t pcr[3][EIF_PCR_LEN];
	int rc = -1;

	GUARD_GOTO(input_read_path(o->kernel, &kernel, BLOB_MAX, why), out);
	GUARD_GOTO(input_read_path(o->cmdline, &cmdline, TEXT_MAX, why), out);
	GUARD_GOTO(metadata_write(&o->meta, &meta, why), out);
	GUARD_GOTO(bootstrap_ramdisk(o, &rd0, why), out);
	GUARD_GOTO(app_ramdisk(o, &rd1, why), out);
	parts.kernel = (struct slice){ kernel.data, kernel.len };
	parts.cmdline = (struct slice){ cmdline.data, cmdline.len };
	parts.metadata = (struct slice){ meta.data, meta.len };
	parts.ramdisks[0] = (struct slice){ rd0.data, rd0.len };
	parts.ramdisks[1] = (struct slice){ rd1.data, rd1.len };
	parts.nramdisks = 2;
	parts.aarch64 = o->aarch64;
	GUARD_GOTO(eif_write(&parts, &eif, why), out);
	GUARD_GOTO(eif_parse(eif.data, eif.len, &img, why), out);
	if (eif_pcrs(&img, pcr[0], pcr[1], pcr[2]) < 0) {
		reason_fail(why, "SHA-384 failed");
		goto out;
	}
	GUARD_GOTO(write_output(o->output, &eif, why), out);
	print_pcr("PCR0", pcr[0]);
	print_pcr("PCR1", pcr[1]);
	print_pcr("PCR2", pcr[2]);
	rc = 0;
out:
	buf_free(&kernel, 0);
	buf_free(&cmdline, 0);
	buf_free(&meta, 0);
	buf_free(&rd0, 0);
	buf_free(&rd1, 0);
	buf_free(&eif, 0);
	return rc;
}

int
main(int argc, char **argv)
{
	struct options o = { 0 };
	struct reason why = { "" };
	int rc = parse_options(&o, argc, argv);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (build(&o, &why) < 0) {
		fprintf(stderr, "enclave-eif: %s\n", why.text);
		return 1;
	}
	return 0;
}
