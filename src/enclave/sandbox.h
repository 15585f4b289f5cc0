/*
 * sandbox.h - seccomp confinement of the running daemon.
 *
 * Once listeners are open and the KMS broker is forked, the daemon needs
 * only to accept, read, write, allocate, make threads and socketpairs, and
 * pass descriptors to the broker. Everything else (exec, open, connect,
 * ptrace, mount, ...) kills the process. The filter covers every thread
 * (it is loaded before the workers start, and synchronised).
 */
#ifndef ENCLAVE_SANDBOX_H
#define ENCLAVE_SANDBOX_H

/*
 * Load the filter. `nsm_simulator`: `attest` reaches an NSM simulator over
 * a Unix socket (--nsm-device unix:PATH, tests only), so also allow
 * creating AF_UNIX stream sockets and connect(2).
 */
int  sandbox_apply(int nsm_simulator);

#endif
