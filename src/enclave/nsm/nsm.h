/*
 * nsm.h - the Nitro Secure Module, as the enclave reaches it.
 *
 * One interface, two transports. In a Nitro Enclave the NSM is the misc
 * device /dev/nsm and a request is one raw ioctl (nsm_device.c). For tests
 * with no Nitro hardware, `unix:/path` names an NSM simulator that takes
 * the very same CBOR request bytes over a Unix socket, each message
 * prefixed by its 4-byte big-endian length, and answers the same response
 * bytes (nsm_unix.c, tests/simulators/nsm_sim.py). Everything but that last exchange
 * (building the request, parsing the response, the limits) is shared
 * (nsm.c, common/nsm_cbor.c), so tests run the enclave's own code path.
 *
 * Where there is no device, nsm_open() fails with a reason saying so
 * ("no NSM device at /dev/nsm: not running in a Nitro Enclave"); nothing
 * ever pretends to attest.
 *
 * The device and its one ioctl: nsm_device.c (Linux's drivers/misc/nsm.c);
 * the messages: common/nsm_cbor.h.
 */
#ifndef ENCLAVE_NSM_H
#define ENCLAVE_NSM_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/reason.h"

#define NSM_DEFAULT_DEVICE "/dev/nsm"
#define NSM_UNIX_PREFIX    "unix:"

struct nsm;

/* One transport: request bytes in, response bytes out. */
struct nsm_transport {
	const char *name;	/* "device" or "simulator" */
	/*
	 * Send req[0..req_len) and put the response in resp[0..*resp_len),
	 * *resp_len holding the capacity on entry. timeout_ms bounds the
	 * exchange where the transport can (the device's own limit is the
	 * driver's 120 s). -1 with a reason.
	 */
	int  (*exchange)(struct nsm *nsm, const uint8_t *req, size_t req_len,
	    uint8_t *resp, size_t *resp_len, int timeout_ms,
	    struct reason *reason);
	void (*close)(struct nsm *nsm);
};

struct nsm {
	const struct nsm_transport *t;
	int    fd;		/* the device; -1 for the simulator */
	char   path[108];	/* device path or socket path */
};

/*
 * Open the NSM named by `spec`: a device path (NSM_DEFAULT_DEVICE when
 * NULL or "") or "unix:/path" for the simulator. The device is opened at
 * once (a sandboxed caller cannot open later); the simulator's socket is
 * connected per exchange, so only its path is checked here. NULL with a
 * reason when the device is absent or unusable.
 */
struct nsm *nsm_open(const char *spec, struct reason *reason);
void        nsm_close(struct nsm *nsm);
/* 1 when `spec` names the simulator ("unix:..."). */
int         nsm_spec_is_simulator(const char *spec);

/*
 * An attestation document (raw COSE_Sign1 bytes, appended to `doc`)
 * binding the optional user_data, nonce and public_key (NULL: null).
 * -1 with a reason: the transport's, or the NSM's own error code.
 */
int nsm_get_attestation(struct nsm *nsm, const struct slice *user_data,
    const struct slice *nonce, const struct slice *public_key, int timeout_ms,
    struct buf *doc, struct reason *reason);

/* The two transports (nsm.c picks one from the spec). */
struct nsm *nsm_device_open(const char *path, struct reason *reason);
struct nsm *nsm_unix_open(const char *path, struct reason *reason);

#endif
