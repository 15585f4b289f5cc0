/*
 * kmstool_output.h - reading what the KMS tool printed.
 *
 * Success is a line `PLAINTEXT: <base64>` on stdout. Failure is explained
 * on stderr among the tool's INFO log lines; the "meaningful" line is the
 * last one that is not a log line, e.g. `Got non-200 answer from KMS: 400`.
 * Both parsers see bytes a child process produced, so they are strict and
 * bounded, and the reason is scrubbed of the credentials the tool was given.
 */
#ifndef ENCLAVE_KMSTOOL_OUTPUT_H
#define ENCLAVE_KMSTOOL_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "common/secret.h"

/* Decode the PLAINTEXT line of stdout into `key`; -1 when there is none. */
int  kmstool_parse_plaintext(const uint8_t *out, size_t n, struct secret *key);

/*
 * Write the tool's reason for failing into `reason`: printable ASCII only,
 * every byte inside an occurrence of any of the `redact` strings
 * (NULL-terminated list) hidden, each group of overlapping occurrences
 * shown as one "[redacted]". Empty when stderr said nothing useful.
 */
void kmstool_failure_reason(const uint8_t *err, size_t n,
    const char *const *redact, char *reason, size_t size);

#endif
