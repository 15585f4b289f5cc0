/*
 * clock_offset.c - KMS's clock minus ours, kept for the daemon's lifetime.
 *
 * An enclave's clock drifts (seconds a week are reported), and KMS
 * refuses a SigV4 request signed more than 5 minutes from its own time.
 * Like the AWS SDKs, native.c measures the difference from the Date header
 * of such a refusal, re-signs once, and keeps the difference so later
 * requests are signed right the first time.
 *
 * Each Decrypt runs in a fresh child of the KMS broker (broker.h), so a
 * plain variable would die with the child. The offset lives in one
 * anonymous shared page mapped before the broker forks: the broker and
 * every child it forks see the same page. Calls run at once in separate
 * children, so the value is a lock-free atomic (lock-free atomics are
 * address-free and so work across processes); each store is a whole
 * measurement, and the last one wins.
 *
 * The correction is bounded (F31): at most CLOCK_OFFSET_MAX_S either way.
 * Drift is seconds a week, and an enclave's clock starts from the
 * parent's; a Date further off than a day is not our drift but a wrong
 * answer, and taking it would do harm: `Fri, 31 Dec 9999 23:59:59 GMT`
 * left an offset after which no request could be signed (SigV4 dates
 * have four-digit years), so every later configure failed until restart.
 * Such a Date is ignored with a log line, and the kept offset stays.
 */
#include "enclave/kms/native/native_internal.h"

#include <stdatomic.h>
#include <sys/mman.h>

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
    "the shared clock offset needs lock-free 64-bit atomics");

int
clock_offset_init(struct clock_offset *co)
{
	void *page;

	if (co->at != NULL && co->at != &co->own)
		return 0;
	co->at = &co->own;
	page = mmap(NULL, sizeof(*co->at), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return -1;
	atomic_store((_Atomic long long *)page, atomic_load(&co->own));
	co->at = page;
	return 0;
}

long long
clock_offset_get(const struct clock_offset *co)
{
	return atomic_load(co->at);
}

int
clock_offset_set(const struct clock_offset *co, long long seconds)
{
	if (seconds > CLOCK_OFFSET_MAX_S || seconds < -CLOCK_OFFSET_MAX_S)
		return -1;
	atomic_store(co->at, seconds);
	return 0;
}

/*
 * Measured against our clock at the moment the answer is read; a Date
 * beyond the bound is refused before any arithmetic can overflow.
 */
int
clock_offset_correct(const struct clock_offset *co, time_t kms_date,
    long long *skew, struct reason *why)
{
	long long now = (long long)time(NULL), date = (long long)kms_date;

	if (date > now + CLOCK_OFFSET_MAX_S || date < now - CLOCK_OFFSET_MAX_S)
		return reason_fail(why, "KMS's Date is %s our clock by more "
		    "than %d s: not a clock drift, ignored",
		    date > now ? "ahead of" : "behind", CLOCK_OFFSET_MAX_S);
	*skew = date - now;
	return clock_offset_set(co, *skew);
}

time_t
clock_offset_now(const struct clock_offset *co)
{
	return time(NULL) + (time_t)atomic_load(co->at);
}
