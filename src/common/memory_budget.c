/*
 * memory_budget.c - one limit on all connections' buffers (see the header).
 */
#include "common/memory_budget.h"

#include <unistd.h>

void
memory_budget_init(struct memory_budget *b, size_t limit)
{
	b->limit = limit;
	atomic_init(&b->used, 0);
}

/* Compare-and-swap: two workers claiming at once cannot both slip past. */
int
memory_budget_claim(struct memory_budget *b, size_t bytes)
{
	size_t used = atomic_load(&b->used);

	do {
		if (bytes > b->limit || used > b->limit - bytes)
			return -1;
	} while (!atomic_compare_exchange_weak(&b->used, &used, used + bytes));
	return 0;
}

void
memory_budget_force(struct memory_budget *b, size_t bytes)
{
	atomic_fetch_add(&b->used, bytes);
}

void
memory_budget_release(struct memory_budget *b, size_t bytes)
{
	atomic_fetch_sub(&b->used, bytes);
}

size_t
memory_budget_used(struct memory_budget *b)
{
	return atomic_load(&b->used);
}

/* _SC_PHYS_PAGES x page size is /proc/meminfo's MemTotal. */
size_t
memory_budget_share(unsigned divisor)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

	if (divisor == 0)
		divisor = 1;
	if (pages <= 0 || size <= 0)
		return ((size_t)1 << 30) / divisor;
	return (size_t)pages / divisor * (size_t)size;
}

size_t
memory_budget_default(void)
{
	return memory_budget_share(2);
}
