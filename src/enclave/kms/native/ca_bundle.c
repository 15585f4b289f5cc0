/*
 * ca_bundle.c - the trust anchors for KMS's TLS certificate.
 *
 * The image carries a CA bundle; distributions put it in different
 * places, so take the first that exists (the list Go and curl use).
 * Tests name their own test CA with --kms-ca-file.
 */
#include "enclave/kms/native/native_internal.h"

#include <unistd.h>

static const char *const bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",	/* Debian, Ubuntu, Alpine */
	"/etc/pki/tls/certs/ca-bundle.crt",	/* Fedora, RHEL, Amazon Linux */
	"/etc/ssl/ca-bundle.pem",		/* openSUSE */
	"/etc/pki/tls/cacert.pem",		/* OpenELEC */
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",	/* CentOS 7 */
	"/etc/ssl/cert.pem",			/* Alpine, macOS */
};

const char *
ca_bundle_path(const char *configured)
{
	size_t i;

	if (configured != NULL && configured[0] != '\0')
		return configured;
	for (i = 0; i < sizeof(bundles) / sizeof(bundles[0]); i++)
		if (access(bundles[i], R_OK) == 0)
			return bundles[i];
	return NULL;
}
