/*
 * frame.h - where one protocol message ends (spec: protocol.md, "Framing").
 *
 * A connection carries messages back to back. Whitespace before a message
 * is skipped; then its first byte picks the framing:
 *   '{'        a bare JSON object, ending at its matching '}' (braces inside
 *              strings and escaped quotes do not count);
 *   otherwise  a 4-byte big-endian length N, then N bytes of JSON.
 *
 * So a length prefix must not begin with a byte that is whitespace or
 * '{', or its message would be read as something else: 20 00 00 00 (a
 * 512 MiB message) is a space, then a prefix made of the body's first
 * bytes. The lengths whose first byte is neither, counting up from 0, end
 * at 0x08ffffff: FRAME_LENGTH_MAX is the largest message the length
 * framing can carry, whatever limit the caller asks for.
 *
 * The scanner is incremental: feed it the unconsumed bytes of a connection
 * as often as more arrive, and it resumes where it stopped, so a message
 * trickling in byte by byte costs linear time, not quadratic. Both the
 * daemon (requests) and the client (responses) use it.
 *
 * Calling contract: after every call the caller drops `skip` bytes from the
 * front of its buffer (leading whitespace), whatever the result. On
 * FRAME_READY the message is data[skip + offset .. + len) and the caller
 * drops `end` - `skip` more bytes after handling it, then frame_reset().
 */
#ifndef COMMON_FRAME_H
#define COMMON_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum frame_kind { FRAME_NONE, FRAME_BARE, FRAME_LENGTH };

enum frame_result {
	FRAME_NEED_MORE,	/* no complete message yet */
	FRAME_READY,		/* one complete message */
	FRAME_TOO_LARGE,	/* the message passes the limit: close */
};

struct frame_scanner {
	enum frame_kind kind;	/* FRAME_NONE until the first byte */
	size_t          scanned;	/* bytes of the message examined */
	size_t          depth;	/* bare: brace nesting */
	size_t          backslashes;	/* bare: run of '\' ending the scan */
	int             in_string;	/* bare: inside a JSON string */
};

struct frame {
	enum frame_kind kind;
	size_t          skip;	/* leading whitespace to drop (always valid) */
	size_t          offset;	/* message start, counted after `skip` */
	size_t          len;	/* message length (the JSON bytes) */
	size_t          end;	/* bytes the whole message occupies, with skip */
};

#define FRAME_LENGTH_PREFIX 4
/* The first whitespace byte, tab (0x09), cannot begin a prefix: < 144 MiB. */
#define FRAME_LENGTH_MAX    ((size_t)0x09000000 - 1)

void frame_reset(struct frame_scanner *sc);
enum frame_result frame_scan(struct frame_scanner *sc, const uint8_t *data,
    size_t len, size_t max_message, struct frame *out);

/* The whitespace the protocol skips between messages: space, tab, CR, LF. */
int  frame_is_space(uint8_t c);

#endif
