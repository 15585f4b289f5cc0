/*
 * enclaveclient/client.h - the protocol client library (libenclaveclient).
 *
 * Talks protocol v1 (docs/protocol.md) to an enclaved:
 * connect to an endpoint, then any number of requests on that connection,
 * one at a time, each answered before the next is sent. enclavectl and the
 * gateway both use it; nothing else on the host knows the wire.
 *
 *	struct enclave_client_options o;
 *	struct enclave_client *c;
 *	char *result;
 *	size_t result_len;
 *
 *	enclave_client_options_init(&o);
 *	o.framing = ENCLAVE_FRAMING_LEN;
 *	if ((c = enclave_client_new(&o)) == NULL)
 *		...;
 *	if (enclave_client_connect(c, "vsock:16:5000") < 0 ||
 *	    enclave_process(c, hex, hex_len, NULL, &result, &result_len) < 0)
 *		fprintf(stderr, "%s\n", enclave_client_error(c));
 *	...
 *	enclave_free(result);
 *	enclave_client_free(c);
 *
 * Return values. Every call returns ENCLAVE_OK (0) or one of the negative
 * enum enclave_status values below, so `< 0` means failure and the
 * project's GUARD() works on them. enclave_client_error() describes the
 * last failure in a sentence; after ENCLAVE_ERR_REMOTE the enclave's own
 * `msg` code and `details` are in enclave_client_remote_code() and
 * enclave_client_remote_details().
 *
 * The connection. ENCLAVE_ERR_IO, ENCLAVE_ERR_TIMEOUT and
 * ENCLAVE_ERR_PROTOCOL leave the stream in an unknown state, so the client
 * closes it; later calls fail with ENCLAVE_ERR_IO until
 * enclave_client_reconnect() (or _connect) succeeds. ENCLAVE_ERR_REMOTE
 * keeps the connection: the enclave answered and is ready for the next
 * request (it closes by itself after `too_large` and `busy`; the next call
 * then sees ENCLAVE_ERR_IO).
 *
 * Threads. A client is one connection and must not be used by two
 * threads at once; separate clients are independent.
 *
 * Secrets. Credentials passed to enclave_configure() are copied only into
 * the request buffer, which is wiped (OPENSSL_cleanse) once sent. No call
 * writes anything to stderr or a log.
 */
#ifndef ENCLAVECLIENT_CLIENT_H
#define ENCLAVECLIENT_CLIENT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum enclave_status {
	ENCLAVE_OK             =  0,
	ENCLAVE_ERR_USAGE      = -1,	/* bad argument or endpoint string */
	ENCLAVE_ERR_CONNECT    = -2,	/* could not connect */
	ENCLAVE_ERR_IO         = -3,	/* connection broken, closed, or absent */
	ENCLAVE_ERR_TIMEOUT    = -4,	/* connect or I/O timeout */
	ENCLAVE_ERR_PROTOCOL   = -5,	/* the response is not protocol v1 */
	ENCLAVE_ERR_REMOTE     = -6,	/* the enclave answered status "error" */
	ENCLAVE_ERR_NOMEM      = -7,	/* out of memory */
};

enum enclave_framing {
	ENCLAVE_FRAMING_RAW,	/* bare JSON; responses end with "\n" */
	ENCLAVE_FRAMING_LEN,	/* 4-byte big-endian length, both ways */
};

#define ENCLAVE_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define ENCLAVE_DEFAULT_IO_TIMEOUT_MS      60000
#define ENCLAVE_DEFAULT_MAX_RESPONSE       ((size_t)128 << 20)
/* The most a length prefix can say; a daemon answers far less (144 MiB). */
#define ENCLAVE_MAX_RESPONSE_CEILING       ((size_t)0xffffffffu)

struct enclave_client_options {
	enum enclave_framing framing;	/* default ENCLAVE_FRAMING_RAW */
	int    connect_timeout_ms;	/* default 10 s; <= 0: the kernel's own */
	/*
	 * The whole of one call (sending the request and receiving its
	 * response) must finish within this; <= 0 waits forever. Default
	 * 60 s: longer than the daemon's default KMS timeout (30 s), so a
	 * slow configure is answered rather than abandoned.
	 */
	int    io_timeout_ms;
	/* Largest response accepted (the JSON bytes); default 128 MiB, at
	 * most ENCLAVE_MAX_RESPONSE_CEILING (a larger value means that). */
	size_t max_response;
};

/* A credential set for configure; all three are required and non-empty. */
struct enclave_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;
};

struct enclave_client;

/* Fill in the defaults above. */
void enclave_client_options_init(struct enclave_client_options *opts);

/* A new, unconnected client (opts NULL: defaults). NULL when out of memory. */
struct enclave_client *enclave_client_new(const struct enclave_client_options *opts);
/* Close the connection, if any, and free the client. NULL is allowed. */
void enclave_client_free(struct enclave_client *c);

/*
 * Connect to `endpoint`: vsock:CID:PORT, tcp:HOST:PORT or unix:PATH
 * (a previous connection is closed first). ENCLAVE_ERR_USAGE for a
 * malformed endpoint, ENCLAVE_ERR_TIMEOUT past the connect timeout,
 * ENCLAVE_ERR_CONNECT otherwise.
 */
int  enclave_client_connect(struct enclave_client *c, const char *endpoint);
/* Connect again to the endpoint of the last enclave_client_connect(). */
int  enclave_client_reconnect(struct enclave_client *c);
/*
 * Use an already connected stream socket (the client owns it from now on
 * and closes it). For tests and for callers that connect by themselves.
 */
int  enclave_client_attach_fd(struct enclave_client *c, int fd);
/* Close the connection; the client stays usable for a reconnect. */
void enclave_client_close(struct enclave_client *c);
/* 1 while the client holds a connection. */
int  enclave_client_connected(const struct enclave_client *c);

/*
 * Send one request (a JSON object as text; with raw framing its first
 * non-whitespace byte must be `{`) and receive its response. On
 * ENCLAVE_OK and on ENCLAVE_ERR_REMOTE *resp points at the response
 * JSON text (NUL-terminated, *resp_len bytes; resp_len may be NULL),
 * owned by the client and valid until its next call. The response must be
 * a JSON object with a string `status`; "error" gives ENCLAVE_ERR_REMOTE,
 * any other status ENCLAVE_OK.
 */
int  enclave_call(struct enclave_client *c, const char *req, size_t req_len,
    const char **resp, size_t *resp_len);

/* {"type":"ping"}: ENCLAVE_OK when the enclave answers status "ok". */
int  enclave_ping(struct enclave_client *c);

/*
 * {"type":"health"}: ENCLAVE_OK when the enclave answers any status but
 * "error"; *json (may be NULL) as in enclave_call().
 */
int  enclave_health(struct enclave_client *c, const char **json,
    size_t *json_len);

/*
 * {"type":"configure", ...}: hand the enclave the KMS-encrypted TSK
 * (base64) and the credentials it asks KMS with; region may be NULL (the
 * daemon's default). ENCLAVE_OK when the enclave answers status "ok".
 * The request, which holds the credentials, is wiped once sent.
 */
int  enclave_configure(struct enclave_client *c, const char *encrypted_tsk,
    const struct enclave_credentials *creds, const char *region);

/* What enclave_configure_ex() adds to a configure; zero means absent. */
struct enclave_configure_options {
	const char *region;	/* NULL: the daemon's default */
	const char *key_id;	/* NULL: the daemon's "default" */
	/*
	 * The KMS encryption context the TSK was made with:
	 * context_len pairs context_keys[i] = context_values[i].
	 */
	const char *const *context_keys;
	const char *const *context_values;
	size_t      context_len;
	/*
	 * The KMS key the TSK is from (a key ARN or key id), sent as
	 * kms_key_id: KMS's Decrypt then names it; an enclave pinned with
	 * --kms-key-id accepts only its pins. NULL: the enclave's only pin,
	 * or none.
	 */
	const char *kms_key_id;
};

/*
 * enclave_configure() with a key id and an encryption context (options
 * may be NULL). The key id names the key for process and forget: 1 to 64
 * characters from A-Z a-z 0-9 . _ -, checked by the enclave.
 */
int  enclave_configure_ex(struct enclave_client *c, const char *encrypted_tsk,
    const struct enclave_credentials *creds,
    const struct enclave_configure_options *options);

/* {"type":"forget","key_id":ID}: ENCLAVE_OK when the key is gone. */
int  enclave_forget(struct enclave_client *c, const char *key_id);

/*
 * {"type":"process","ciphertext":hex[,"aad":aad]}: hex_len characters of
 * ciphertext (nonce || ct || tag in hex) and an optional aad (NULL or ""
 * for none). On ENCLAVE_OK *result is the result hex, NUL-terminated,
 * *result_len characters, to be freed with enclave_free(). The request
 * is written around the caller's hex, never copied through a JSON
 * library; text that is not hex is escaped and left for the enclave to
 * refuse (`invalid_hex`).
 */
int  enclave_process(struct enclave_client *c, const char *hex, size_t hex_len,
    const char *aad, char **result, size_t *result_len);

/* What enclave_process_ex() adds to a process; NULL or "" means absent. */
struct enclave_process_options {
	const char *aad;
	const char *key_id;		/* opens the ciphertext (default: the
					   key configured last) */
	const char *result_key_id;	/* seals the result (default: key_id) */
	const char *grant;		/* hex: the input key holder's permission
					   to seal under another key (enclavectl
					   grant; docs/protocol.md) */
};

/* enclave_process() naming the keys (options may be NULL). */
int  enclave_process_ex(struct enclave_client *c, const char *hex,
    size_t hex_len, const struct enclave_process_options *options,
    char **result, size_t *result_len);

/*
 * {"type":"attest","nonce":hex[,"user_data":hex]}: a fresh attestation
 * document (base64 of a COSE_Sign1) from the enclave's NSM, binding the
 * nonce (hex of 1..512 bytes) and the optional user_data (NULL or "" for
 * none). On ENCLAVE_OK *document_b64 is NUL-terminated, *document_len
 * characters (may be NULL), to be freed with enclave_free(). The document
 * is not verified here: verify/attestation.h does that (enclavectl attest
 * --verify). Without an NSM the enclave answers ENCLAVE_ERR_REMOTE with
 * code "attestation_unavailable".
 */
int  enclave_attest(struct enclave_client *c, const char *nonce_hex,
    const char *user_data_hex, char **document_b64, size_t *document_len);

/* Free memory this library returned (a process result). NULL is allowed. */
void enclave_free(void *p);

/* The last response's JSON text (NULL before any), as in enclave_call(). */
const char *enclave_client_response(const struct enclave_client *c,
    size_t *len);

/* A sentence about the last failure ("" after success). Never a secret. */
const char *enclave_client_error(const struct enclave_client *c);
/* After ENCLAVE_ERR_REMOTE: the enclave's `msg` code, e.g. "not_configured". */
const char *enclave_client_remote_code(const struct enclave_client *c);
/* After ENCLAVE_ERR_REMOTE: the enclave's `details` ("" when absent). */
const char *enclave_client_remote_details(const struct enclave_client *c);

/* A short name for a status: "ok", "connect failed", "timeout", ... */
const char *enclave_strerror(int status);

#ifdef __cplusplus
}
#endif

#endif
