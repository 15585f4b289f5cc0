/*
 * native.c - the native KMS backend's one call, start to end (native.h).
 *
 * Runs in a child of the KMS broker, once per configure, so it may open
 * the NSM, connect and allocate freely; the daemon's seccomp filter does
 * not apply here. One deadline (--kms-timeout) covers everything after
 * the key is made: the NSM, connecting, TLS, KMS's answer, and every
 * further attempt with the waits between them.
 *
 * Further attempts, as the AWS SDKs make them:
 *   - a refusal as signed too far from KMS's clock: the offset is taken
 *     from the answer's Date header and kept (clock_offset.c), and the
 *     request re-signed and sent once more, at once;
 *   - a transient failure (throttling, 5xx, a refused, reset or cut
 *     connection): up to KMS_RETRIES_MAX more, after a jittered
 *     exponential wait (retry_backoff.c), never past the deadline;
 *   - anything else (AccessDenied, InvalidCiphertext, a certificate that
 *     does not verify, ...) is final: asking again cannot help.
 * Each attempt signs afresh, so X-Amz-Date is always current.
 */
#include "enclave/kms/native/native.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/guard.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "enclave/kms/native/native_internal.h"
#include "enclave/nsm/nsm.h"

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
set_result(struct kms_result *res, int rc, const struct reason *why,
    unsigned timeout_s)
{
	if (rc == NATIVE_TIMEOUT) {
		res->status = KMS_TIMEOUT;
		reason_fail(&res->reason,
		    "KMS did not answer within %u s", timeout_s);
	} else {
		res->status = KMS_FAILED;
		res->reason = *why;
	}
}

/*
 * The deadline ended the retries: KMS_TIMEOUT, saying what the last
 * attempt met.
 */
static void
set_timeout_after(struct kms_result *res, unsigned timeout_s,
    unsigned attempts, const char *last)
{
	res->status = KMS_TIMEOUT;
	reason_fail(&res->reason, "KMS did not answer "
	    "within %u s (%u attempt%s; last: %.160s)", timeout_s, attempts,
	    attempts == 1 ? "" : "s", last);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
	    .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * KMS's clock from a skew refusal's Date header; kept for every later
 * request. The log says by how much, never anything secret. A Date past
 * the bound (clock_offset.c) is ignored: -1, and the refusal stands.
 */
static int
correct_clock(const struct clock_offset *clock,
    const struct http_response *resp)
{
	long long before = clock_offset_get(clock), skew;
	struct reason why;

	if (clock_offset_correct(clock, resp->date, &skew, &why) < 0) {
		log_warn("KMS refused a request as signed too far from its "
		    "clock, but %s (offset stays %+lld s)", why.text, before);
		return -1;
	}
	log_warn("KMS refused a request as signed too far from its clock: "
	    "KMS's clock is %lld s %s ours (offset was %+lld s); re-signing "
	    "and keeping the offset for later requests",
	    skew < 0 ? -skew : skew, skew < 0 ? "behind" : "ahead of", before);
	return 0;
}

/* The attestation document binding our fresh public key. */
static int
attest_key(struct call *c, const struct kms_backend *kms,
    struct reason *reason)
{
	struct slice pk;
	long long left;

	if ((c->nsm = nsm_open(kms->native->nsm_device, reason)) == NULL)
		return NATIVE_ERR;
	pk.data = c->spki.data;
	pk.len = c->spki.len;
	left = c->deadline - clock_monotonic_ms();
	if (left <= 0)
		return NATIVE_TIMEOUT;
	if (nsm_get_attestation(c->nsm, NULL, NULL, &pk, (int)left, &c->doc,
	    reason) < 0)
		return clock_monotonic_ms() >= c->deadline ? NATIVE_TIMEOUT :
		    NATIVE_ERR;
	return 0;
}

/* One attempt: connect, send the signed request, read one response. */
static int
exchange(struct call *c, const struct kms_backend *kms, const char *host,
    struct http_response *resp, struct reason *reason)
{
	int rc;

	if ((rc = kms_conn_open(&c->conn, kms->native, kms->proxy_port, host,
	    c->deadline, reason)) < 0 ||
	    (rc = kms_conn_write(&c->conn, c->http.data, c->http.len,
	    reason)) < 0 ||
	    (rc = kms_conn_read_response(&c->conn, &c->in, resp, reason)) < 0)
		return rc;
	return 0;
}

/*
 * Ask KMS until the answer is final (see the top of this file): 0 with
 * a 200 answer in `resp`, or -1 with `res` saying why not.
 */
static int
ask_kms(struct call *c, const struct kms_backend *kms,
    const struct kms_decrypt_request *req, const char *host,
    const char *const *redact, struct http_response *resp,
    struct kms_result *res)
{
	struct reason reason, last = { .text = "" };
	unsigned attempts = 0, retries = 0, wait;
	int rc, skew_retried = 0;

	for (;;) {
		attempts++;
		kms_conn_close(&c->conn);
		buf_free(&c->http, 1);
		buf_free(&c->in, 0);
		if (kms_http_request(host, req->region, "TrentService.Decrypt",
		    &c->body, req->creds, clock_offset_now(&kms->native->clock),
		    &c->http) < 0) {
			res->status = KMS_INTERNAL;
			reason_fail(&res->reason,
			    "cannot build the signed KMS Decrypt request");
			return -1;
		}
		rc = exchange(c, kms, host, resp, &reason);
		if (rc == 0 && resp->status == 200)
			return 0;
		if (rc == NATIVE_TIMEOUT && attempts > 1) {
			set_timeout_after(res, kms->timeout_s, attempts,
			    last.text);
			return -1;
		}
		if (rc == NATIVE_TIMEOUT || rc == NATIVE_ERR) {
			set_result(res, rc, &reason, kms->timeout_s);
			return -1;
		}
		if (rc == 0) {
			enum kms_answer kind = kms_answer_classify(resp->status,
			    resp->body.data, resp->body.len);

			kms_error_reason(resp->status, resp->body.data,
			    resp->body.len, redact, reason.text,
			    sizeof(reason.text));
			if (kind == KMS_ANSWER_CLOCK_SKEW && !skew_retried &&
			    resp->has_date && correct_clock(&kms->native->clock,
			    resp) == 0) {
				skew_retried = 1;
				last = reason;
				continue;
			}
			if (kind != KMS_ANSWER_TRANSIENT) {
				set_result(res, NATIVE_ERR, &reason,
				    kms->timeout_s);
				return -1;
			}
		}
		/* Transient: a throttled or failing KMS, a cut connection. */
		if (retries == KMS_RETRIES_MAX) {
			res->status = KMS_FAILED;
			reason_fail(&res->reason,
			    "%.200s (%u attempts)", reason.text, attempts);
			return -1;
		}
		wait = retry_backoff_next_ms(++retries);
		if (c->deadline - clock_monotonic_ms() <= (long long)wait) {
			set_timeout_after(res, kms->timeout_s, attempts,
			    reason.text);
			return -1;
		}
		log_warn("KMS attempt %u of %u failed (%s); trying again in "
		    "%u ms", attempts, KMS_RETRIES_MAX + 1 + skew_retried,
		    reason.text, wait);
		sleep_ms(wait);
		last = reason;
	}
}

static void
native_decrypt(const struct kms_backend *kms,
    const struct kms_decrypt_request *req, struct kms_result *res)
{
	const char *redact[4];
	struct call c;
	struct http_response resp;
	char host[NATIVE_HOST_MAX];
	struct reason reason;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	kms_credentials_list(req->creds, redact);
	c.conn.fd = -1;
	c.deadline = clock_monotonic_ms() + (long long)kms->timeout_s * 1000;
	if (kms->native == NULL ||
	    kms_host_for_region(req->region, host, sizeof(host)) < 0) {
		res->status = KMS_INTERNAL;
		reason_fail(&res->reason,
		    "native KMS backend not configured");
		return;
	}
	if ((c.key = recipient_key_new()) == NULL ||
	    recipient_key_spki(c.key, &c.spki) < 0) {
		res->status = KMS_INTERNAL;
		reason_fail(&res->reason,
		    "cannot make the RSA-2048 recipient key");
		goto out;
	}
	if ((rc = attest_key(&c, kms, &reason)) < 0) {
		set_result(res, rc, &reason, kms->timeout_s);
		goto out;
	}
	if (kms_decrypt_body(req->ciphertext_b64, req->key_id, &req->context,
	    &c.doc, &c.body) < 0) {
		res->status = KMS_INTERNAL;
		reason_fail(&res->reason,
		    "cannot build the signed KMS Decrypt request");
		goto out;
	}
	if (ask_kms(&c, kms, req, host, redact, &resp, res) < 0)
		goto out;
	if ((req->key_id != NULL && kms_answer_key_check(resp.body.data,
	    resp.body.len, req->key_id, &reason) < 0) ||
	    kms_recipient_ciphertext(resp.body.data, resp.body.len, &c.cms,
	    &reason) < 0 ||
	    cms_unwrap(c.cms.data, c.cms.len, c.key, &res->plaintext,
	    &reason) < 0) {
		res->status = KMS_FAILED;
		res->reason = reason;
		goto out;
	}
	res->status = KMS_OK;
out:
	call_free(&c);
}

void
kms_native_init(struct kms_backend *kms, struct kms_native_config *cfg)
{
	memset(kms, 0, sizeof(*kms));
	kms->name = "native";
	kms->decrypt = native_decrypt;
	kms->native = cfg;
	/* Before the broker forks, so its children share the offset. */
	if (clock_offset_init(&cfg->clock) < 0)
		log_warn("cannot map the shared KMS clock offset: a clock "
		    "skew correction will last one call only");
}
