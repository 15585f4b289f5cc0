/*
 * debug_mode.c - verifying a document as verify-attestation and attest
 * --verify do, and what they say about a debug-mode one.
 *
 * An enclave started with `nitro-cli run-enclave --debug-mode` gets
 * attestation documents whose PCR0, PCR1 and PCR2 are all zero, and its
 * memory and console are open to the parent instance: nothing in it is
 * confidential. Such a document is genuine, so the verifier accepts its
 * signature and chain; the decision to trust it is a policy, taken here:
 * say "debug mode: yes" where a reader looks first and refuse it unless
 * the operator asked for it (--allow-debug, for development).
 */
#include <stdio.h>

#include "host/enclavectl/ctl.h"

void
ctl_print_debug_mode(const struct attestation_doc *d)
{
	printf("debug mode: %s\n", attestation_doc_is_debug(d) ?
	    "yes (PCR0, PCR1 and PCR2 are zero: the parent instance can read "
	    "the enclave's memory)" : "no");
}

/* For a document that failed verification: the line, if it parses as debug. */
static void
report_debug_mode(const struct buf *doc)
{
	struct cose_sign1 c;
	struct attestation_doc d;

	if (cose_sign1_parse(&c, doc->data, doc->len, NULL) < 0)
		return;
	if (attestation_doc_parse(&d, c.payload.data, c.payload.len,
	    NULL) == 0) {
		if (attestation_doc_is_debug(&d))
			ctl_print_debug_mode(&d);
		attestation_doc_free(&d);
	}
	cose_sign1_free(&c);
}

/* 0 for a production document, or a debug one with allow_debug. */
static int
refuse_debug(const char *cmd, const struct attestation_doc *d,
    int allow_debug)
{
	if (!attestation_doc_is_debug(d))
		return 0;
	if (allow_debug) {
		ctl_error(cmd, "warning: debug mode: yes: accepted because of "
		    "--allow-debug; the parent instance can read this "
		    "enclave's memory");
		return 0;
	}
	ctl_print_debug_mode(d);
	fflush(stdout);
	ctl_error(cmd, "verification failed: debug mode: yes: PCR0, PCR1 and "
	    "PCR2 are all zero, so the enclave runs with --debug-mode and "
	    "the parent instance can read its memory (--allow-debug accepts "
	    "it)");
	return -1;
}

int
ctl_verify_document(const char *cmd, const struct buf *doc,
    const struct att_verify_opts *opts, int allow_debug,
    struct attestation_doc *d)
{
	struct reason reason = { .text = "" };

	if (attestation_verify(doc->data, doc->len, opts, d, &reason) < 0) {
		report_debug_mode(doc);
		ctl_error(cmd, "verification failed: %s", reason.text);
		return -1;
	}
	if (refuse_debug(cmd, d, allow_debug) < 0) {
		attestation_doc_free(d);
		return -1;
	}
	return 0;
}
