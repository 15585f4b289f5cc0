/*
 * usage.h - kmstool-dev's help text.
 */
#ifndef KMSTOOL_DEV_USAGE_H
#define KMSTOOL_DEV_USAGE_H

#include <stdio.h>

/* The full help (--help), saying plainly what this tool is not for. */
void kt_usage(FILE *to);
/* The short usage line printed after a bad argument. */
void kt_usage_short(FILE *to);

#endif
