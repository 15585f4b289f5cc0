/*
 * hooks.h - scripted misbehaviour, so tests can drive the daemon through
 * every way the real KMS tool can fail.
 *
 * A hook is chosen by the access key id (any command), or by the key id
 * sealed inside a blob (decrypt only; genkey mints such blobs normally):
 *
 *   access key id    blob key id        effect
 *   DEVDENY         hook/deny          exit 255, `Got non-200 answer from
 *                                       KMS: 400` (AccessDeniedException)
 *   DEVINTERNAL     hook/internal      exit 255, ... 500 (KMSInternal...)
 *   DEVUNAVAILABLE  hook/unavailable   exit 255, ... 500 (KeyUnavailable...)
 *   DEVSLOW         hook/slow          sleep 2 s, then answer normally
 *   DEVHANG         hook/hang          never answer (until killed)
 *   DEVNOOUTPUT    hook/no-output     exit 0 with nothing on stdout
 *   DEVBADOUTPUT   hook/bad-output    exit 0, `PLAINTEXT: ` + non-base64
 *   DEVFLOOD        hook/flood         1 MiB on stdout and stderr, exit 255
 *   DEVKILLED       hook/killed        die by SIGKILL, no output
 *
 * No hook ever prints a credential.
 */
#ifndef KMSTOOL_DEV_HOOKS_H
#define KMSTOOL_DEV_HOOKS_H

#include <stddef.h>
#include <stdint.h>

enum kt_hook {
	KT_HOOK_NONE,
	KT_HOOK_DENY,
	KT_HOOK_INTERNAL,
	KT_HOOK_UNAVAILABLE,
	KT_HOOK_SLOW,
	KT_HOOK_HANG,
	KT_HOOK_NO_OUTPUT,
	KT_HOOK_BAD_OUTPUT,
	KT_HOOK_FLOOD,
	KT_HOOK_KILLED,
};

/* How long DEVSLOW / hook/slow waits before answering. */
#define KT_HOOK_SLOW_SECONDS 2

enum kt_hook kt_hook_by_access_key(const char *access_key_id);
enum kt_hook kt_hook_by_key_id(const uint8_t *key_id, size_t len);

/*
 * Act the hook out. Returns -1 when the command should go on normally
 * (none, slow), otherwise the exit status to end with.
 */
int kt_hook_run(enum kt_hook hook);

#endif
