/*
 * native.c - the native KMS backend's one call, start to end (native.h).
 *
 * Runs in a child of the KMS broker, once per configure, so it may open
 * the NSM, connect and allocate freely; the daemon's seccomp filter does
 * not apply here. One deadline (--kms-timeout) covers everything after
 * the key is made: the NSM, connecting, TLS, KMS's answer.
 */
#include "enclave/kms/native/native.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/guard.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "enclave/kms/native/native_internal.h"
#include "enclave/nsm/nsm.h"

static const struct kms_native_config *native_cfg;

/* Everything one call holds, freed in one place. */
struct call {
	EVP_PKEY       *key;
	struct nsm     *nsm;
	struct buf      spki, doc, body, http, in, cms;
	struct kms_conn conn;
	long long       deadline;
};

static void
call_free(struct call *c)
{
	EVP_PKEY_free(c->key);	/* RSA private numbers: BN_clear_free */
	nsm_close(c->nsm);
	kms_conn_close(&c->conn);
	buf_free(&c->spki, 0);
	buf_free(&c->doc, 0);
	buf_free(&c->body, 0);
	buf_free(&c->http, 1);	/* held the session token */
	buf_free(&c->in, 0);
	buf_free(&c->cms, 0);
}

static void
set_result(struct kms_result *res, int rc, const char *reason,
    unsigned timeout_s)
{
	if (rc == NATIVE_TIMEOUT) {
		res->status = KMS_TIMEOUT;
		snprintf(res->reason, sizeof(res->reason),
		    "KMS did not answer within %u s", timeout_s);
	} else {
		res->status = KMS_FAILED;
		snprintf(res->reason, sizeof(res->reason), "%s", reason);
	}
}

/* The attestation document binding our fresh public key. */
static int
attest_key(struct call *c, char *reason, size_t reason_len)
{
	struct slice pk;
	long long left;

	if ((c->nsm = nsm_open(native_cfg->nsm_device, reason,
	    reason_len)) == NULL)
		return NATIVE_ERR;
	pk.data = c->spki.data;
	pk.len = c->spki.len;
	left = c->deadline - clock_monotonic_ms();
	if (left <= 0)
		return NATIVE_TIMEOUT;
	if (nsm_get_attestation(c->nsm, NULL, NULL, &pk, (int)left, &c->doc,
	    reason, reason_len) < 0)
		return clock_monotonic_ms() >= c->deadline ? NATIVE_TIMEOUT :
		    NATIVE_ERR;
	return 0;
}

static void
native_decrypt(const struct kms_backend *kms,
    const struct kms_decrypt_request *req, struct kms_result *res)
{
	const char *redact[4];
	struct call c;
	struct http_response resp;
	char host[NATIVE_HOST_MAX], reason[KMS_REASON_MAX];
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	kms_credentials_list(req->creds, redact);
	c.conn.fd = -1;
	c.deadline = clock_monotonic_ms() + (long long)kms->timeout_s * 1000;
	if (native_cfg == NULL ||
	    kms_host_for_region(req->region, host, sizeof(host)) < 0) {
		res->status = KMS_INTERNAL;
		snprintf(res->reason, sizeof(res->reason),
		    "native KMS backend not configured");
		return;
	}
	if ((c.key = recipient_key_new()) == NULL ||
	    recipient_key_spki(c.key, &c.spki) < 0) {
		res->status = KMS_INTERNAL;
		snprintf(res->reason, sizeof(res->reason),
		    "cannot make the RSA-2048 recipient key");
		goto out;
	}
	if ((rc = attest_key(&c, reason, sizeof(reason))) < 0) {
		set_result(res, rc, reason, kms->timeout_s);
		goto out;
	}
	if (kms_decrypt_body(req->ciphertext_b64, &c.doc, &c.body) < 0 ||
	    kms_http_request(host, req->region, "TrentService.Decrypt",
	    &c.body, req->creds, time(NULL), &c.http) < 0) {
		res->status = KMS_INTERNAL;
		snprintf(res->reason, sizeof(res->reason),
		    "cannot build the signed KMS Decrypt request");
		goto out;
	}
	if ((rc = kms_conn_open(&c.conn, native_cfg, kms->proxy_port, host,
	    c.deadline, reason, sizeof(reason))) < 0 ||
	    (rc = kms_conn_write(&c.conn, c.http.data, c.http.len, reason,
	    sizeof(reason))) < 0 ||
	    (rc = kms_conn_read_response(&c.conn, &c.in, &resp, reason,
	    sizeof(reason))) < 0) {
		set_result(res, rc, reason, kms->timeout_s);
		goto out;
	}
	if (resp.status != 200) {
		res->status = KMS_FAILED;
		kms_error_reason(resp.status, resp.body.data, resp.body.len,
		    redact, res->reason, sizeof(res->reason));
		goto out;
	}
	if (kms_recipient_ciphertext(resp.body.data, resp.body.len, &c.cms,
	    reason, sizeof(reason)) < 0 ||
	    cms_unwrap(c.cms.data, c.cms.len, c.key, &res->plaintext, reason,
	    sizeof(reason)) < 0) {
		res->status = KMS_FAILED;
		snprintf(res->reason, sizeof(res->reason), "%s", reason);
		goto out;
	}
	res->status = KMS_OK;
out:
	call_free(&c);
}

void
kms_native_init(struct kms_backend *kms, const struct kms_native_config *cfg)
{
	memset(kms, 0, sizeof(*kms));
	kms->name = "native";
	kms->decrypt = native_decrypt;
	native_cfg = cfg;
}
