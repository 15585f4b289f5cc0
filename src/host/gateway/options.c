/*
 * options.c - enclave-gateway's command line.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/endpoint.h"
#include "common/key_id.h"
#include "common/kms_key_ref.h"
#include "common/memory_budget.h"
#include "common/number.h"
#include "host/gateway/gateway.h"

static const char usage_text[] =
"usage: enclave-gateway [options]\n"
"\n"
"The host worker: an HTTP service in front of one or more enclaved, which it\n"
"keeps connected, configured and balanced. It never sees a plaintext or the\n"
"TSK.\n"
"\n"
"  POST /v1/process  {\"ciphertext\": HEX, \"aad\"?: STRING, \"key_id\"?: ID,\n"
"                    \"result_key_id\"?: ID, \"grant\"?: HEX} -> {\"result\": HEX}\n"
"  GET  /healthz     200 when at least one enclave is up (holds a key),\n"
"                    else 503; lists the keys an enclave refused\n"
"  GET  /metrics     Prometheus text format\n"
"  GET  /v1/attestation?nonce=HEX[&user_data=HEX] -> {\"document\": BASE64}\n"
"                    a fresh attestation document from an enclave\n"
"\n"
"options:\n"
"  --listen HOST:PORT            where to serve HTTP (default 127.0.0.1:8080)\n"
"  --enclave ENDPOINT            vsock:CID:PORT, tcp:HOST:PORT or unix:PATH;\n"
"                                repeatable (default vsock:16:5000)\n"
"  --tsk [ID=]FILE               a KMS-encrypted TSK (base64) to configure\n"
"                                every enclave with, under key id ID (1 to 64\n"
"                                of A-Z a-z 0-9 . _ -; plain FILE: \"default\");\n"
"                                repeatable, one per key; SIGHUP reads the\n"
"                                files again; without any the gateway never\n"
"                                configures\n"
"  --tsk-dir DIR                 every file ID.b64 in DIR is a TSK under key\n"
"                                id ID; on SIGHUP files added are configured,\n"
"                                files removed forgotten; DIR/DEFAULT may name\n"
"                                the default key, read again on SIGHUP\n"
"  --default-key ID              the key a request without key_id uses (else\n"
"                                DIR/DEFAULT, else the key \"default\", else\n"
"                                the last key listed at start); it never\n"
"                                changes by itself: a SIGHUP that would drop\n"
"                                it is refused and the keys stay as they were\n"
"  --region REGION               KMS region sent with configure (default: the\n"
"                                daemon's own)\n"
"  --kms-key-id KEY              the KMS key (key ARN or key id) every TSK is\n"
"                                from, sent with each configure (a pinned\n"
"                                enclave needs it when it has several pins)\n"
"  --credentials env|imds        where AWS credentials come from (default env:\n"
"                                AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,\n"
"                                AWS_SESSION_TOKEN; imds: IMDSv2 at\n"
"                                $AWS_EC2_METADATA_SERVICE_ENDPOINT or\n"
"                                http://169.254.169.254, refreshed before\n"
"                                they expire)\n"
"  --connections-per-enclave N   persistent connections to each (default 4)\n"
"  --queue N                     requests that may wait for a connection;\n"
"                                past it: 503 + Retry-After (default 64)\n"
"  --max-body BYTES              largest request body (default 16777216)\n"
"  --memory-limit BYTES          request and answer bodies of all connections\n"
"                                together; past it: 503 overloaded +\n"
"                                Retry-After and a close (default: a quarter\n"
"                                of the machine's memory, MemTotal / 4)\n"
"  --timeout SECONDS             limit for a client to send a whole request\n"
"                                (else 408), for its wait in the queue, and\n"
"                                for each exchange with an enclave (default 30)\n"
"  --max-connections N           HTTP connections at once (default 1024)\n"
"  --log-level debug|info|warn|error   (default info)\n"
"  --help                        print this help\n"
"\n"
"A request without key_id uses the key \"default\", or else the last --tsk.\n"
"SIGHUP: the key files are read again; every enclave is configured with the\n"
"keys added or changed and forgets those removed, requests going on.\n"
"\n"
"Exit status: 0 after SIGTERM or SIGINT (requests in flight are finished\n"
"first), 2 bad usage, 1 could not start.\n";

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("enclave-gateway: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'enclave-gateway --help'.\n", stderr);
	return 2;
}

/* A number by the common rule (common/number.h), or a usage error. */
static int
take_number(const char *option, const char *arg, uint64_t min, uint64_t max,
    uint64_t *out)
{
	struct reason why;

	if (number_option(option, arg, min, max, out, &why) < 0)
		return usage_error("%s", why.text);
	return -1;
}

enum {
	OPT_LISTEN = 256, OPT_ENCLAVE, OPT_TSK, OPT_REGION, OPT_CREDENTIALS,
	OPT_CONNS, OPT_QUEUE, OPT_MAX_BODY, OPT_TIMEOUT, OPT_MAX_CONNS,
	OPT_LOG_LEVEL, OPT_HELP, OPT_TSK_DIR, OPT_MEMORY_LIMIT, OPT_KMS_KEY_ID,
	OPT_DEFAULT_KEY,
};

static const struct option long_options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "enclave", required_argument, NULL, OPT_ENCLAVE },
	{ "tsk", required_argument, NULL, OPT_TSK },
	{ "tsk-dir", required_argument, NULL, OPT_TSK_DIR },
	{ "default-key", required_argument, NULL, OPT_DEFAULT_KEY },
	{ "region", required_argument, NULL, OPT_REGION },
	{ "kms-key-id", required_argument, NULL, OPT_KMS_KEY_ID },
	{ "credentials", required_argument, NULL, OPT_CREDENTIALS },
	{ "connections-per-enclave", required_argument, NULL, OPT_CONNS },
	{ "queue", required_argument, NULL, OPT_QUEUE },
	{ "max-body", required_argument, NULL, OPT_MAX_BODY },
	{ "memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/*
 * --tsk ID=FILE, or --tsk FILE for "default": the text before the first
 * '=' is an id only when it is a valid one, so a path holding '=' (and a
 * '/' or '.' before it) still reads as a path.
 */
static int
take_tsk(const char *arg, struct gateway_options *o)
{
	const char *eq = strchr(arg, '=');
	struct gateway_tsk *t;
	size_t i;

	if (o->n_tsks == GATEWAY_MAX_KEYS)
		return usage_error("at most %d --tsk keys", GATEWAY_MAX_KEYS);
	t = &o->tsks[o->n_tsks];
	if (eq != NULL && key_id_valid(arg, (size_t)(eq - arg))) {
		memcpy(t->key_id, arg, (size_t)(eq - arg));
		t->key_id[eq - arg] = '\0';
		t->path = eq + 1;
	} else {
		snprintf(t->key_id, sizeof(t->key_id), "%s", KEY_ID_DEFAULT);
		t->path = arg;
	}
	if (t->path[0] == '\0')
		return usage_error("--tsk %s: no file", arg);
	for (i = 0; i < o->n_tsks; i++)
		if (strcmp(o->tsks[i].key_id, t->key_id) == 0)
			return usage_error("--tsk: key id '%s' given twice",
			    t->key_id);
	o->n_tsks++;
	return -1;
}

/* Checks each value as it comes, so the message names the option. */
static int
apply(int opt, const char *arg, struct gateway_options *o)
{
	struct endpoint ep;
	struct reason why;
	uint64_t v;
	int rc;

	switch (opt) {
	case OPT_LISTEN:
		o->listen = arg;
		return -1;
	case OPT_ENCLAVE:
		if (endpoint_parse(&ep, arg, 0, &why) < 0) {
			fprintf(stderr, "enclave-gateway: --enclave '%s': %s\n",
			    arg, why.text);
			return 2;
		}
		if (o->n_enclaves == GATEWAY_MAX_ENCLAVES)
			return usage_error("at most %d enclaves", GATEWAY_MAX_ENCLAVES);
		o->enclaves[o->n_enclaves++] = arg;
		return -1;
	case OPT_TSK:
		return take_tsk(arg, o);
	case OPT_TSK_DIR:
		if (arg[0] == '\0')
			return usage_error("--tsk-dir must not be empty");
		o->tsk_dir = arg;
		return -1;
	case OPT_DEFAULT_KEY:
		if (!key_id_valid(arg, strlen(arg)))
			return usage_error("--default-key must be a key id: 1 to "
			    "%d characters from A-Z a-z 0-9 . _ -", KEY_ID_MAX);
		o->default_key = arg;
		return -1;
	case OPT_REGION:
		if (arg[0] == '\0')
			return usage_error("--region must not be empty");
		o->region = arg;
		return -1;
	case OPT_KMS_KEY_ID:
		if (kms_key_ref_check(arg, &why) < 0)
			return usage_error("--kms-key-id: %s", why.text);
		o->kms_key_id = arg;
		return -1;
	case OPT_CREDENTIALS:
		if (host_credentials_source_parse(arg, &o->creds) < 0)
			return usage_error("--credentials is env or imds, not "
			    "'%s'", arg);
		return -1;
	case OPT_CONNS:
		if ((rc = take_number("--connections-per-enclave", arg, 1, 256,
		    &v)) >= 0)
			return rc;
		o->conns_per_enclave = (int)v;
		return -1;
	case OPT_QUEUE:
		if ((rc = take_number("--queue", arg, 0, 100000, &v)) >= 0)
			return rc;
		o->queue = (int)v;
		return -1;
	case OPT_MAX_BODY:
		if ((rc = take_number("--max-body", arg, 64, (uint64_t)1 << 30,
		    &v)) >= 0)
			return rc;
		o->max_body = (size_t)v;
		return -1;
	case OPT_MEMORY_LIMIT:
		if ((rc = take_number("--memory-limit", arg, (uint64_t)1 << 16,
		    SIZE_MAX, &v)) >= 0)
			return rc;
		o->memory_limit = (size_t)v;
		return -1;
	case OPT_TIMEOUT:
		if (number_option_seconds("--timeout", arg, 1, 3600 * 1000, &v,
		    &why) < 0)
			return usage_error("%s", why.text);
		o->timeout_ms = (int)v;
		return -1;
	case OPT_MAX_CONNS:
		if ((rc = take_number("--max-connections", arg, 1, 65536,
		    &v)) >= 0)
			return rc;
		o->max_connections = (int)v;
		return -1;
	case OPT_LOG_LEVEL:
		if (log_level_parse(arg, &o->log_level) < 0)
			return usage_error("--log-level is " LOG_LEVEL_NAMES
			    ", not '%s'", arg);
		return -1;
	default:
		return 2;
	}
}

int
gateway_options_parse(int argc, char **argv, struct gateway_options *o)
{
	int opt, rc;

	memset(o, 0, sizeof(*o));
	o->listen = GATEWAY_DEFAULT_LISTEN;
	o->creds = HOST_CREDS_ENV;
	o->conns_per_enclave = 4;
	o->queue = 64;
	o->max_body = (size_t)16 << 20;
	o->memory_limit = memory_budget_share(4);
	o->timeout_ms = 30000;
	o->max_connections = 1024;
	o->log_level = LOG_INFO;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		if (opt == 'h' || opt == OPT_HELP) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (opt == ':')
			return usage_error("%s needs a value", argv[optind - 1]);
		if (opt == '?')
			return usage_error("unknown option '%s'",
			    argv[optind - 1]);
		if ((rc = apply(opt, optarg, o)) >= 0)
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (o->n_enclaves == 0)
		o->enclaves[o->n_enclaves++] = GATEWAY_DEFAULT_ENCLAVE;
	return -1;
}
