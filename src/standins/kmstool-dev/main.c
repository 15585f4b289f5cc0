/*
 * main.c - kmstool-dev: a development stand-in for kmstool_enclave_cli.
 *
 * FOR DEMOS AND TESTS ONLY; never part of the enclave image. See
 * kmstool_dev.h for what it is and usage.c for the whole contract.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/secret.h"
#include "standins/kmstool-dev/args.h"
#include "standins/kmstool-dev/commands.h"
#include "standins/kmstool-dev/hooks.h"
#include "standins/kmstool-dev/kmstool_dev.h"
#include "standins/kmstool-dev/master_key.h"
#include "standins/kmstool-dev/report.h"
#include "standins/kmstool-dev/usage.h"

/* Enough secure heap for credentials, the master key and a 4 KiB answer. */
#define SECURE_HEAP_SIZE (64 * 1024)

/*
 * The built-in key unless KMSTOOL_DEV_MASTER_KEY_FILE names another (the
 * environment, as the real tool has no option for it); say which.
 */
static int
load_master_key(struct secret *master)
{
	const char *file = getenv(KT_MASTER_KEY_ENV);
	struct reason why;

	if (file == NULL || file[0] == '\0') {
		kt_info("master key: BUILT-IN INSECURE DEVELOPMENT KEY "
		    "(demos and tests only)");
		return kt_master_key_builtin(master);
	}
	if (kt_master_key_load(master, file, &why) < 0) {
		fprintf(stderr, "kmstool-dev: %s\n", why.text);
		return -1;
	}
	kt_info("master key: loaded from " KT_MASTER_KEY_ENV);
	return 0;
}

/*
 * Access-key hooks act before any key is touched, as KMS would refuse a
 * denied caller before looking at the blob.
 */
static int
run(const struct kt_args *a)
{
	struct secret master = SECRET_INIT;
	int rc;

	kt_info("kmstool-dev %s: region %s, proxy port %u (development "
	    "stand-in: no AWS KMS involved)", kt_command_name(a->command),
	    a->region, a->proxy_port);
	if ((rc = kt_hook_run(kt_hook_by_access_key(
	    (const char *)a->access_key_id.data))) >= 0)
		return rc;
	if (a->command == KT_CMD_GENRANDOM)
		return kt_genrandom(a);
	if (load_master_key(&master) < 0)
		return KT_EXIT_USAGE;
	rc = a->command == KT_CMD_DECRYPT ? kt_decrypt(a, &master) :
	    kt_genkey(a, &master);
	secret_free(&master);
	return rc;
}

/* Everything that held a secret is freed (and so wiped) on every path. */
int
main(int argc, char **argv)
{
	struct kt_args a;
	int rc;

	/* Best effort: without locked memory secrets are still wiped. */
	(void)secret_heap_init(SECURE_HEAP_SIZE);
	(void)process_harden();
	if (kt_args_parse(&a, argc, argv) < 0) {
		kt_args_free(&a);
		return KT_EXIT_USAGE;
	}
	if (a.help) {
		kt_usage(stdout);
		kt_args_free(&a);
		return KT_EXIT_OK;
	}
	rc = run(&a);
	kt_args_free(&a);
	return rc;
}
