/*
 * native.h - the `--kms native` backend: KMS Decrypt with a Recipient,
 * done in-process with OpenSSL, libcbor and cJSON; no kmstool_enclave_cli,
 * no libnsm.
 *
 * For each configure (in a child of the KMS broker, so outside the
 * daemon's seccomp filter): a fresh RSA-2048 key; an attestation document
 * from the NSM whose public_key is that key's DER SubjectPublicKeyInfo;
 * a SigV4-signed `TrentService.Decrypt` with
 * Recipient {RSAES_OAEP_SHA_256, the document}, HTTP/1.1 over TLS (SNI and
 * hostname verification against kms.<region>.amazonaws.com) over a socket
 * to the parent's vsock-proxy (AF_VSOCK CID 3, --proxy-port), or, for
 * tests, to `--kms-endpoint tcp:HOST:PORT`; then the CMS envelope
 * CiphertextForRecipient opened with the private key, which is freed
 * (OpenSSL clears RSA private numbers) along with every plaintext copy.
 *
 * The result contract is kmstool.c's: KMS_OK with the plaintext;
 * KMS_FAILED with a reason ("AccessDeniedException: <KMS's message>", a
 * TLS or NSM failure); KMS_TIMEOUT past --kms-timeout; KMS_INTERNAL when
 * it could not even ask. Reasons never carry a credential.
 */
#ifndef ENCLAVE_KMS_NATIVE_H
#define ENCLAVE_KMS_NATIVE_H

#include <stdatomic.h>

#include "enclave/kms/kms.h"

/*
 * KMS's clock minus ours (clock_offset.c): in one page shared with the
 * KMS broker's children once clock_offset_init() has mapped it, `at`
 * pointing there (or at `own` until then).
 */
struct clock_offset {
	_Atomic long long  own;
	_Atomic long long *at;
};

struct kms_native_config {
	const char *nsm_device;	/* /dev/nsm, or unix:/path (simulator) */
	const char *endpoint;	/* NULL: vsock:3:<proxy_port>; tcp:HOST:PORT */
	const char *ca_file;	/* NULL: the first bundle that exists */
	struct clock_offset clock;	/* set up by kms_native_init */
};

/*
 * Make `kms` the native backend with this configuration (kept by
 * reference: the strings must outlive the backend, as argv does; the
 * clock offset is set up in it). The caller sets proxy_port and
 * timeout_s as for the KMS tool.
 */
void kms_native_init(struct kms_backend *kms, struct kms_native_config *cfg);

#endif
