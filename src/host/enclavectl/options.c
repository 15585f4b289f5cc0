/*
 * options.c - reading enclavectl's command lines: getopt over the global
 * options and each command's own, operands refused, and the values that
 * several commands take (a time, hex of a bounded length).
 */
#include <getopt.h>
#include <stdint.h>
#include <string.h>

#include "common/guard.h"
#include "common/hex.h"
#include "common/number.h"
#include "common/timefmt.h"
#include "host/enclavectl/ctl.h"

/* glibc: optind = 0 makes getopt start over, for each command's argv. */
void
ctl_getopt_reset(void)
{
	optind = 0;
	opterr = 0;
}

/* A global option written after the command: say where it belongs. */
static int
is_global_option(const char *arg)
{
	static const char *const globals[] = { "--enclave", "--framing",
	    "--timeout", "--retry" };
	size_t i, n;

	for (i = 0; i < ARRAY_LEN(globals); i++) {
		n = strlen(globals[i]);
		if (strncmp(arg, globals[i], n) == 0 &&
		    (arg[n] == '\0' || arg[n] == '='))
			return 1;
	}
	return 0;
}

/*
 * The global options stop at the first operand ('+'), the command name;
 * a command's own options may come before or after its operands (GNU
 * order). ':' makes a missing value its own case, so every message names
 * the command.
 */
int
ctl_getopt(const char *cmd, int argc, char **argv,
    const struct option *longopts)
{
	int opt = getopt_long(argc, argv, cmd == NULL ? "+:h" : ":h", longopts,
	    NULL);
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";

	if (opt == '?') {
		if (cmd != NULL && is_global_option(arg))
			ctl_usage_error(cmd, "'%s' is a global option: put it "
			    "before the command", arg);
		else if (strncmp(arg, "--", 2) == 0)
			ctl_usage_error(cmd, "unknown option '%s'", arg);
		else
			ctl_usage_error(cmd, "unknown option '-%c'", optopt);
		return '?';
	}
	if (opt == ':') {
		ctl_usage_error(cmd, "option '%s' needs a value", arg);
		return '?';
	}
	return opt;
}

int
ctl_no_operands(const char *cmd, int argc, char **argv)
{
	if (optind < argc)
		return ctl_usage_error(cmd, "unexpected argument '%s'",
		    argv[optind]);
	return 0;
}

int
ctl_parse_time(const char *s, time_t *out)
{
	uint64_t v;

	if (timefmt_parse_rfc3339(s, out) == 0)
		return 0;
	if (number_parse(s, 0, INT64_MAX, &v) < 0)
		return -1;
	*out = (time_t)v;
	return 0;
}

int
ctl_hex_arg(const char *s, uint8_t *dst, size_t max, size_t *len)
{
	size_t n = strlen(s);

	if (n == 0 || n % 2 != 0 || n / 2 > max ||
	    !ctl_is_hex((const uint8_t *)s, n))
		return -1;
	if (dst != NULL && hex_decode(dst, s, n) < 0)
		return -1;
	if (len != NULL)
		*len = n / 2;
	return 0;
}
