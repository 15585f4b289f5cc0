/*
 * nsm_device.c - the real NSM: /dev/nsm and its one raw ioctl.
 *
 * Linux include/uapi/linux/nsm.h (mainline since 6.8):
 *   struct nsm_iovec { __u64 addr; __u64 len; };
 *   struct nsm_raw { struct nsm_iovec request; struct nsm_iovec response; };
 *   NSM_IOCTL_RAW = _IOWR(0x0A, 0x00, struct nsm_raw) = 0xC0200A00
 * The response iovec's len goes in as the buffer's capacity and comes back
 * as the length used (the driver truncates silently, so the caller hands a
 * full 0x3000-byte buffer). NSM-level errors arrive with ioctl success,
 * inside the CBOR.
 */
#include "enclave/nsm/nsm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/nsm_cbor.h"

struct nsm_iovec_raw {
	uint64_t addr;
	uint64_t len;
};

struct nsm_raw {
	struct nsm_iovec_raw request;
	struct nsm_iovec_raw response;
};

#define NSM_IOCTL_RAW 0xC0200A00UL

_Static_assert(sizeof(struct nsm_raw) == 32, "struct nsm_raw is 32 bytes");
_Static_assert(NSM_IOCTL_RAW == ((3UL << 30) | (sizeof(struct nsm_raw) << 16) |
    (0x0AUL << 8) | 0x00UL), "NSM_IOCTL_RAW = _IOWR(0x0A, 0, struct nsm_raw)");

static int
device_exchange(struct nsm *nsm, const uint8_t *req, size_t req_len,
    uint8_t *resp, size_t *resp_len, int timeout_ms, struct reason *reason)
{
	struct nsm_raw raw;
	int rc;

	(void)timeout_ms;	/* the driver's own: 120 s */
	if (req_len > NSM_REQUEST_MAX) {
		reason_fail(reason, "NSM request of %zu bytes is over "
		    "the driver's %d", req_len, NSM_REQUEST_MAX);
		return -1;
	}
	memset(&raw, 0, sizeof(raw));
	raw.request.addr = (uint64_t)(uintptr_t)req;
	raw.request.len = req_len;
	raw.response.addr = (uint64_t)(uintptr_t)resp;
	raw.response.len = *resp_len;
	do {
		rc = ioctl(nsm->fd, NSM_IOCTL_RAW, &raw);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		reason_fail(reason, "NSM ioctl on %s failed: %s",
		    nsm->path, strerror(errno));
		return -1;
	}
	if (raw.response.len == 0 || raw.response.len > *resp_len) {
		reason_fail(reason, "NSM ioctl on %s returned a "
		    "%llu-byte response", nsm->path,
		    (unsigned long long)raw.response.len);
		return -1;
	}
	*resp_len = (size_t)raw.response.len;
	return 0;
}

static void
device_close(struct nsm *nsm)
{
	if (nsm->fd >= 0)
		close(nsm->fd);
	free(nsm);
}

static const struct nsm_transport device_transport = {
	.name = "device",
	.exchange = device_exchange,
	.close = device_close,
};

struct nsm *
nsm_device_open(const char *path, struct reason *reason)
{
	struct nsm *nsm;
	int fd;

	if (strlen(path) >= sizeof(nsm->path)) {
		reason_fail(reason, "NSM device path is too long");
		return NULL;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			reason_fail(reason, "no NSM device at %s: not "
			    "running in a Nitro Enclave", path);
		else
			reason_fail(reason, "cannot open the NSM "
			    "device %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((nsm = calloc(1, sizeof(*nsm))) == NULL) {
		close(fd);
		reason_fail(reason, "out of memory");
		return NULL;
	}
	nsm->t = &device_transport;
	nsm->fd = fd;
	snprintf(nsm->path, sizeof(nsm->path), "%s", path);
	return nsm;
}
