/*
 * buf.c - bounds-checked byte buffers (see buf.h).
 */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>

#include "common/guard.h"

int
size_add(size_t a, size_t b, size_t *out)
{
	if (a > SIZE_MAX - b)
		return -1;
	*out = a + b;
	return 0;
}

int
size_mul(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a)
		return -1;
	*out = a * b;
	return 0;
}

/* From this size on, a buffer is laid out in transparent huge pages. */
#define BUF_HUGE_MIN ((size_t)2 << 20)

/*
 * A 16 MiB request touches 64 MiB of fresh buffers. In 4 KiB pages that is
 * 16,384 page faults, and on a virtual machine a fault can cost 10 us: 170
 * ms before the first byte is decoded. In 2 MiB pages it is 32 faults. The
 * kernel only uses a huge page for an aligned 2 MiB range that nothing has
 * touched yet, so a big block is aligned and advised before its first byte
 * is written (realloc would move the old pages along, 4 KiB ones). Advice
 * only: where THP is off, this is an ordinary aligned allocation.
 *
 * The old block is wiped before it is freed: a buffer may hold a
 * configure's credentials or a step's plaintext, and a copy left in freed
 * memory is a copy all the same (docs/security.md, F10). So no realloc,
 * which may move the bytes and free the old block unwiped.
 */
static uint8_t *
grow_block(uint8_t *old, size_t len, size_t cap)
{
	void *p;

	if (cap < BUF_HUGE_MIN) {
		if ((p = malloc(cap)) == NULL)
			return NULL;
	} else {
		if (posix_memalign(&p, BUF_HUGE_MIN, cap) != 0)
			return NULL;
		(void)madvise(p, cap & ~(BUF_HUGE_MIN - 1), MADV_HUGEPAGE);
	}
	if (len > 0) {
		memcpy(p, old, len);
		OPENSSL_cleanse(old, len);
	}
	free(old);
	return p;
}

/*
 * Grow geometrically so that appending byte by byte stays linear, but never
 * past the caller's limit: the limit is the contract, not a hint.
 */
int
buf_reserve(struct buf *b, size_t extra, size_t limit)
{
	size_t need, cap;
	uint8_t *p;

	b->tail = 0;
	GUARD(size_add(b->len, extra, &need));
	if (need > limit)
		return -1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > limit)
		cap = limit;
	GUARD_PTR(p = grow_block(b->data, b->len, cap));
	b->data = p;
	b->cap = cap;
	return 0;
}

/*
 * The tail is counted apart from cap - len: growth is geometric, so the
 * block usually has more room than was asked for, and a commit into that
 * room would add bytes nobody wrote.
 */
uint8_t *
buf_tail(struct buf *b, size_t n, size_t limit)
{
	if (n == 0 || buf_reserve(b, n, limit) < 0)
		return NULL;
	b->tail = n;
	return b->data + b->len;
}

int
buf_commit(struct buf *b, size_t n)
{
	if (n > b->tail || n > b->cap - b->len)
		return -1;
	b->len += n;
	b->tail -= n;
	return 0;
}

int
buf_append(struct buf *b, const void *data, size_t n, size_t limit)
{
	GUARD(buf_reserve(b, n, limit));
	if (n > 0)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	return 0;
}

int
buf_append_str(struct buf *b, const char *s, size_t limit)
{
	return buf_append(b, s, strlen(s), limit);
}

int
buf_append_u32be(struct buf *b, uint32_t v, size_t limit)
{
	uint8_t be[4];

	store_u32be(be, v);
	return buf_append(b, be, sizeof(be), limit);
}

int
buf_printf(struct buf *b, size_t limit, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	uint8_t *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	/* Room for vsnprintf's terminator, which len then leaves out. */
	GUARD(size_add(limit, 1, &room));
	GUARD_PTR(p = buf_tail(b, (size_t)n + 1, room));
	va_start(ap, fmt);
	vsnprintf((char *)p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return buf_commit(b, (size_t)n);
}

/*
 * The move leaves the last n bytes of the old contents behind, past the
 * new end: a copy of what is kept (the next message, perhaps a configure),
 * so they are wiped (F10).
 */
void
buf_truncate(struct buf *b, size_t n)
{
	b->tail = 0;
	if (n < b->len)
		b->len = n;
}

void
buf_consume(struct buf *b, size_t n)
{
	b->tail = 0;
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	OPENSSL_cleanse(b->data + b->len - n, n);
	b->len -= n;
}

void
buf_shrink(struct buf *b, size_t keep)
{
	uint8_t *p;

	if (b->cap <= keep || b->len > keep)
		return;
	b->tail = 0;
	if (keep == 0) {
		free(b->data);
		b->data = NULL;
		b->cap = 0;
		return;
	}
	if ((p = realloc(b->data, keep)) != NULL) {
		b->data = p;
		b->cap = keep;
	}
}

void
buf_free(struct buf *b, int wipe)
{
	if (b->data != NULL && wipe)
		OPENSSL_cleanse(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = b->tail = 0;
}

void
buf_move(struct buf *dst, struct buf *src)
{
	if (dst == src)
		return;
	buf_free(dst, 1);
	dst->data = src->data;
	dst->len = src->len;
	dst->cap = src->cap;
	/* Like any other change, a move takes an open tail back. */
	src->data = NULL;
	src->len = src->cap = src->tail = 0;
}

int
buf_rehome(struct buf *b, struct buf *block)
{
	if (block == b || block->cap < b->len)
		return -1;
	if (b->len > 0) {
		memcpy(block->data, b->data, b->len);
		OPENSSL_cleanse(b->data, b->len);
	}
	block->len = b->len;
	buf_free(b, 0);
	buf_move(b, block);
	return 0;
}

void *
buf_release(struct buf *b)
{
	void *block = b->data;

	b->data = NULL;
	b->len = b->cap = b->tail = 0;
	return block;
}

uint32_t
load_u32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void
store_u32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

const uint8_t *
buf_read(struct buf_reader *r, size_t n)
{
	const uint8_t *p;

	if (n > r->len - r->pos)
		return NULL;
	p = r->data + r->pos;
	r->pos += n;
	return p;
}

int
buf_read_u32be(struct buf_reader *r, uint32_t *v)
{
	const uint8_t *p = buf_read(r, 4);

	if (p == NULL)
		return -1;
	*v = load_u32be(p);
	return 0;
}

size_t
buf_read_left(const struct buf_reader *r)
{
	return r->len - r->pos;
}
