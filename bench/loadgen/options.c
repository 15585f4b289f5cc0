/*
 * options.c - what loadgen's commands (loadgen.c's run and send,
 * stream.c's stream) share: the clock, the usage error, the key file and
 * the options they all take. Its own file so that the commands call into
 * it and never into each other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen.h"
#include "common/key_text.h"
#include "common/number.h"

long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void
die(const char *what)
{
	fprintf(stderr, "loadgen: %s\n", what);
	exit(2);
}

void
parse_endpoint(const char *text, struct endpoint *ep)
{
	if (endpoint_parse(ep, text, 0, NULL) < 0)
		die("--connect wants tcp:HOST:PORT or vsock:CID:PORT");
}

uint64_t
parse_count(const char *option, const char *text, uint64_t min, uint64_t max)
{
	struct reason why;
	uint64_t v;

	if (number_option(option, text, min, max, &v, &why) < 0)
		die(why.text);
	return v;
}

int
parse_framing(const char *text)
{
	if (strcmp(text, "raw") != 0 && strcmp(text, "len") != 0)
		die("--framing wants raw or len");
	return strcmp(text, "len") == 0;
}

int
common_option(int ch, const char *arg, struct common_opts *co)
{
	switch (ch) {
	case 'c': co->connect_to = arg; return 1;
	case 'k': co->key_file = arg; return 1;
	case 'f': co->framing_len = parse_framing(arg); return 1;
	case 'l': co->label = arg; return 1;
	default: return 0;
	}
}

void
load_key(const char *path, uint8_t key[AEAD_KEY_LEN])
{
	char text[256];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		die("cannot open the key file");
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' ||
	    text[n - 1] == ' '))
		n--;
	text[n] = '\0';
	if (key_text_decode(key, text, n) < 0)
		die("the key file holds neither 32 bytes of base64 nor of hex");
}
