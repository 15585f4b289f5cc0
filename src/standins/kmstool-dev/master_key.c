/*
 * master_key.c - the built-in development key and key files (see master_key.h).
 */
#include "standins/kmstool-dev/master_key.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "common/guard.h"
#include "common/key_text.h"
#include "common/reason.h"

/* Longest file content we look at: 64 hex digits plus "\r\n" and slack. */
#define KEY_FILE_MAX 128

/* Derived, not written out as bytes, so the label documents what it is. */
int
kt_master_key_builtin(struct secret *key)
{
	GUARD(secret_alloc(key, KT_MASTER_KEY_LEN));
	if (SHA256((const unsigned char *)KT_DEV_MASTER_LABEL,
	    strlen(KT_DEV_MASTER_LABEL), key->data) == NULL) {
		secret_free(key);
		return -1;
	}
	return 0;
}

/* Read at most cap bytes; one more than that means the file is too big. */
static int
read_small_file(const char *path, uint8_t *dst, size_t cap, size_t *len,
    struct reason *why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t got = 0;
	ssize_t r;

	if (fd < 0)
		return reason_fail(why, "cannot open the master key file");
	while (got <= cap) {
		r = read(fd, dst + got, cap + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return reason_fail(why,
			    "cannot read the master key file");
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got > cap)
		return reason_fail(why, "master key file is too large");
	*len = got;
	return 0;
}

/* Raw, hex or base64: the forms `openssl rand` and `aws kms` produce. */
static int
decode_key(uint8_t *key, const uint8_t *text, size_t n)
{
	_Static_assert(KT_MASTER_KEY_LEN == KEY_TEXT_KEY_LEN,
	    "the master key is the size key_text_decode writes");

	if (n == KT_MASTER_KEY_LEN) {
		memcpy(key, text, n);
		return 0;
	}
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	return key_text_decode(key, (const char *)text, n);
}

/* The file's text is key material too: it lives in secret memory. */
int
kt_master_key_load(struct secret *key, const char *path, struct reason *why)
{
	struct secret text = SECRET_INIT;
	size_t len = 0;
	int rc = -1;

	if (secret_alloc(&text, KEY_FILE_MAX + 1) < 0)
		return reason_fail(why, "out of memory");
	if (read_small_file(path, text.data, KEY_FILE_MAX, &len, why) < 0)
		goto done;
	if (secret_alloc(key, KT_MASTER_KEY_LEN) < 0) {
		reason_fail(why, "out of memory");
		goto done;
	}
	if (decode_key(key->data, text.data, len) < 0) {
		secret_free(key);
		reason_fail(why,
		    "master key file must hold 32 bytes: raw, 64 hex "
		    "characters or base64");
		goto done;
	}
	rc = 0;
done:
	secret_free(&text);
	return rc;
}
