/*
 * secret.c - locked, wiped memory for secrets (see secret.h).
 */
#include "common/secret.h"

#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <openssl/crypto.h>

#include "common/guard.h"

static int heap_locked;

int
secret_heap_init(size_t size)
{
	int rc;

	if (CRYPTO_secure_malloc_initialized()) {
		heap_locked = 1;
		return 0;
	}
	/* 1: fully set up; 2: set up, but mlock or madvise failed. */
	rc = CRYPTO_secure_malloc_init(size, 16);
	if (rc == 0)
		return -1;
	heap_locked = rc == 1;
	return 0;
}

int
secret_heap_locked(void)
{
	return heap_locked;
}

int
secret_alloc(struct secret *s, size_t len)
{
	s->data = OPENSSL_secure_zalloc(len ? len : 1);
	if (s->data == NULL) {
		s->len = 0;
		return -1;
	}
	s->len = len;
	return 0;
}

int
secret_dup(struct secret *s, const void *data, size_t len)
{
	GUARD(secret_alloc(s, len));
	memcpy(s->data, data, len);
	return 0;
}

void
secret_free(struct secret *s)
{
	if (s->data != NULL)
		OPENSSL_secure_clear_free(s->data, s->len ? s->len : 1);
	s->data = NULL;
	s->len = 0;
}

/*
 * A core file or a debugger attached to this process would show every key
 * it holds. RLIMIT_CORE = 0 stops the kernel writing cores; not dumpable
 * also refuses ptrace from same-uid processes and hides /proc/PID/mem.
 */
int
process_harden(void)
{
	struct rlimit none = { 0, 0 };

	GUARD(setrlimit(RLIMIT_CORE, &none));
	GUARD(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
	return 0;
}
