/*
 * kmstool_dev.h - what every part of kmstool-dev shares: the exit codes.
 *
 * kmstool-dev stands in for AWS's kmstool_enclave_cli in demos and tests.
 * It keeps the real tool's command line and output contract (AWS's
 * aws-nitro-enclaves-sdk-c, bin/kmstool-enclave-cli) so the daemon cannot
 * tell the difference, but it is backed by a local master key instead of
 * KMS.
 * It is never put into the enclave image.
 */
#ifndef KMSTOOL_DEV_H
#define KMSTOOL_DEV_H

#define KT_PROGRAM "kmstool-dev"

/* The real tool's exit statuses. */
enum kt_exit {
	KT_EXIT_OK = 0,		/* the answer is on stdout */
	KT_EXIT_USAGE = 1,	/* bad arguments: usage on stderr */
	KT_EXIT_FAILED = 255,	/* the operation failed: reason on stderr */
};

#endif
