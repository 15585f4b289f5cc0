/*
 * broker.h - privilege separation for the KMS tool.
 *
 * After startup the daemon confines itself with seccomp (sandbox.h), and a
 * filter is inherited by every child: a confined daemon could never exec
 * the KMS tool. So, before confining itself, the daemon forks a small
 * broker process, as OpenBSD daemons do. For each configure, the daemon
 * makes a fresh socketpair, passes one end to the broker, and sends the
 * decrypt request over it; the broker forks a child that runs the real
 * backend (kmstool.c) and answers on that channel. The daemon keeps only
 * what it needs (sockets, memory, threads); the broker can spawn, but
 * speaks only this one narrow protocol.
 */
#ifndef ENCLAVE_KMS_BROKER_H
#define ENCLAVE_KMS_BROKER_H

#include "enclave/kms/kms.h"

/*
 * Fork the broker around `inner` (the backend that really talks to KMS)
 * and turn `kms` into a backend that forwards to it. Call before any
 * thread exists. -1 on failure.
 */
int  kms_broker_start(struct kms_backend *kms);
/* Close the channel: the broker sees EOF and exits once its children do. */
void kms_broker_stop(struct kms_backend *kms);

#endif
