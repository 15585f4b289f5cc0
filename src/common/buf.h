/*
 * buf.h - bounds-checked byte buffers.
 *
 * A `struct buf` owns a heap block: `len` bytes in use out of `cap`.
 * Every append checks its size against an explicit limit before it
 * allocates, so a length that came off the wire can never make us allocate
 * more than the caller allowed. A `struct slice` is a borrowed view.
 *
 * Code that fills a buffer in place (recv, SSL_read, a decoder) does not
 * write past `len` by hand: buf_tail hands out room after `len`, and
 * buf_commit adds what was written there, never more than was handed out.
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t   len;
	size_t   cap;
	size_t   tail;	/* bytes after len handed out by buf_tail, uncommitted */
};

struct slice {
	const uint8_t *data;
	size_t         len;
};

#define BUF_INIT { NULL, 0, 0, 0 }

/*
 * Make room for `extra` more bytes; fails if len + extra would pass `limit`.
 * A block that is outgrown is wiped before it is freed.
 */
int  buf_reserve(struct buf *b, size_t extra, size_t limit);
int  buf_append(struct buf *b, const void *data, size_t n, size_t limit);
int  buf_append_str(struct buf *b, const char *s, size_t limit);
int  buf_append_u32be(struct buf *b, uint32_t v, size_t limit);
/* Append printf-formatted text (no terminator counted in len). */
int  buf_printf(struct buf *b, size_t limit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * A cursor for writing in place, in the manner of s2n_stuffer_raw_write.
 * buf_tail makes room for `n` more bytes after len (within `limit`, as
 * buf_reserve) and returns where they begin, or NULL (n == 0 included).
 * The caller writes at most n bytes there, then buf_commit(b, k) makes the
 * first k of them part of the buffer; the rest stays handed out, from the
 * new end on. buf_commit refuses (-1, nothing changed) a k beyond what is
 * handed out. Any other change to the buffer takes the tail back, since it
 * may move the block.
 */
uint8_t *buf_tail(struct buf *b, size_t n, size_t limit);
int      buf_commit(struct buf *b, size_t n);
/*
 * Keep the first `n` bytes (n <= len) and drop the rest from `len` (not
 * wiped: a buffer that held a secret is wiped when freed); an open tail
 * is cancelled. Emptying a buffer to fill it again is buf_truncate(b, 0).
 */
void buf_truncate(struct buf *b, size_t n);
/* Drop the first `n` bytes, keeping the rest at the front (no copy of it
 * is left behind the new end). */
void buf_consume(struct buf *b, size_t n);
/* Give back memory beyond `keep` bytes of capacity (used after big messages). */
void buf_shrink(struct buf *b, size_t keep);
/* Free the block; wipe=1 cleanses it first (for buffers that held plaintext). */
void buf_free(struct buf *b, int wipe);
/*
 * Hand src's block, bytes and all, to dst and leave src empty: one owner
 * at a time, and no copy of the bytes made. A block dst still holds is
 * freed first, wiped (free it yourself, unwiped, when it holds no secret).
 */
void buf_move(struct buf *dst, struct buf *src);
/*
 * Make `block` b's block, b's bytes copied into it (and wiped where they
 * were: they may be unparsed input) and b's old block freed; block is left
 * empty. So a big block kept for reuse takes over without its pages
 * faulting in afresh. -1, and nothing changed, when block cannot hold
 * b's bytes.
 */
int  buf_rehome(struct buf *b, struct buf *block);
/*
 * Hand the block out to code that frees it with free() (a C string, a
 * library that takes a malloc'd body) and leave b empty; NULL when b has
 * none. Its bytes are the taker's to wipe.
 */
void *buf_release(struct buf *b);

/*
 * A read cursor over bytes someone else owns (a received message, a
 * buffer's contents): every read is checked against what is left, so a
 * length that came off the wire cannot take a read past the end. The
 * reading counterpart of buf_tail/buf_commit.
 */
struct buf_reader {
	const uint8_t *data;
	size_t         len;	/* all of it */
	size_t         pos;	/* read so far */
};
#define BUF_READER(p, n) ((struct buf_reader){ (p), (n), 0 })

/* The next n bytes, the cursor moved past them; NULL (and the cursor
 * where it was) when fewer are left. */
const uint8_t *buf_read(struct buf_reader *r, size_t n);
/* The next 4 bytes as a big-endian number: 0, or -1 when fewer are left. */
int            buf_read_u32be(struct buf_reader *r, uint32_t *v);
/* How many bytes are left to read. */
size_t         buf_read_left(const struct buf_reader *r);

/* Checked arithmetic for sizes taken from the wire. */
int  size_add(size_t a, size_t b, size_t *out);
int  size_mul(size_t a, size_t b, size_t *out);

uint32_t load_u32be(const uint8_t *p);
void     store_u32be(uint8_t *p, uint32_t v);

#endif
