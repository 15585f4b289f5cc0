/*
 * reason.h - failing with a reason a person can read.
 *
 * The one way a function says why it failed, in every part of the tree:
 * parsers and verifiers that see untrusted bytes ("PCR0 mismatch",
 * "signature does not verify"), option and endpoint parsers, the KMS and
 * NSM clients. The caller owns a struct reason, the callee fills it with
 * reason_fail() as it returns -1 (GUARD, common/guard.h, passes the -1
 * on), and the caller prints reason.text. A reason never holds a secret.
 */
#ifndef COMMON_REASON_H
#define COMMON_REASON_H

#define REASON_MAX 256

struct reason {
	char text[REASON_MAX];	/* "" when nothing failed */
};

/* Format into r (if not NULL) and return -1, for `return reason_fail(...)`. */
int  reason_fail(struct reason *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Empty r (if not NULL). */
void reason_clear(struct reason *r);

#endif
