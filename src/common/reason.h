/*
 * reason.h - failing with a reason a person can read.
 *
 * Parsers and verifiers that see untrusted bytes say why they refused them
 * ("PCR0 mismatch", "signature does not verify") into a caller's buffer.
 */
#ifndef COMMON_REASON_H
#define COMMON_REASON_H

#include <stddef.h>

/* Format into reason (if not NULL) and return -1, for `return fail(...)`. */
int reason_fail(char *reason, size_t reason_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
