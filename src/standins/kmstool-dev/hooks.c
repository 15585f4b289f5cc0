/*
 * hooks.c - the behaviour hooks for tests (see hooks.h).
 */
#include "standins/kmstool-dev/hooks.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/guard.h"
#include "standins/kmstool-dev/kmstool_dev.h"
#include "standins/kmstool-dev/report.h"

#define FLOOD_BYTES ((size_t)1 << 20)

static const char bad_output[] = "PLAINTEXT: %%not*base64%%\n";

static const struct {
	enum kt_hook hook;
	const char  *access_key_id;
	const char  *key_id;
} hook_table[] = {
	{ KT_HOOK_DENY, "DEVDENY", "hook/deny" },
	{ KT_HOOK_INTERNAL, "DEVINTERNAL", "hook/internal" },
	{ KT_HOOK_UNAVAILABLE, "DEVUNAVAILABLE", "hook/unavailable" },
	{ KT_HOOK_SLOW, "DEVSLOW", "hook/slow" },
	{ KT_HOOK_HANG, "DEVHANG", "hook/hang" },
	{ KT_HOOK_NO_OUTPUT, "DEVNOOUTPUT", "hook/no-output" },
	{ KT_HOOK_BAD_OUTPUT, "DEVBADOUTPUT", "hook/bad-output" },
	{ KT_HOOK_FLOOD, "DEVFLOOD", "hook/flood" },
	{ KT_HOOK_KILLED, "DEVKILLED", "hook/killed" },
};

/* Exact matches only: a real access key id can never select a hook. */
enum kt_hook
kt_hook_by_access_key(const char *access_key_id)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(hook_table); i++)
		if (strcmp(access_key_id, hook_table[i].access_key_id) == 0)
			return hook_table[i].hook;
	return KT_HOOK_NONE;
}

/* Key ids come from the blob (not NUL-terminated): compare lengths first. */
enum kt_hook
kt_hook_by_key_id(const uint8_t *key_id, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(hook_table); i++)
		if (strlen(hook_table[i].key_id) == len &&
		    memcmp(key_id, hook_table[i].key_id, len) == 0)
			return hook_table[i].hook;
	return KT_HOOK_NONE;
}

/* nanosleep, resumed after signals, for the whole interval. */
static void
sleep_seconds(time_t s)
{
	struct timespec left = { s, 0 };

	while (nanosleep(&left, &left) < 0)
		;
}

/* Fill one pipe with harmless filler lines (no PLAINTEXT, no secrets). */
static void
flood(int fd, char fill)
{
	char line[128];
	size_t sent;

	memset(line, fill, sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (sent = 0; sent < FLOOD_BYTES; sent += sizeof(line))
		if (kt_write_all(fd, line, sizeof(line)) < 0)
			return;
}

/*
 * Failures end the way real ones do (INFO lines, then the reason), so a
 * caller's handling is exercised on the same shapes it meets in production.
 */
int
kt_hook_run(enum kt_hook hook)
{
	switch (hook) {
	case KT_HOOK_NONE:
		return -1;
	case KT_HOOK_DENY:
		return kt_fail_kms(400, "AccessDeniedException");
	case KT_HOOK_INTERNAL:
		return kt_fail_kms(500, "KMSInternalException");
	case KT_HOOK_UNAVAILABLE:
		return kt_fail_kms(500, "KeyUnavailableException");
	case KT_HOOK_SLOW:
		kt_info("hook: answering in %d seconds", KT_HOOK_SLOW_SECONDS);
		sleep_seconds(KT_HOOK_SLOW_SECONDS);
		return -1;
	case KT_HOOK_HANG:
		kt_info("hook: hanging until killed");
		for (;;)
			pause();
	case KT_HOOK_NO_OUTPUT:
		kt_info("hook: exiting 0 without an answer");
		return KT_EXIT_OK;
	case KT_HOOK_BAD_OUTPUT:
		kt_info("hook: printing a PLAINTEXT line that is not base64");
		(void)kt_write_all(STDOUT_FILENO, bad_output,
		    sizeof(bad_output) - 1);
		return KT_EXIT_OK;
	case KT_HOOK_FLOOD:
		kt_info("hook: flooding stdout and stderr");
		flood(STDOUT_FILENO, 'o');
		flood(STDERR_FILENO, 'e');
		return kt_fail("flooded output (simulated by " KT_PROGRAM ")");
	case KT_HOOK_KILLED:
		kt_info("hook: dying by SIGKILL");
		raise(SIGKILL);
		return KT_EXIT_FAILED;
	}
	return -1;
}
