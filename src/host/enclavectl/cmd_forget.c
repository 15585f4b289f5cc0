/*
 * cmd_forget.c - make the enclave drop a key: {"type":"forget","key_id":ID}.
 *
 * The last step of a rotation (docs/operations.md): once no data sealed
 * under the old key is left, the enclave should not hold it either.
 */
#include <stdio.h>
#include <string.h>

#include "host/enclavectl/ctl.h"

static const char forget_help[] =
"usage: enclavectl [global options] forget --key-id ID\n"
"\n"
"Ask the enclave to forget the key it holds as ID: it is wiped for every\n"
"request from now on (requests already using it finish). Prints the\n"
"answer, {\"status\":\"ok\",\"msg\":\"forgotten\"}; unknown_key (exit 1) when\n"
"the enclave holds no such key.\n"
"\n"
"  --key-id ID  the key's id, as given to configure --key-id\n"
"  --help       print this help\n";

enum { OPT_KEY_ID = 256, OPT_HELP };

static const struct option forget_options[] = {
	{ "key-id", required_argument, NULL, OPT_KEY_ID },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int
parse(int argc, char **argv, const char **key_id)
{
	int opt;

	*key_id = NULL;
	ctl_getopt_reset();
	while ((opt = ctl_getopt("forget", argc, argv, forget_options)) != -1) {
		switch (opt) {
		case OPT_KEY_ID:
			if (optarg[0] == '\0')
				return ctl_usage_error("forget",
				    "--key-id must not be empty");
			*key_id = optarg;
			break;
		case 'h':
		case OPT_HELP:
			fputs(forget_help, stdout);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (ctl_no_operands("forget", argc, argv) != 0)
		return CTL_EXIT_USAGE;
	if (*key_id == NULL)
		return ctl_usage_error("forget", "--key-id ID is required");
	return -1;
}

static int
send_forget(struct enclave_client *c, void *arg)
{
	const char *const *key_id = arg;

	return enclave_forget(c, *key_id);
}

ctl_command_fn cmd_forget;
int
cmd_forget(const struct ctl_global *g, int argc, char **argv)
{
	const char *key_id;
	int rc;

	if ((rc = parse(argc, argv, &key_id)) >= 0)
		return rc;
	return ctl_call(g, "forget", send_forget, &key_id, 1);
}
