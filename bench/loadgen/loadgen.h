/*
 * loadgen.h - what the load generator's commands share (options.c), and
 * the stream command (stream.c) that loadgen.c's main dispatches to.
 */
#ifndef BENCH_LOADGEN_H
#define BENCH_LOADGEN_H

#include <stdint.h>

#include "common/aead.h"
#include "common/endpoint.h"

/* Print "loadgen: WHAT" and exit 2: a usage or setup error. */
__attribute__((noreturn)) void die(const char *what);
long long now_ns(void);
/* The key as kmstool-dev prints it (base64) or as 64 hex digits. */
void      load_key(const char *path, uint8_t key[AEAD_KEY_LEN]);
/* vsock:CID:PORT or tcp:HOST:PORT (unix: too, for stream). */
void      parse_endpoint(const char *text, struct endpoint *ep);
/* A whole number by the common rule (common/number.h), or die naming it. */
uint64_t  parse_count(const char *option, const char *text, uint64_t min,
    uint64_t max);
/* "raw" (bare JSON) or "len" (4-byte big-endian length): 1 for len. */
int       parse_framing(const char *text);

/* What both commands take: --connect, --key-file, --framing, --label. */
struct common_opts {
	const char *connect_to;
	const char *key_file;
	const char *label;
	int         framing_len;	/* parse_framing */
};

#define COMMON_LONGOPTS							\
	{ "connect", required_argument, NULL, 'c' },			\
	{ "key-file", required_argument, NULL, 'k' },			\
	{ "framing", required_argument, NULL, 'f' },			\
	{ "label", required_argument, NULL, 'l' }

/* ch, one of COMMON_LONGOPTS's letters, into co: 1; 0 for any other ch. */
int       common_option(int ch, const char *arg, struct common_opts *co);

/* loadgen stream ...: one process request of an exact size (stream.c). */
int       stream_main(int argc, char **argv);

#endif
