/*
 * cmd_process.c - send hex ciphertext through the enclave's workflow step.
 */
#include <stdio.h>
#include <string.h>

#include "host/enclavectl/ctl.h"

static const char process_help[] =
"usage: enclavectl [global options] process [--aad S] [--in FILE] [--out FILE]\n"
"                  [--key-id ID] [--result-key-id ID [--grant HEX]]\n"
"\n"
"Send hex ciphertext (nonce || ct || tag under the TSK, as `seal` makes it)\n"
"to the enclave; it decrypts, runs its workflow step, and encrypts the\n"
"output. Prints the result hex and a newline.\n"
"\n"
"  --aad S      associated data the ciphertext was sealed with\n"
"  --in FILE    read the hex from FILE (default: standard input); whitespace\n"
"               around it is ignored\n"
"  --out FILE   write the result to FILE (default: standard output)\n"
"  --key-id ID  the enclave's key that opens the ciphertext (default: the\n"
"               one configured last)\n"
"  --result-key-id ID\n"
"               the key that seals the result (default: --key-id's), to\n"
"               re-encrypt data for another party or a new key; a key\n"
"               other than --key-id's needs --grant\n"
"  --grant HEX  the input key holder's permission to seal the result under\n"
"               --result-key-id's key (enclavectl grant makes it)\n"
"  --help       print this help\n";

enum { OPT_AAD = 256, OPT_IN, OPT_OUT, OPT_HELP, OPT_KEY_ID,
	OPT_RESULT_KEY_ID, OPT_GRANT };

static const struct option process_options[] = {
	{ "aad", required_argument, NULL, OPT_AAD },
	{ "in", required_argument, NULL, OPT_IN },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "key-id", required_argument, NULL, OPT_KEY_ID },
	{ "result-key-id", required_argument, NULL, OPT_RESULT_KEY_ID },
	{ "grant", required_argument, NULL, OPT_GRANT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct process_args {
	const char *aad;
	const char *key_id;
	const char *result_key_id;
	const char *grant;
	const char *in;
	const char *out;
};

static int
parse(int argc, char **argv, struct process_args *a)
{
	int opt;

	memset(a, 0, sizeof(*a));
	ctl_getopt_reset();
	while ((opt = ctl_getopt("process", argc, argv, process_options)) != -1) {
		switch (opt) {
		case OPT_AAD:
			a->aad = optarg;
			break;
		case OPT_IN:
			a->in = optarg;
			break;
		case OPT_OUT:
			a->out = optarg;
			break;
		case OPT_GRANT:
			a->grant = optarg;
			break;
		case OPT_KEY_ID:
		case OPT_RESULT_KEY_ID:
			if (optarg[0] == '\0')
				return ctl_usage_error("process", "%s must not be "
				    "empty", opt == OPT_KEY_ID ? "--key-id" :
				    "--result-key-id");
			if (opt == OPT_KEY_ID)
				a->key_id = optarg;
			else
				a->result_key_id = optarg;
			break;
		case 'h':
		case OPT_HELP:
			fputs(process_help, stdout);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (ctl_no_operands("process", argc, argv) != 0)
		return CTL_EXIT_USAGE;
	return -1;
}

/* The output file is created only once there is a result to put in it. */
static int
write_result(const char *path, const char *hex, size_t len)
{
	int fd, rc = CTL_EXIT_OK;

	if ((fd = ctl_output_open("process", path, 0644)) < 0)
		return CTL_EXIT_USAGE;
	if (ctl_write_all("process", fd, hex, len) < 0 ||
	    ctl_write_all("process", fd, "\n", 1) < 0)
		rc = CTL_EXIT_USAGE;
	if (ctl_output_close("process", fd) < 0)
		rc = CTL_EXIT_USAGE;
	return rc;
}

/* What a process sends and gets back, for ctl_call. */
struct process_call {
	const char                    *hex;
	size_t                         hex_len;
	struct enclave_process_options options;
	char                          *result;
	size_t                         result_len;
};

static int
send_process(struct enclave_client *c, void *arg)
{
	struct process_call *req = arg;

	return enclave_process_ex(c, req->hex, req->hex_len, &req->options,
	    &req->result, &req->result_len);
}

ctl_command_fn cmd_process;
int
cmd_process(const struct ctl_global *g, int argc, char **argv)
{
	struct process_args a;
	struct process_call req = { 0 };
	struct buf in = BUF_INIT;
	size_t start = 0, end;
	int rc;

	if ((rc = parse(argc, argv, &a)) >= 0)
		return rc;
	if (ctl_read_input("process", a.in, CTL_MAX_PROCESS_INPUT, &in) < 0) {
		rc = CTL_EXIT_USAGE;
		goto done;
	}
	end = in.len;
	ctl_trim(in.data, &start, &end);
	if (start == end) {
		rc = ctl_usage_error("process", "no ciphertext on the input");
		goto done;
	}
	req.hex = (const char *)in.data + start;
	req.hex_len = end - start;
	req.options = (struct enclave_process_options){ .aad = a.aad,
	    .key_id = a.key_id, .result_key_id = a.result_key_id,
	    .grant = a.grant };
	rc = ctl_call(g, "process", send_process, &req, 0);
	if (rc == CTL_EXIT_OK)
		rc = write_result(a.out, req.result, req.result_len);
	enclave_free(req.result);
done:
	buf_free(&in, 0);
	return rc;
}
