/*
 * memory_budget.h - one limit on the buffers of all connections together.
 *
 * --max-message bounds one request, --max-connections the number of
 * clients, but not their product: 1024 clients each sending 64 MiB would
 * ask for far more than an enclave has, and the kernel's OOM killer would
 * end every request in flight. Each connection claims what its buffers
 * hold (and, before it reads a request in, room for an answer as large);
 * a claim that would pass the limit is refused, and that request is
 * answered `busy` instead of taking the daemon down. The gateway bounds
 * its HTTP bodies the same way (503 `overloaded`).
 */
#ifndef COMMON_MEMORY_BUDGET_H
#define COMMON_MEMORY_BUDGET_H

#include <stdatomic.h>
#include <stddef.h>

struct memory_budget {
	size_t         limit;
	atomic_size_t  used;
};

void   memory_budget_init(struct memory_budget *b, size_t limit);
/* Claim `bytes`; -1 (nothing claimed) when that would pass the limit. */
int    memory_budget_claim(struct memory_budget *b, size_t bytes);
/* Claim `bytes` whatever the limit: memory already held must be counted. */
void   memory_budget_force(struct memory_budget *b, size_t bytes);
void   memory_budget_release(struct memory_budget *b, size_t bytes);
size_t memory_budget_used(struct memory_budget *b);
/* The default limit: half the machine's memory (an enclave's, inside one). */
size_t memory_budget_default(void);
/* 1/divisor of the machine's memory (1 GiB / divisor when unknown). */
size_t memory_budget_share(unsigned divisor);

#endif
