/*
 * guard.h - one way to check every call.
 *
 * Functions in this project return 0 on success and -1 on failure (pointers:
 * NULL on failure). GUARD() propagates a failure to the caller, so a
 * function body reads as the happy path while no error goes unchecked.
 */
#ifndef COMMON_GUARD_H
#define COMMON_GUARD_H

#define GUARD(expr)                                                     \
	do {                                                            \
		if ((expr) < 0)                                         \
			return -1;                                      \
	} while (0)

#define GUARD_PTR(expr)                                                 \
	do {                                                            \
		if ((expr) == NULL)                                     \
			return -1;                                      \
	} while (0)

/* Like GUARD, but jumps to a cleanup label instead of returning. */
#define GUARD_GOTO(expr, label)                                         \
	do {                                                            \
		if ((expr) < 0)                                         \
			goto label;                                     \
	} while (0)

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
