/*
 * options.c - enclaved's command line (see options.h).
 */
#include "enclave/options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/frame.h"
#include "common/number.h"
#include "enclave/keystore.h"
#include "common/memory_budget.h"
#include "common/kms_key_ref.h"
#include "enclave/version.h"

#define MIB ((size_t)1 << 20)

/* The help, around the one line that names the steps linked in. */
static const char usage_head[] =
"usage: enclaved [options]\n"
"\n"
"The trusted daemon of confidential-enclave: decrypts data under the TSK that\n"
"only KMS can release to this enclave image, runs the workflow step, and\n"
"returns ciphertext. Protocol: docs/protocol.md.\n"
"\n"
"  --listen ENDPOINT      vsock:PORT, tcp:HOST:PORT or unix:PATH; repeatable\n"
"                         (default vsock:5000)\n"
"  --kms BACKEND          kmstool (default): run the KMS tool; native: ask\n"
"                         KMS directly (NSM attestation, SigV4, TLS)\n"
"  --kmstool PATH         the KMS tool (default /usr/bin/kmstool_enclave_cli)\n"
"  --nsm-device PATH      the NSM for attest and --kms native (default\n"
"                         /dev/nsm; unix:/path: an NSM simulator, tests only)\n"
"  --kms-endpoint EP      --kms native: connect to tcp:HOST:PORT instead of\n"
"                         the vsock-proxy (tests; TLS is verified the same)\n"
"  --kms-ca-file PEM      --kms native: CA bundle that verifies KMS\n"
"                         (default: the first system bundle found)\n"
"  --region REGION        default AWS region (default ap-southeast-1)\n"
"  --kms-key-id KEY       pin the KMS key a TSK may come from: a key ARN or\n"
"                         key id (not an alias); repeatable, at most 16.\n"
"                         Every KMS Decrypt then names the key. Part of the\n"
"                         image's command, so it is measured (PCR0)\n"
"  --proxy-port PORT      parent's vsock-proxy port for KMS (default 8000)\n"
"  --kms-timeout SECONDS  KMS call limit (default 30)\n"
"  --max-encryptions N    messages one key may seal before process answers\n"
"                         key_exhausted (default 2^32, the NIST SP 800-38D\n"
"                         bound for random nonces); counted per key for the\n"
"                         daemon's life, configuring it again does not reset\n"
"  --max-keys N           keys held at once, by key id (default 16, at most\n"
"                         256); past it configure answers too_many_keys\n"
"  --step NAME            workflow step (default echo), one of:\n";
static const char usage_tail[] =
"  --agent-id NAME        the agent step's agent_id (default enclave-agent)\n"
"  --bind-direction       open inputs under aad \"request\\0\"+aad and seal\n"
"                         results under \"result\\0\"+aad, so a result cannot\n"
"                         come back as a request (docs/protocol.md)\n"
"  --max-message BYTES    largest request (default 67108864 = 64 MiB; at\n"
"                         most 150994943: a longer length prefix could\n"
"                         begin with a whitespace byte, docs/protocol.md)\n"
"  --read-timeout SECONDS a request must arrive whole within (default 30)\n"
"  --idle-timeout SECONDS idle connections are closed after (default 60)\n"
"  --max-connections N    past it new connections get `busy` (default 1024)\n"
"  --memory-limit BYTES   buffers all connections may hold together; a\n"
"                         request past it gets `busy` (default: half the\n"
"                         machine's memory)\n"
"  --threads N            event-loop threads (default: online CPUs)\n"
"  --log-level LEVEL      debug, info (default), warn or error\n"
"  --no-sandbox           do not load the seccomp filter (debugging only)\n"
"  --version              print the version and exit\n"
"  --help                 print this help and exit\n";

enum {
	OPT_LISTEN = 256, OPT_KMS, OPT_KMSTOOL, OPT_REGION, OPT_PROXY_PORT,
	OPT_KMS_TIMEOUT, OPT_MAX_ENCRYPTIONS, OPT_STEP, OPT_AGENT_ID, OPT_MAX_MESSAGE,
	OPT_READ_TIMEOUT, OPT_IDLE_TIMEOUT, OPT_MAX_CONNECTIONS, OPT_THREADS,
	OPT_LOG_LEVEL, OPT_NO_SANDBOX, OPT_VERSION, OPT_HELP,
	OPT_NSM_DEVICE, OPT_KMS_ENDPOINT, OPT_KMS_CA_FILE, OPT_MEMORY_LIMIT,
	OPT_MAX_KEYS, OPT_BIND_DIRECTION, OPT_KMS_KEY_ID,
};

static const struct option long_options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "kms", required_argument, NULL, OPT_KMS },
	{ "kmstool", required_argument, NULL, OPT_KMSTOOL },
	{ "nsm-device", required_argument, NULL, OPT_NSM_DEVICE },
	{ "kms-endpoint", required_argument, NULL, OPT_KMS_ENDPOINT },
	{ "kms-ca-file", required_argument, NULL, OPT_KMS_CA_FILE },
	{ "region", required_argument, NULL, OPT_REGION },
	{ "kms-key-id", required_argument, NULL, OPT_KMS_KEY_ID },
	{ "proxy-port", required_argument, NULL, OPT_PROXY_PORT },
	{ "kms-timeout", required_argument, NULL, OPT_KMS_TIMEOUT },
	{ "max-encryptions", required_argument, NULL, OPT_MAX_ENCRYPTIONS },
	{ "max-keys", required_argument, NULL, OPT_MAX_KEYS },
	{ "step", required_argument, NULL, OPT_STEP },
	{ "agent-id", required_argument, NULL, OPT_AGENT_ID },
	{ "bind-direction", no_argument, NULL, OPT_BIND_DIRECTION },
	{ "max-message", required_argument, NULL, OPT_MAX_MESSAGE },
	{ "read-timeout", required_argument, NULL, OPT_READ_TIMEOUT },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Usage errors: one clear line, a pointer to --help, and exit status 2. */
static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "enclaved: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'enclaved --help'.\n");
	return -1;
}

/* A number by the common rule (common/number.h); a refusal is a usage error. */
static int
parse_number(const char *name, const char *arg, unsigned long long min,
    unsigned long long max, unsigned long long *out)
{
	struct reason why;
	char option[40];
	uint64_t v;

	snprintf(option, sizeof(option), "--%s", name);
	if (number_option(option, arg, min, max, &v, &why) < 0)
		return usage_error("%s", why.text);
	*out = v;
	return 0;
}

int
options_region_valid(const char *region)
{
	size_t i, n = strlen(region);

	if (n == 0 || n > 32)
		return 0;
	for (i = 0; i < n; i++) {
		char c = region[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

static void
options_defaults(struct options *opt)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(opt, 0, sizeof(*opt));
	opt->kms_backend = "kmstool";
	opt->kmstool_path = "/usr/bin/kmstool_enclave_cli";
	opt->nsm_device = "/dev/nsm";
	opt->region = "ap-southeast-1";
	opt->proxy_port = 8000;
	opt->kms_timeout_s = 30;
	opt->max_encryptions = (unsigned long long)1 << 32;
	opt->max_keys = 16;
	opt->step = "echo";
	opt->agent_id = "enclave-agent";
	opt->max_message = 64 * MIB;
	opt->read_timeout_s = 30;
	opt->idle_timeout_s = 60;
	opt->max_connections = 1024;
	opt->memory_limit = memory_budget_default();
	opt->threads = cpus > 0 && cpus < 64 ? (unsigned)cpus : 2;
	opt->log_level = LOG_INFO;
	opt->sandbox = 1;
}

int
options_parse(struct options *opt, int argc, char **argv, const char *steps)
{
	unsigned long long n;
	struct reason why;
	int c;

	options_defaults(opt);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			if (opt->n_listen == OPTIONS_MAX_LISTEN)
				return usage_error("--listen: at most %d endpoints",
				    OPTIONS_MAX_LISTEN);
			if (endpoint_parse(&opt->listen[opt->n_listen], optarg,
			    1, &why) < 0)
				return usage_error("--listen %s: %s", optarg,
				    why.text);
			opt->n_listen++;
			break;
		case OPT_KMS:
			if (strcmp(optarg, "kmstool") != 0 &&
			    strcmp(optarg, "native") != 0)
				return usage_error("--kms: unknown backend '%s' "
				    "(this build has: kmstool, native)", optarg);
			opt->kms_backend = optarg;
			break;
		case OPT_KMSTOOL:
			if (optarg[0] == '\0')
				return usage_error("--kmstool: empty path");
			opt->kmstool_path = optarg;
			break;
		case OPT_NSM_DEVICE:
			if (optarg[0] == '\0')
				return usage_error("--nsm-device: empty path");
			opt->nsm_device = optarg;
			break;
		case OPT_KMS_ENDPOINT: {
			struct endpoint ep;

			if (endpoint_parse(&ep, optarg, 0, &why) < 0)
				return usage_error("--kms-endpoint %s: %s",
				    optarg, why.text);
			if (ep.kind == ENDPOINT_UNIX)
				return usage_error("--kms-endpoint: tcp:HOST:PORT "
				    "or vsock:CID:PORT, not a Unix socket");
			opt->kms_endpoint = optarg;
			break;
		}
		case OPT_KMS_CA_FILE:
			if (optarg[0] == '\0')
				return usage_error("--kms-ca-file: empty path");
			opt->kms_ca_file = optarg;
			break;
		case OPT_REGION:
			if (!options_region_valid(optarg))
				return usage_error("--region: '%s' is not a "
				    "region name", optarg);
			opt->region = optarg;
			break;
		case OPT_KMS_KEY_ID:
			if (opt->n_kms_key_ids == OPTIONS_MAX_KMS_KEYS)
				return usage_error("--kms-key-id: at most %d keys",
				    OPTIONS_MAX_KMS_KEYS);
			if (kms_key_ref_check(optarg, &why) < 0)
				return usage_error("--kms-key-id: %s", why.text);
			opt->kms_key_ids[opt->n_kms_key_ids++] = optarg;
			break;
		case OPT_PROXY_PORT:
			if (parse_number("proxy-port", optarg, 1, UINT32_MAX, &n) < 0)
				return -1;
			opt->proxy_port = (unsigned)n;
			break;
		case OPT_KMS_TIMEOUT:
			if (parse_number("kms-timeout", optarg, 1, 3600, &n) < 0)
				return -1;
			opt->kms_timeout_s = (unsigned)n;
			break;
		case OPT_MAX_ENCRYPTIONS:
			if (parse_number("max-encryptions", optarg, 1,
			    (unsigned long long)1 << 32, &n) < 0)
				return -1;
			opt->max_encryptions = n;
			break;
		case OPT_MAX_KEYS:
			if (parse_number("max-keys", optarg, 1, KEYSTORE_MAX_KEYS,
			    &n) < 0)
				return -1;
			opt->max_keys = (unsigned)n;
			break;
		case OPT_STEP:
			opt->step = optarg;
			break;
		case OPT_AGENT_ID:
			opt->agent_id = optarg;
			break;
		case OPT_MAX_MESSAGE:
			if (parse_number("max-message", optarg, 64, UINT32_MAX,
			    &n) < 0)
				return -1;
			if (n > FRAME_LENGTH_MAX)
				return usage_error("--max-message: at most %zu: "
				    "the length prefix of a longer message could "
				    "begin with a byte the framing skips as "
				    "whitespace (docs/protocol.md)",
				    FRAME_LENGTH_MAX);
			opt->max_message = (size_t)n;
			break;
		case OPT_READ_TIMEOUT:
			if (parse_number("read-timeout", optarg, 1, 86400, &n) < 0)
				return -1;
			opt->read_timeout_s = (unsigned)n;
			break;
		case OPT_IDLE_TIMEOUT:
			if (parse_number("idle-timeout", optarg, 1, 86400, &n) < 0)
				return -1;
			opt->idle_timeout_s = (unsigned)n;
			break;
		case OPT_MAX_CONNECTIONS:
			if (parse_number("max-connections", optarg, 1, 65536,
			    &n) < 0)
				return -1;
			opt->max_connections = (unsigned)n;
			break;
		case OPT_MEMORY_LIMIT:
			if (parse_number("memory-limit", optarg, 1 << 20,
			    SIZE_MAX, &n) < 0)
				return -1;
			opt->memory_limit = (size_t)n;
			break;
		case OPT_THREADS:
			if (parse_number("threads", optarg, 1, 256, &n) < 0)
				return -1;
			opt->threads = (unsigned)n;
			break;
		case OPT_LOG_LEVEL:
			if (log_level_parse(optarg, &opt->log_level) < 0)
				return usage_error("--log-level: '%s' is not "
				    LOG_LEVEL_NAMES, optarg);
			break;
		case OPT_NO_SANDBOX:
			opt->sandbox = 0;
			break;
		case OPT_BIND_DIRECTION:
			opt->bind_direction = 1;
			break;
		case OPT_VERSION:
			printf("enclaved %s\n", ENCLAVED_VERSION);
			return 1;
		case OPT_HELP:
			printf("%s                         %s\n%s", usage_head,
			    steps, usage_tail);
			return 1;
		default:
			return usage_error("unknown or incomplete option '%s'",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (opt->n_listen == 0)
		endpoint_parse(&opt->listen[opt->n_listen++], "vsock:5000", 1,
		    NULL);
	return 0;
}

/* The pinned KMS keys, one line each (an ARN is long); none: any key. */
static void
options_log_kms_keys(const struct options *opt)
{
	size_t i;

	if (opt->n_kms_key_ids == 0)
		log_info("kms-key-id: none pinned: a TSK may come from any KMS "
		    "key the credentials can use");
	for (i = 0; i < opt->n_kms_key_ids; i++)
		log_info("kms-key-id: %s", opt->kms_key_ids[i]);
}

/* Startup options go to the console: what an operator needs to know. */
void
options_log(const struct options *opt)
{
	log_info("enclaved %s starting: kms=%s kmstool=%s nsm-device=%s "
	    "kms-endpoint=%s region=%s "
	    "proxy-port=%u kms-timeout=%us max-encryptions=%llu max-keys=%u "
	    "step=%s bind-direction=%s "
	    "max-message=%zu memory-limit=%zu "
	    "read-timeout=%us idle-timeout=%us max-connections=%u threads=%u",
	    ENCLAVED_VERSION, opt->kms_backend, opt->kmstool_path,
	    opt->nsm_device, opt->kms_endpoint ? opt->kms_endpoint :
	    "vsock-proxy", opt->region,
	    opt->proxy_port, opt->kms_timeout_s, opt->max_encryptions,
	    opt->max_keys, opt->step, opt->bind_direction ? "yes" : "no",
	    opt->max_message, opt->memory_limit,
	    opt->read_timeout_s, opt->idle_timeout_s, opt->max_connections,
	    opt->threads);
	options_log_kms_keys(opt);
}
