/*
 * usage.c - kmstool-dev's help text (see usage.h).
 */
#include "standins/kmstool-dev/usage.h"

#include <stdio.h>

#include "standins/kmstool-dev/options.h"
#include "standins/kmstool-dev/master_key.h"

static const char usage_line[] =
"usage: kmstool-dev {decrypt|genkey|genrandom} [--region REGION]\n"
"           [--proxy-port PORT] --aws-access-key-id ID\n"
"           --aws-secret-access-key KEY --aws-session-token TOKEN\n"
"           [command options]\n";

static const char usage_intro[] =
"\n"
"DEVELOPMENT STAND-IN for AWS's kmstool_enclave_cli, FOR DEMOS AND TESTS\n"
"ONLY. It never contacts AWS KMS and proves nothing about an enclave: it\n"
"seals and opens data keys under a LOCAL master key. NEVER put it into the\n"
"enclave image and never protect real data with it.\n"
"\n"
"Commands:\n"
"  decrypt    prints PLAINTEXT: <base64>\n"
"  genkey     prints CIPHERTEXT: <base64 blob> and PLAINTEXT: <base64 key>\n"
"  genrandom  prints PLAINTEXT: <base64 random bytes>\n"
"\n"
"Options (exactly the real tool's, v0.4.4; anything else prints this\n"
"usage on stderr and exits 1):\n";

static const char usage_body[] =
"\n"
"A decrypt naming --key-id opens only a blob sealed for that key, as KMS\n"
"does (IncorrectKeyException): the same id, or a key ARN and its bare key\n"
"id (arn:...:key/ID and ID). There is no --encryption-context: the real\n"
"tool has none (an encryption context needs enclaved --kms native).\n"
"\n"
"Master key (kmstool-dev only, from the environment, as the real tool\n"
"has no such option):\n"
"  KMSTOOL_DEV_MASTER_KEY_FILE=FILE  32 bytes: raw, 64 hex characters or\n"
"  base64. Without it the BUILT-IN INSECURE DEVELOPMENT KEY is used:\n"
"  SHA-256 of \"" KT_DEV_MASTER_LABEL "\".\n"
"  It is public; anyone can open blobs made with it.\n"
"\n"
"Blob format v1 (base64): \"KTDV\" | 0x01 | key id length | key id |\n"
"  nonce(12) | AES-256-GCM(master key, data key) | tag(16); the header up\n"
"  to the key id is the associated data.\n"
"\n"
"Exit status: 0 success (answer on stdout); 1 bad arguments (usage on\n"
"stderr); 255 the operation failed (reason as the last stderr line, e.g.\n"
"`Got non-200 answer from KMS: 400` for a blob that does not open).\n"
"\n"
"Test hooks, to exercise a caller's failure handling. Chosen by the access\n"
"key id (any command) or by the key id inside a blob (decrypt only; genkey\n"
"makes such blobs normally):\n"
"  access key id    blob key id       effect\n"
"  DEVDENY         hook/deny         exit 255: Got non-200 answer from KMS:\n"
"                                   400 (simulated AccessDeniedException)\n"
"  DEVINTERNAL     hook/internal     exit 255, ... 500 (KMSInternal-\n"
"                                   Exception)\n"
"  DEVUNAVAILABLE  hook/unavailable  exit 255, ... 500 (KeyUnavailable-\n"
"                                   Exception)\n"
"  DEVSLOW         hook/slow         answer normally after 2 seconds\n"
"  DEVHANG         hook/hang         never answer; wait to be killed\n"
"  DEVNOOUTPUT    hook/no-output    exit 0 with nothing on stdout\n"
"  DEVBADOUTPUT   hook/bad-output   exit 0, a PLAINTEXT line not in base64\n"
"  DEVFLOOD        hook/flood        1 MiB on stdout and stderr, exit 255\n"
"  DEVKILLED       hook/killed       die by SIGKILL without output\n"
"Other failures: a blob that is malformed, edited, made under another\n"
"master key, or whose key id differs from --key-id gives exit 255 with\n"
"Got non-200 answer from KMS: 400.\n";

/* After a mistake: the synopsis only, the full text is one flag away. */
void
kt_usage_short(FILE *to)
{
	fputs(usage_line, to);
	fputs("Try 'kmstool-dev --help'.\n", to);
}

/* One line per row of the option table (args.c): what the parser takes. */
static void
usage_options(FILE *to)
{
	char head[64];
	size_t i;

	for (i = 0; i < kt_n_options; i++) {
		snprintf(head, sizeof(head), "--%s%s%s", kt_options[i].name,
		    kt_options[i].arg ? " " : "",
		    kt_options[i].arg ? kt_options[i].arg : "");
		fprintf(to, "  %-30s %s\n", head, kt_options[i].help);
	}
}

/* --help goes to stdout, so it can be paged; errors go to stderr. */
void
kt_usage(FILE *to)
{
	fputs(usage_line, to);
	fputs(usage_intro, to);
	usage_options(to);
	fputs(usage_body, to);
}
