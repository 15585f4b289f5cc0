/*
 * messages.c - how enclavectl speaks on stderr: "enclavectl CMD: ..." for
 * a failure, and for a usage error a pointer to the command's --help.
 */
#include <stdarg.h>
#include <stdio.h>

#include "host/enclavectl/ctl.h"

static void
vmessage(const char *cmd, const char *fmt, va_list ap)
{
	if (cmd != NULL)
		fprintf(stderr, "enclavectl %s: ", cmd);
	else
		fprintf(stderr, "enclavectl: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
ctl_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(cmd, fmt, ap);
	va_end(ap);
}

int
ctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'enclavectl%s%s --help'.\n", cmd ? " " : "",
	    cmd ? cmd : "");
	return CTL_EXIT_USAGE;
}
