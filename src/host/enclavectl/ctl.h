/*
 * ctl.h - what the files of enclavectl share.
 *
 * main.c parses the global options and dispatches through its command
 * table; each command group lives in its own file (cmd_*.c) and gets the
 * global options plus its own argv (argv[0] is the command's name).
 * Commands return the exit status below.
 */
#ifndef ENCLAVECTL_CTL_H
#define ENCLAVECTL_CTL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "verify/attestation.h"
#include "common/buf.h"
#include "common/secret.h"
#include "enclaveclient/client.h"

enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_REMOTE = 1,	/* the enclave answered an error; open: not authentic */
	CTL_EXIT_USAGE = 2,	/* bad usage or input */
	CTL_EXIT_CONN = 3,	/* could not connect; connection broke or timed out */
};

struct ctl_global {
	const char          *endpoint;	/* --enclave, or from ENCLAVE_CID/PORT */
	enum enclave_framing framing;	/* --framing */
	int                  timeout_ms;	/* --timeout; 0: the library's defaults */
	int                  retries;	/* --retry: attempts after the first */
};

typedef int ctl_command_fn(const struct ctl_global *g, int argc, char **argv);

/* Input limits: the daemon refuses more than 64 MiB of request anyway. */
#define CTL_MAX_PROCESS_INPUT ((size_t)256 << 20)
#define CTL_MAX_SEAL_INPUT    ((size_t)1 << 30)
#define CTL_MAX_TSK_FILE      ((size_t)1 << 20)

/* debug_mode.c: documents whose PCR0, PCR1 and PCR2 are all zero. */
/* "debug mode: yes (...)" or "debug mode: no" on stdout. */
void ctl_print_debug_mode(const struct attestation_doc *d);
/*
 * Verify `doc` with `opts` and apply the debug-mode policy, as
 * verify-attestation and attest --verify both do: 0 with *d filled (free
 * it), for a production document or a debug one with allow_debug (then a
 * warning on stderr); -1 after printing why, with "debug mode: yes" first
 * when the document is one.
 */
int  ctl_verify_document(const char *cmd, const struct buf *doc,
    const struct att_verify_opts *opts, int allow_debug,
    struct attestation_doc *d);

/* messages.c */
/* Print "enclavectl CMD: message" on stderr; returns CTL_EXIT_USAGE. */
int  ctl_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print "enclavectl CMD: message" on stderr. */
void ctl_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* options.c */
/*
 * getopt_long over a command's own arguments (only long options, and -h);
 * cmd NULL: the global options, which stop at the command name. Returns
 * the option's value, -1 at the end (operands then start at optind), or
 * '?' after printing what is wrong. Start each parse with
 * ctl_getopt_reset().
 */
void ctl_getopt_reset(void);
int  ctl_getopt(const char *cmd, int argc, char **argv,
    const struct option *longopts);
/* After the options: no positional arguments are taken. */
int  ctl_no_operands(const char *cmd, int argc, char **argv);
/* A moment as 2024-11-14T23:46:27Z or as Unix seconds (for --at). */
int  ctl_parse_time(const char *s, time_t *out);
/*
 * An option's hex: an even number of hex digits for 1..max bytes, decoded
 * into dst (NULL: only checked) with the byte count in *len (may be
 * NULL). -1, and nothing decoded, for anything else. The one rule every
 * hex option follows (nonces, user data, PCRs, commitments).
 */
int  ctl_hex_arg(const char *s, uint8_t *dst, size_t max, size_t *len);

/* text.c */
/*
 * 1 when s is n hex digits: decides before anything is decoded (a key
 * file of 64 characters may be hex or base64), so hex_decode only ever
 * sees hex.
 */
int  ctl_is_hex(const uint8_t *s, size_t n);
/* Drop the whitespace (space, tab, CR, LF) around data[*start, *end). */
void ctl_trim(const uint8_t *data, size_t *start, size_t *end);

/* files.c */
/*
 * Read a file ("-" or NULL: stdin) of at most `limit` bytes into *out.
 * The buffer grows without leaving copies in freed memory: it may hold a
 * plaintext. Free it with buf_free(out, 1). Prints the failure.
 */
int  ctl_read_input(const char *cmd, const char *path, size_t limit,
    struct buf *out);
/* Open the output ("-" or NULL: stdout) with `mode` for a new file. */
int  ctl_output_open(const char *cmd, const char *path, int mode);
int  ctl_write_all(const char *cmd, int fd, const void *data, size_t len);
int  ctl_output_close(const char *cmd, int fd);

/* conn.c */
/* One request of a command on a connected client: the client's rc. */
typedef int ctl_request_fn(struct enclave_client *c, void *arg);
/*
 * Connect per the global options and send `request(c, arg)`; with
 * --retry, a call that may pass another time (could not connect, the
 * connection broke or timed out, the enclave was `busy`) is made again on
 * a fresh connection after an exponential backoff. Returns the exit
 * status: a failure is reported on stderr; on success, with `print`, the
 * answer's JSON is printed on stdout (otherwise the request kept in `arg`
 * what the command needs).
 */
int  ctl_call(const struct ctl_global *g, const char *cmd,
    ctl_request_fn *request, void *arg, int print);

/* measurements.c: a measurements.json's PCR0, PCR1, PCR2 (all required)
 * and PCR8 (when present); 0, or the exit status after saying why. */
#define CTL_PCR_LEN 48
struct ctl_measurements {
	uint8_t pcr[3][CTL_PCR_LEN];
	uint8_t pcr8[CTL_PCR_LEN];
	int     has_pcr8;
};
int  ctl_load_measurements(const char *cmd, const char *path,
    struct ctl_measurements *out);

/* keyfile.c: the data owner's 32-byte key from base64, hex or raw bytes. */
int  ctl_load_key(const char *cmd, const char *path, struct secret *key);

#endif
