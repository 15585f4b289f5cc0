/*
 * exchange.c - one request out, its response in, its status read.
 */
#include "client/client_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/frame.h"

/*
 * The enclave's code and details go to a terminal sooner or later:
 * control characters are replaced, so a response cannot drive it.
 */
static void
copy_printable(char *dst, size_t size, const char *src)
{
	size_t i;

	snprintf(dst, size, "%s", src != NULL ? src : "");
	for (i = 0; dst[i] != '\0'; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = '?';
}

static int
remote_error(struct enclave_client *c, const cJSON *doc)
{
	copy_printable(c->remote_code, sizeof(c->remote_code),
	    json_string_field(doc, "msg"));
	copy_printable(c->remote_details, sizeof(c->remote_details),
	    json_string_field(doc, "details"));
	return client_set_error(c, ENCLAVE_ERR_REMOTE, "the enclave answered %s%s%s",
	    c->remote_code[0] ? c->remote_code : "an error without a code",
	    c->remote_details[0] ? ": " : "", c->remote_details);
}

/*
 * Every response is a JSON object with a string `status` (protocol.md,
 * "Messages"); "error" carries `msg` and `details`. The daemon writes
 * strict I-JSON: anything else (text after the object inside its frame,
 * two members of one name, a name holding U+0000) is not its answer.
 */
static int
parse(struct enclave_client *c, cJSON **root)
{
	struct json_verdict verdict;
	const char *status;
	char why[96];
	cJSON *doc;
	int rc;

	doc = json_parse_strict(c->resp, c->resp_len, 0, &verdict);
	if (doc == NULL) {
		json_verdict_explain(&verdict, why, sizeof(why));
		return client_set_error(c, ENCLAVE_ERR_PROTOCOL,
		    "the enclave's response is not valid JSON%s%s",
		    verdict.fault == JSON_FAULT_SYNTAX ? "" : ": ",
		    verdict.fault == JSON_FAULT_SYNTAX ? "" : why);
	}
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return client_set_error(c, ENCLAVE_ERR_PROTOCOL,
		    "the enclave's response is not one JSON object");
	}
	if ((status = json_string_field(doc, "status")) == NULL) {
		cJSON_Delete(doc);
		return client_set_error(c, ENCLAVE_ERR_PROTOCOL,
		    "the enclave's response has no string status");
	}
	if (strcmp(status, "error") == 0) {
		rc = remote_error(c, doc);
		cJSON_Delete(doc);
		return rc;
	}
	if (root != NULL)
		*root = doc;
	else
		cJSON_Delete(doc);
	return ENCLAVE_OK;
}

/* Prepend the length prefix when framing asks for one. */
static int
frame_request(struct enclave_client *c, const struct iovec *iov, int iovcnt,
    uint8_t prefix[FRAME_LENGTH_PREFIX], struct iovec *out, int *outcnt)
{
	size_t total = 0;
	int i, n = 0;

	if (iovcnt < 0 || iovcnt > CLIENT_IOV_MAX)
		return client_set_error(c, ENCLAVE_ERR_USAGE, "bad request");
	for (i = 0; i < iovcnt; i++)
		if (size_add(total, iov[i].iov_len, &total) < 0)
			return client_set_error(c, ENCLAVE_ERR_USAGE,
			    "request too large");
	if (c->opts.framing == ENCLAVE_FRAMING_LEN) {
		/* Longer, its prefix could begin with whitespace (frame.h). */
		if (total == 0 || total > FRAME_LENGTH_MAX)
			return client_set_error(c, ENCLAVE_ERR_USAGE,
			    "a length-framed request holds 1 to %zu bytes",
			    FRAME_LENGTH_MAX);
		store_u32be(prefix, (uint32_t)total);
		out[n].iov_base = prefix;
		out[n++].iov_len = FRAME_LENGTH_PREFIX;
	}
	for (i = 0; i < iovcnt; i++)
		out[n++] = iov[i];
	*outcnt = n;
	return ENCLAVE_OK;
}

/*
 * A send that fails may still have an answer behind it: the daemon
 * answers `too_large` or `busy` and closes while we are still writing.
 * That answer says more than "broken pipe", so read it if it is there.
 */
static int
answer_after_send_failure(struct enclave_client *c, long long deadline,
    cJSON **root)
{
	char why[CLIENT_ERROR_MAX];
	int rc;

	memcpy(why, c->error, sizeof(why));
	if (client_recv(c, deadline) == ENCLAVE_OK &&
	    (rc = parse(c, root)) == ENCLAVE_ERR_REMOTE) {
		enclave_client_close(c);
		return rc;
	}
	if (root != NULL && *root != NULL) {
		cJSON_Delete(*root);
		*root = NULL;
	}
	client_clear_error(c);
	return client_fail(c, ENCLAVE_ERR_IO, "%s", why);
}

int
client_exchange(struct enclave_client *c, const struct iovec *iov, int iovcnt,
    cJSON **root)
{
	struct iovec out[CLIENT_IOV_MAX + 1];
	uint8_t prefix[FRAME_LENGTH_PREFIX];
	long long deadline;
	int rc, n = 0;

	if (root != NULL)
		*root = NULL;
	client_clear_error(c);
	client_rx_reset(c);
	if (c->fd < 0)
		return client_set_error(c, ENCLAVE_ERR_IO,
		    "not connected to the enclave");
	if ((rc = frame_request(c, iov, iovcnt, prefix, out, &n)) < 0)
		return rc;
	deadline = client_deadline(c->opts.io_timeout_ms);
	rc = client_send(c, out, n, deadline);
	if (rc == ENCLAVE_ERR_IO)
		return answer_after_send_failure(c, deadline, root);
	if (rc == ENCLAVE_OK)
		rc = client_recv(c, deadline);
	if (rc == ENCLAVE_OK)
		rc = parse(c, root);
	/* Past this point the stream is out of step unless the enclave answered. */
	if (rc < 0 && rc != ENCLAVE_ERR_REMOTE)
		enclave_client_close(c);
	return rc;
}

/*
 * With raw framing the daemon finds the request's end by its braces, so
 * the text must be exactly one object: a second one would be answered
 * too, and that answer taken for the next call's.
 */
static int
check_raw_request(struct enclave_client *c, const char *req, size_t len)
{
	struct frame_scanner sc;
	struct frame fr;
	size_t i;

	frame_reset(&sc);
	if (frame_scan(&sc, (const uint8_t *)req, len, len, &fr) !=
	    FRAME_READY || fr.kind != FRAME_BARE)
		return client_set_error(c, ENCLAVE_ERR_USAGE, "with raw framing "
		    "a request must be one complete JSON object");
	for (i = fr.end; i < len; i++)
		if (!frame_is_space((uint8_t)req[i]))
			return client_set_error(c, ENCLAVE_ERR_USAGE,
			    "text after the request's JSON object");
	return ENCLAVE_OK;
}

int
enclave_call(struct enclave_client *c, const char *req, size_t req_len,
    const char **resp, size_t *resp_len)
{
	struct iovec iov;
	int rc;

	if (resp != NULL)
		*resp = NULL;
	if (resp_len != NULL)
		*resp_len = 0;
	client_clear_error(c);
	if (req == NULL)
		return client_set_error(c, ENCLAVE_ERR_USAGE, "no request");
	if (c->opts.framing == ENCLAVE_FRAMING_RAW &&
	    (rc = check_raw_request(c, req, req_len)) < 0)
		return rc;
	iov.iov_base = (void *)(uintptr_t)req;
	iov.iov_len = req_len;
	rc = client_exchange(c, &iov, 1, NULL);
	if (rc == ENCLAVE_OK || rc == ENCLAVE_ERR_REMOTE) {
		if (resp != NULL)
			*resp = c->resp;
		if (resp_len != NULL)
			*resp_len = c->resp_len;
	}
	return rc;
}
