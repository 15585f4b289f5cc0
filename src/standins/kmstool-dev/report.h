/*
 * report.h - everything kmstool-dev writes, in the real tool's shapes.
 *
 *   stdout   PLAINTEXT: <base64>            (genkey: CIPHERTEXT: line first)
 *   stderr   [INFO] [2026-11-24T11:37:02Z] [kmstool-dev] - <message>
 *            ...
 *            Got non-200 answer from KMS: 400     (the reason, last)
 *
 * The daemon reports the last stderr line that is not a log line, so a
 * failure always ends with its reason. None of these functions is ever
 * given a credential; key ids and regions are validated printable text.
 */
#ifndef KMSTOOL_DEV_REPORT_H
#define KMSTOOL_DEV_REPORT_H

#include <stddef.h>
#include <stdint.h>

/* One INFO log line on stderr. */
void kt_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A failure's reason line on stderr; returns KT_EXIT_FAILED. */
int  kt_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A simulated KMS error response: an INFO line naming the exception, then
 * `Got non-200 answer from KMS: <status>`. Returns KT_EXIT_FAILED.
 */
int  kt_fail_kms(int http_status, const char *exception);

/* A labelled base64 value for stdout. */
struct kt_field {
	const char    *label;	/* "PLAINTEXT", "CIPHERTEXT" */
	const uint8_t *data;
	size_t         len;
};

/*
 * Write the fields, one `LABEL: <base64>` line each, to stdout in a single
 * buffer that is wiped afterwards (stdio would keep a copy of a plaintext).
 */
int  kt_print_fields(const struct kt_field *fields, size_t n);

/* Write all of [p, p + n) to fd, retrying short writes; -1 on error. */
int  kt_write_all(int fd, const void *p, size_t n);

#endif
