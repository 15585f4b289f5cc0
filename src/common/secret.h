/*
 * secret.h - memory for keys and credentials.
 *
 * Secrets live on OpenSSL's secure heap: pages locked against swap
 * (mlock), excluded from core dumps (MADV_DONTDUMP), fenced by guard
 * pages, and cleansed when freed. A packaged, audited allocator beats one
 * written here. Programs that hold secrets call secret_heap_init() first;
 * without it allocation still works but memory is not locked, and
 * secret_heap_locked() says so.
 */
#ifndef COMMON_SECRET_H
#define COMMON_SECRET_H

#include <stddef.h>
#include <stdint.h>

struct secret {
	uint8_t *data;
	size_t   len;
};

#define SECRET_INIT { NULL, 0 }

/* Set up the locked heap of `size` bytes (a power of two). */
int  secret_heap_init(size_t size);
/* 1 when secrets are in locked memory. */
int  secret_heap_locked(void);

int  secret_alloc(struct secret *s, size_t len);
/* Copy `len` bytes into a fresh secret. */
int  secret_dup(struct secret *s, const void *data, size_t len);
void secret_free(struct secret *s);

/* Disable core dumps and ptrace attach for this process. */
int  process_harden(void);

#endif
