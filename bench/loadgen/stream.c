/*
 * stream.c - `loadgen stream`: one process request of an exact size,
 * made and checked on the fly.
 *
 *   loadgen stream --connect EP --key-file F --request-bytes N
 *       [--framing raw|len] [--trickle BYTES:MS] [--expect ok|too_large]
 *       [--label NAME]
 *
 * The request is {"type":"process","ciphertext":"HEX"}, exactly N bytes of
 * JSON (a space after the brace when the hex would otherwise be one
 * character short), so a test can send precisely the daemon's
 * --max-message, or one byte more (the 4-byte prefix of --framing len is
 * not counted, as in docs/protocol.md).
 *
 * Neither the request nor the answer is ever held whole. The plaintext
 * comes from a seeded generator and is sealed (AES-256-GCM through
 * OpenSSL's streaming EVP calls) and hex-encoded 64 KiB at a time as it is
 * sent; the answer is hex-decoded, decrypted and compared with the same
 * generator as it arrives, and its tag verified at the end. The client
 * stays under a megabyte, so in the box (client and daemon in one 256 MiB
 * guest, docs/box.md) a maximum-size message costs the daemon's memory
 * alone, as on Nitro where the client is on the parent.
 *
 * --trickle BYTES:MS sends the request BYTES at a time, MS milliseconds
 * apart: a slow client, which must not hold up anyone else.
 *
 * Prints one `RESULT key=value ...` line and exits 0 when the answer is
 * what --expect asks for (ok, the default: it decrypts to the plaintext
 * sent, under a nonce other than the request's; too_large: that error),
 * 1 when it is not, 2 on a usage or setup error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "loadgen.h"
#include "common/hex.h"
#include "common/number.h"
#include "common/wire_error.h"

#define CHUNK           (64 * 1024)	/* plaintext bytes per step */
#define ANSWER_TIMEOUT_S 120		/* TCG in the box is slow */

static const char req_head[] = "{\"type\":\"process\",\"ciphertext\":\"";
static const char req_tail[] = "\"}";
static const char ok_head[] = "{\"status\":\"ok\",\"result\":\"";

struct stream_opts {
	struct common_opts common;
	struct endpoint ep;
	uint8_t    key[AEAD_KEY_LEN];
	size_t     request_bytes;
	size_t     trickle_bytes;
	unsigned   trickle_ms;
	int        expect_too_large;
};

/* xorshift64*: the plaintext, regenerated from the seed to check it. */
struct gen {
	uint64_t s;
};

static void
gen_fill(struct gen *g, uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i % 8 == 0) {
			g->s ^= g->s >> 12;
			g->s ^= g->s << 25;
			g->s ^= g->s >> 27;
		}
		p[i] = (uint8_t)((g->s * 2685821657736338717ULL) >> (8 * (i % 8)));
	}
}

/* The sending side: a socket, optionally paced. */
struct out {
	int    fd;
	size_t trickle_bytes;
	unsigned trickle_ms;
	int    failed;	/* errno of the first failed send, 0 if none */
};

static void
out_write(struct out *o, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0 && o->failed == 0) {
		size_t piece = o->trickle_bytes ? o->trickle_bytes : n;
		ssize_t got;

		if (piece > n)
			piece = n;
		got = send(o->fd, p, piece, MSG_NOSIGNAL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			o->failed = errno;
			return;
		}
		p += got;
		n -= (size_t)got;
		if (o->trickle_bytes && n > 0) {
			struct timespec ts = { o->trickle_ms / 1000,
			    (long)(o->trickle_ms % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
}

/* How many plaintext bytes make a request of exactly `total` JSON bytes. */
static int
plaintext_for(size_t total, size_t *pt_len, int *pad)
{
	size_t fixed = sizeof(req_head) - 1 + sizeof(req_tail) - 1;
	size_t hex;

	if (total < fixed + 2 * AEAD_OVERHEAD)
		return -1;
	hex = total - fixed;
	*pad = (int)(hex % 2);
	hex -= (size_t)*pad;
	*pt_len = hex / 2 - AEAD_OVERHEAD;
	return 0;
}

static void
hex_send(struct out *o, const uint8_t *p, size_t n, char *scratch)
{
	hex_encode(scratch, p, n);
	out_write(o, scratch, 2 * n);
}

/* Seal and send the whole request; the nonce is kept to compare. */
static int
send_request(struct out *o, const struct stream_opts *so, uint64_t seed,
    size_t pt_len, int pad, uint8_t nonce[AEAD_NONCE_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t *pt = malloc(CHUNK), *ct = malloc(CHUNK + 32);
	char *hex = malloc(2 * (CHUNK + 32));
	uint8_t tag[AEAD_TAG_LEN];
	struct gen g = { seed };
	size_t left = pt_len;
	int n, rc = -1;

	if (ctx == NULL || pt == NULL || ct == NULL || hex == NULL)
		die("out of memory");
	if (RAND_bytes(nonce, AEAD_NONCE_LEN) != 1 ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, so->key,
	    nonce) != 1)
		goto out;
	if (so->common.framing_len) {
		uint8_t be[4] = { (uint8_t)(so->request_bytes >> 24),
		    (uint8_t)(so->request_bytes >> 16),
		    (uint8_t)(so->request_bytes >> 8),
		    (uint8_t)so->request_bytes };

		out_write(o, be, sizeof(be));
	}
	if (pad) {
		out_write(o, "{ ", 2);
		out_write(o, req_head + 1, sizeof(req_head) - 2);
	} else {
		out_write(o, req_head, sizeof(req_head) - 1);
	}
	hex_send(o, nonce, AEAD_NONCE_LEN, hex);
	while (left > 0 && o->failed == 0) {
		size_t step = left < CHUNK ? left : CHUNK;

		gen_fill(&g, pt, step);
		if (EVP_EncryptUpdate(ctx, ct, &n, pt, (int)step) != 1)
			goto out;
		hex_send(o, ct, (size_t)n, hex);
		left -= step;
	}
	if (o->failed == 0) {
		if (EVP_EncryptFinal_ex(ctx, ct, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
		    AEAD_TAG_LEN, tag) != 1)
			goto out;
		hex_send(o, tag, AEAD_TAG_LEN, hex);
		out_write(o, req_tail, sizeof(req_tail) - 1);
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(pt);
	free(ct);
	free(hex);
	return rc;
}

/* Exactly n bytes of the answer, or -1 (closed, reset, timed out). */
static int
read_exact(int fd, void *dst, size_t n)
{
	uint8_t *p = dst;

	while (n > 0) {
		ssize_t got = recv(fd, p, n, 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* n hex characters of the answer, decoded into n/2 bytes. */
static int
read_hex(int fd, uint8_t *dst, size_t n, char *scratch)
{
	return read_exact(fd, scratch, n) == 0 &&
	    hex_decode(dst, scratch, n) == 0 ? 0 : -1;
}

/*
 * Not an ok result: read what is left of a short error answer into `text`.
 * It ends at its length (framed, `framed` > 0), at its newline (bare), or
 * when the daemon closes.
 */
static void
read_error_answer(int fd, char *text, size_t have, size_t framed,
    size_t size)
{
	while (have < size - 1 && (framed ? have < framed :
	    memchr(text, '\n', have) == NULL)) {
		ssize_t got = recv(fd, text + have, size - 1 - have, 0);

		if (got <= 0)
			break;
		have += (size_t)got;
	}
	text[have] = '\0';
}

/*
 * Read the answer as it arrives: decrypt and compare every chunk, then
 * the tag. 1: decrypts to what was sent; 0: an error answer (in `text`);
 * -1: anything else (wrong bytes, a broken connection).
 */
static int
check_answer(int fd, const struct stream_opts *so, uint64_t seed,
    size_t pt_len, const uint8_t req_nonce[AEAD_NONCE_LEN], char *text,
    size_t text_size)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t *ct = malloc(CHUNK), *pt = malloc(CHUNK + 32),
	    *want = malloc(CHUNK);
	char *hex = malloc(2 * CHUNK);
	uint8_t nonce[AEAD_NONCE_LEN], tag[AEAD_TAG_LEN], be[4], end[3];
	size_t head = sizeof(ok_head) - 1, left = pt_len, framed = 0;
	struct gen g = { seed };
	int n, rc = -1;

	if (ctx == NULL || ct == NULL || pt == NULL || want == NULL ||
	    hex == NULL)
		die("out of memory");
	text[0] = '\0';
	if (so->common.framing_len) {
		if (read_exact(fd, be, 4) < 0)
			goto out;
		framed = (size_t)be[0] << 24 | (size_t)be[1] << 16 |
		    (size_t)be[2] << 8 | be[3];
	}
	if (read_exact(fd, text, head) < 0 || memcmp(text, ok_head, head)) {
		/* A short error answer: whatever arrived, then the rest. */
		size_t have = strnlen(text, head);

		read_error_answer(fd, text, have, framed, text_size);
		rc = text[0] == '{' ? 0 : -1;
		goto out;
	}
	if (read_hex(fd, nonce, 2 * AEAD_NONCE_LEN, hex) < 0 ||
	    memcmp(nonce, req_nonce, AEAD_NONCE_LEN) == 0 ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, so->key,
	    nonce) != 1)
		goto out;
	while (left > 0) {
		size_t step = left < CHUNK ? left : CHUNK;

		if (read_hex(fd, ct, 2 * step, hex) < 0 ||
		    EVP_DecryptUpdate(ctx, pt, &n, ct, (int)step) != 1 ||
		    (size_t)n != step)
			goto out;
		gen_fill(&g, want, step);
		if (memcmp(pt, want, step) != 0)
			goto out;
		left -= step;
	}
	if (read_hex(fd, tag, 2 * AEAD_TAG_LEN, hex) < 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN,
	    tag) != 1 || EVP_DecryptFinal_ex(ctx, pt, &n) != 1)
		goto out;
	/* "} and, bare JSON, the newline; framed, the length must agree. */
	if (read_exact(fd, end, so->common.framing_len ? 2 : 3) < 0 ||
	    memcmp(end, "\"}\n", so->common.framing_len ? 2 : 3) != 0)
		goto out;
	if (so->common.framing_len && framed != head + 2 * (pt_len +
	    AEAD_OVERHEAD) + 2)
		goto out;
	rc = 1;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(ct);
	free(pt);
	free(want);
	free(hex);
	return rc;
}

static void
stream_usage(void)
{
	fputs("usage: loadgen stream --connect EP --key-file F "
	    "--request-bytes N\n"
	    "           [--framing raw|len] [--trickle BYTES:MS] "
	    "[--expect ok|too_large] [--label NAME]\n", stderr);
	exit(2);
}

/* --trickle BYTES:MS: BYTES at least 1, each number by the common rule. */
static void
parse_trickle(const char *text, struct stream_opts *so)
{
	const char *colon = strchr(text, ':');
	uint64_t bytes, ms;

	if (colon == NULL || number_parse_span(text, (size_t)(colon - text), 1,
	    SIZE_MAX, &bytes) < 0 || number_parse(colon + 1, 0, UINT32_MAX,
	    &ms) < 0)
		die("--trickle wants BYTES:MS");
	so->trickle_bytes = (size_t)bytes;
	so->trickle_ms = (unsigned)ms;
}

static void
parse_stream_opts(int argc, char **argv, struct stream_opts *so)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "request-bytes", required_argument, NULL, 'b' },
		{ "trickle", required_argument, NULL, 't' },
		{ "expect", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	so->common.label = "stream";
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (common_option(ch, optarg, &so->common))
			continue;
		switch (ch) {
		case 'b':
			so->request_bytes = (size_t)parse_count(
			    "--request-bytes", optarg, 0, UINT32_MAX);
			break;
		case 't': parse_trickle(optarg, so); break;
		case 'e':
			so->expect_too_large = wire_error_is(optarg,
			    WIRE_TOO_LARGE);
			if (strcmp(optarg, "ok") != 0 && !so->expect_too_large)
				die("--expect wants ok or too_large");
			break;
		default: stream_usage();
		}
	}
	if (so->common.connect_to == NULL || so->common.key_file == NULL ||
	    optind != argc)
		stream_usage();
	parse_endpoint(so->common.connect_to, &so->ep);
	load_key(so->common.key_file, so->key);
}

int
stream_main(int argc, char **argv)
{
	struct stream_opts so = { 0 };
	struct timeval tv = { ANSWER_TIMEOUT_S, 0 };
	uint8_t nonce[AEAD_NONCE_LEN];
	char text[4096];
	uint64_t seed;
	size_t pt_len;
	long long t0;
	double secs;
	struct out o = { -1, 0, 0, 0 };
	int pad, verdict, pass;

	parse_stream_opts(argc, argv, &so);
	if (plaintext_for(so.request_bytes, &pt_len, &pad) < 0)
		die("--request-bytes is too small for a process request");
	if (RAND_bytes((uint8_t *)&seed, sizeof(seed)) != 1)
		die("RAND_bytes failed");
	seed |= 1;	/* xorshift must not start at zero */
	t0 = now_ns();
	if ((o.fd = endpoint_connect(&so.ep, 10000)) < 0) {
		fprintf(stderr, "loadgen: connect: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(o.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(o.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	o.trickle_bytes = so.trickle_bytes;
	o.trickle_ms = so.trickle_ms;
	if (send_request(&o, &so, seed, pt_len, pad, nonce) < 0)
		die("cannot seal the request");
	/* Refused early (too_large), the daemon answers, then closes. */
	verdict = check_answer(o.fd, &so, seed, pt_len, nonce, text,
	    sizeof(text));
	close(o.fd);
	secs = (double)(now_ns() - t0) / 1e9;
	pass = so.expect_too_large ?
	    verdict == 0 && strstr(text, "\"too_large\"") != NULL :
	    verdict == 1;
	printf("RESULT label=%s request_bytes=%zu plaintext_bytes=%zu "
	    "framing=%s trickle=%zu:%u answer=%s send_error=%d verified=%d "
	    "elapsed=%.3f mbps=%.2f pass=%d\n", so.common.label, so.request_bytes,
	    pt_len, so.common.framing_len ? "len" : "raw", so.trickle_bytes,
	    so.trickle_ms, verdict == 1 ? "ok" : verdict == 0 ? "error" :
	    "broken", o.failed != 0, verdict == 1, secs,
	    secs > 0 ? (double)so.request_bytes / secs / 1e6 : 0, pass);
	if (verdict == 0)
		printf("ANSWER %.*s\n", (int)strcspn(text, "\n"), text);
	fflush(stdout);
	return pass ? 0 : 1;
}
