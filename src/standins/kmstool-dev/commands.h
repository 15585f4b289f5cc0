/*
 * commands.h - decrypt, genkey and genrandom against the local master key.
 *
 * Each returns the exit status: KT_EXIT_OK with the answer on stdout, or
 * KT_EXIT_FAILED after a reason line on stderr, answering every KMS error
 * the way the real tool reports one (`Got non-200 answer from KMS: 400`).
 */
#ifndef KMSTOOL_DEV_COMMANDS_H
#define KMSTOOL_DEV_COMMANDS_H

#include "common/secret.h"
#include "standins/kmstool-dev/args.h"

int kt_decrypt(const struct kt_args *a, const struct secret *master);
int kt_genkey(const struct kt_args *a, const struct secret *master);
int kt_genrandom(const struct kt_args *a);

#endif
