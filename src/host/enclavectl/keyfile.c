/*
 * keyfile.c - the data owner's key: 32 bytes, stored three common ways.
 *
 *   exactly 32 bytes, not all text   the raw key
 *   64 hex characters                (whitespace around them ignored)
 *   base64 of 32 bytes               the Plaintext of `aws kms
 *                                    generate-data-key` (44 characters)
 *
 * Every file is exactly one of these or refused. A 32-byte file whose
 * bytes are all printable ASCII or whitespace is text, never a raw key:
 * an AES-128 key in hex (32 hex digits) or 31 characters and a newline
 * would otherwise become a key made of their ASCII codes. A random raw key
 * is all text with probability (98/256)^32, about 4.5e-14 (1 in 2.2e13),
 * and is then refused with a way out (write it as hex). The text forms
 * are decoded by common/key_text.c, as kmstool-dev's master key.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/aead.h"
#include "common/frame.h"
#include "common/key_text.h"
#include "host/enclavectl/ctl.h"

/* Bigger than any of the three forms with generous whitespace. */
#define KEYFILE_MAX 1024

static ssize_t
read_small(const char *cmd, const char *path, uint8_t *dst, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		ctl_error(cmd, "cannot open key file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (len < size) {
		n = read(fd, dst + len, size - len);
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ctl_error(cmd, "reading key file %s: %s", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	return (ssize_t)len;
}

/*
 * Printable ASCII or whitespace only: what a text editor or `echo` writes.
 * A raw key is 32 random bytes, and 158 of the 256 byte values are neither.
 */
static int
all_text(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((p[i] < 0x20 || p[i] > 0x7e) && !frame_is_space(p[i]))
			return 0;
	return 1;
}

/* Decode the text form into key[AEAD_KEY_LEN]; -1 when it is neither. */
static int
decode_text(const uint8_t *text, size_t n, uint8_t *key)
{
	size_t start = 0, end = n;

	_Static_assert(AEAD_KEY_LEN == KEY_TEXT_KEY_LEN,
	    "the data owner's key is the size key_text_decode writes");
	ctl_trim(text, &start, &end);
	return key_text_decode(key, (const char *)text + start, end - start);
}

int
ctl_load_key(const char *cmd, const char *path, struct secret *key)
{
	uint8_t text[KEYFILE_MAX + 1];
	ssize_t n;
	int rc = -1;

	if ((n = read_small(cmd, path, text, sizeof(text))) < 0)
		return -1;
	if ((size_t)n > KEYFILE_MAX) {
		ctl_error(cmd, "key file %s is too large for a 32-byte key",
		    path);
		goto done;
	}
	if (secret_alloc(key, AEAD_KEY_LEN) < 0) {
		ctl_error(cmd, "out of memory");
		goto done;
	}
	if (n == AEAD_KEY_LEN && all_text(text, AEAD_KEY_LEN)) {
		ctl_error(cmd, "key file %s is 32 bytes of text, not a key: a raw "
		    "key is 32 random bytes (all text by chance about once in "
		    "2e13), and a key written as text is 64 hex characters or "
		    "base64 of 32 bytes (an AES-128 key in hex, 32 characters, "
		    "is too short). If it is a raw key, write it as hex: "
		    "xxd -p -c 64 %s", path, path);
		secret_free(key);
		goto done;
	}
	if (n == AEAD_KEY_LEN)
		memcpy(key->data, text, AEAD_KEY_LEN);
	else if (decode_text(text, (size_t)n, key->data) < 0) {
		ctl_error(cmd, "key file %s must hold the 32-byte key as base64 "
		    "(44 characters), as 64 hex characters, or as 32 raw bytes "
		    "(not all text)", path);
		secret_free(key);
		goto done;
	}
	rc = 0;
done:
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}
