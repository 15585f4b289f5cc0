/*
 * main.c - enclavectl: the host's and the data owner's command line.
 *
 *   enclavectl [--enclave ENDPOINT] [--framing raw|len] [--timeout SECONDS]
 *              [--retry N] COMMAND [options]
 *
 * Global options are parsed here; everything after the command name
 * belongs to the command. To add a command, write its file (see
 * cmd_status.c for the shape) and add one line to CTL_COMMANDS.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/endpoint.h"
#include "common/guard.h"
#include "common/number.h"
#include "host/enclavectl/ctl.h"

/* X(name, function, one-line summary): the one table of commands. */
#define CTL_COMMANDS(X)                                                 \
	X("ping", cmd_ping, "check that the enclave answers")           \
	X("health", cmd_health, "print the enclave's health report")    \
	X("configure", cmd_configure, "hand the enclave its encrypted TSK") \
	X("process", cmd_process, "send hex ciphertext, print the result") \
	X("forget", cmd_forget, "make the enclave wipe one of its keys") \
	X("seal", cmd_seal, "encrypt plaintext to hex (no daemon)")     \
	X("verify-attestation", cmd_verify_attestation, "verify a saved attestation document") \
	X("attest", cmd_attest, "fetch (and --verify) a fresh attestation document") \
	X("open", cmd_open, "decrypt hex to plaintext (no daemon)")     \
	X("grant", cmd_grant, "allow results under another key (no daemon)") \
	X("commitment", cmd_commitment, "print a key's public name (no daemon)") \
	X("describe-eif", cmd_describe_eif, "check an EIF, print its PCRs (no daemon)")

#define CTL_DECLARE(name, fn, summary) ctl_command_fn fn;
CTL_COMMANDS(CTL_DECLARE)

struct ctl_command {
	const char     *name;
	ctl_command_fn *run;
	const char     *summary;
};

#define CTL_ENTRY(name, fn, summary) { name, fn, summary },
static const struct ctl_command commands[] = { CTL_COMMANDS(CTL_ENTRY) };

#define DEFAULT_CID  "16"
#define DEFAULT_PORT "5000"

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out,
"usage: enclavectl [--enclave ENDPOINT] [--framing raw|len] [--timeout SECONDS]\n"
"                  [--retry N] COMMAND [options]\n"
"\n"
"Talks to the confidential-enclave daemon (protocol v1), and seals and opens\n"
"data for it with the data owner's key.\n"
"\n"
"commands:\n");
	for (i = 0; i < ARRAY_LEN(commands); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(out,
"\n"
"global options:\n"
"  --enclave ENDPOINT  vsock:CID:PORT, tcp:HOST:PORT or unix:PATH (default\n"
"                      vsock:$ENCLAVE_CID:$ENCLAVE_PORT, those 16 and 5000)\n"
"  --framing raw|len   bare JSON (default) or 4-byte length prefix\n"
"  --timeout SECONDS   limit for connecting and for each request (default:\n"
"                      10 s to connect, 60 s per request)\n"
"  --retry N           try again up to N times (default 0) when the enclave\n"
"                      cannot be reached, the connection breaks or times out,\n"
"                      or it is busy; waits 0.2 s, 0.4 s, ... (at most 5 s)\n"
"  --help              print this help\n"
"\n"
"exit status: 0 ok; 1 the enclave answered an error (open: the data is not\n"
"authentic); 2 bad usage or input; 3 could not connect, or the connection\n"
"broke or timed out.\n"
"\n"
"Run 'enclavectl COMMAND --help' for a command's options.\n");
}

static int
parse_framing(const char *s, enum enclave_framing *out)
{
	if (strcmp(s, "raw") == 0)
		*out = ENCLAVE_FRAMING_RAW;
	else if (strcmp(s, "len") == 0)
		*out = ENCLAVE_FRAMING_LEN;
	else
		return -1;
	return 0;
}

static const char *
env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : fallback;
}

/* The original host configuration: ENCLAVE_CID and ENCLAVE_PORT. */
static const char *
default_endpoint(void)
{
	static char text[ENDPOINT_STR_MAX];
	int n;

	n = snprintf(text, sizeof(text), "vsock:%s:%s",
	    env_or("ENCLAVE_CID", DEFAULT_CID),
	    env_or("ENCLAVE_PORT", DEFAULT_PORT));
	if (n < 0 || (size_t)n >= sizeof(text))
		return "vsock:bad-ENCLAVE_CID-or-ENCLAVE_PORT";
	return text;
}

enum { OPT_ENCLAVE = 256, OPT_FRAMING, OPT_TIMEOUT, OPT_RETRY, OPT_HELP };

static const struct option global_options[] = {
	{ "enclave", required_argument, NULL, OPT_ENCLAVE },
	{ "framing", required_argument, NULL, OPT_FRAMING },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "retry", required_argument, NULL, OPT_RETRY },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 to go on with the command, or the exit status. */
static int
parse_global(int argc, char **argv, struct ctl_global *g)
{
	struct reason why;
	uint64_t v;
	int opt;

	g->endpoint = NULL;
	g->framing = ENCLAVE_FRAMING_RAW;
	g->timeout_ms = 0;
	g->retries = 0;
	ctl_getopt_reset();
	while ((opt = ctl_getopt(NULL, argc, argv, global_options)) != -1) {
		switch (opt) {
		case OPT_ENCLAVE:
			g->endpoint = optarg;
			break;
		case OPT_FRAMING:
			if (parse_framing(optarg, &g->framing) < 0)
				return ctl_usage_error(NULL, "--framing must be "
				    "raw or len, not '%s'", optarg);
			break;
		case OPT_TIMEOUT:
			/* Fractions allowed, up to a day: more is surely a typo. */
			if (number_option_seconds("--timeout", optarg, 1,
			    86400 * 1000, &v, &why) < 0)
				return ctl_usage_error(NULL, "%s", why.text);
			g->timeout_ms = (int)v;
			break;
		case OPT_RETRY:
			if (number_option("--retry", optarg, 0, 100, &v, &why) < 0)
				return ctl_usage_error(NULL, "%s", why.text);
			g->retries = (int)v;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (g->endpoint == NULL)
		g->endpoint = default_endpoint();
	return -1;
}

int
main(int argc, char **argv)
{
	struct ctl_global g;
	const char *name;
	size_t i;
	int rc;

	/* Keys live in locked memory when the system allows it; best effort. */
	(void)secret_heap_init(1 << 15);
	(void)process_harden();
	if ((rc = parse_global(argc, argv, &g)) >= 0)
		return rc;
	if (optind >= argc) {
		usage(stderr);
		return ctl_usage_error(NULL, "no command given");
	}
	name = argv[optind];
	for (i = 0; i < ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].run(&g, argc - optind, argv + optind);
	return ctl_usage_error(NULL, "unknown command '%s' (see enclavectl "
	    "--help)", name);
}
