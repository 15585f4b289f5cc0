/*
 * retry_backoff.c - how long the native backend waits before asking KMS
 * again after a transient failure (throttling, 5xx, a dropped connection).
 *
 * Exponential, so a throttled KMS sees fewer requests the longer it is
 * overloaded; with jitter, so enclaves throttled together do not retry
 * together. Half of each wait is fixed and half random ("equal jitter"):
 * retry 1 waits 250-500 ms, retry 2 500-1000 ms, retry 3 1-2 s. The
 * caller never waits past --kms-timeout (native.c).
 */
#include "enclave/kms/native/native_internal.h"

#include <openssl/rand.h>

unsigned
retry_backoff_ms(unsigned retry, uint32_t random)
{
	unsigned d = KMS_BACKOFF_BASE_MS, half;

	while (retry > 1 && d < KMS_BACKOFF_CAP_MS) {
		d *= 2;
		retry--;
	}
	if (d > KMS_BACKOFF_CAP_MS)
		d = KMS_BACKOFF_CAP_MS;
	half = d / 2;
	return half + random % (half + 1);
}

unsigned
retry_backoff_next_ms(unsigned retry)
{
	uint32_t r = 0;

	/* Without randomness the wait is the shortest, never none. */
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = 0;
	return retry_backoff_ms(retry, r);
}
