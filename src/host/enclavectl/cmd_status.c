/*
 * cmd_status.c - ping and health: is the enclave there, and how is it.
 *
 * The shape every command follows: a usage text, a long-option table,
 * parse (exit 2 on anything unexpected), act, print, return the status.
 */
#include <stdio.h>

#include "host/enclavectl/ctl.h"

enum { OPT_HELP = 256 };

static const struct option status_options[] = {
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Both commands take no options of their own: parse them alike. */
static int
parse(const char *cmd, const char *help, int argc, char **argv)
{
	int opt;

	ctl_getopt_reset();
	while ((opt = ctl_getopt(cmd, argc, argv, status_options)) != -1) {
		switch (opt) {
		case 'h':
		case OPT_HELP:
			fputs(help, stdout);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (ctl_no_operands(cmd, argc, argv) != 0)
		return CTL_EXIT_USAGE;
	return -1;
}

static const char ping_help[] =
"usage: enclavectl [global options] ping\n"
"\n"
"Send {\"type\":\"ping\"} and print the answer, {\"status\":\"ok\",\"msg\":\"pong\"}.\n";

static int
send_ping(struct enclave_client *c, void *arg)
{
	(void)arg;
	return enclave_ping(c);
}

ctl_command_fn cmd_ping;
int
cmd_ping(const struct ctl_global *g, int argc, char **argv)
{
	int rc;

	if ((rc = parse("ping", ping_help, argc, argv)) >= 0)
		return rc;
	return ctl_call(g, "ping", send_ping, NULL, 1);
}

static const char health_help[] =
"usage: enclavectl [global options] health\n"
"\n"
"Send {\"type\":\"health\"} and print the enclave's report: status, whether\n"
"it is configured, its time, the counters it keeps, and the keys it holds\n"
"(\"keys\": each key id with the messages sealed under it; never a key).\n";

static int
send_health(struct enclave_client *c, void *arg)
{
	(void)arg;
	return enclave_health(c, NULL, NULL);
}

ctl_command_fn cmd_health;
int
cmd_health(const struct ctl_global *g, int argc, char **argv)
{
	int rc;

	if ((rc = parse("health", health_help, argc, argv)) >= 0)
		return rc;
	return ctl_call(g, "health", send_health, NULL, 1);
}
