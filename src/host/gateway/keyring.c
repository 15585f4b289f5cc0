/*
 * keyring.c - reading the TSK files into a keyring (see keyring.h).
 */
#include "host/gateway/keyring.h"

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/buf.h"
#include "common/key_id.h"
#include "common/log.h"

#define TSK_FILE_MAX ((size_t)1 << 20)

/*
 * Opened non-blocking and checked with fstat before any read: a FIFO or a
 * device named like a key file would otherwise block the reading thread
 * until a writer appears (F36). Symbolic links are followed (secret
 * mounts and systemd credentials use them); what they lead to must be a
 * regular file too. *not_regular says why NULL came back, for a
 * directory's files, which are skipped rather than fatal.
 */
static FILE *
open_regular(const char *path, int *not_regular)
{
	struct stat st;
	FILE *f;
	int fd;

	*not_regular = 0;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) <
	    0) {
		log_error("cannot open the TSK file %s: %m", path);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*not_regular = 1;
		close(fd);
		return NULL;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		log_error("cannot read the TSK file %s: %m", path);
		close(fd);
	}
	return f;
}

/* The base64 KMS blob, whitespace around it dropped, checked, NUL-ended. */
static char *
read_tsk(const char *path, int *not_regular)
{
	struct buf b = BUF_INIT;
	char chunk[4096], *out = NULL;
	size_t start = 0, end, dec_len;
	uint8_t *dec = NULL;
	FILE *f;
	size_t n;

	if ((f = open_regular(path, not_regular)) == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n, TSK_FILE_MAX) < 0) {
			log_error("the TSK file %s is too large", path);
			goto done;
		}
	end = b.len;
	while (start < end && strchr(" \t\r\n", b.data[start]) != NULL)
		start++;
	while (end > start && strchr(" \t\r\n", b.data[end - 1]) != NULL)
		end--;
	if (start == end || (dec = malloc(base64_decoded_max(end - start))) ==
	    NULL || base64_decode(dec, &dec_len, (const char *)b.data + start,
	    end - start) < 0) {
		log_error("the TSK file %s does not hold base64 (the KMS "
		    "CiphertextBlob)", path);
		goto done;
	}
	if ((out = strndup((const char *)b.data + start, end - start)) == NULL)
		log_error("out of memory");
done:
	fclose(f);
	free(dec);
	buf_free(&b, 0);
	return out;
}

/*
 * Add one key; -1 (logged) when its file is bad or its id is taken. A
 * file that is not a regular one is an error for --tsk (named on purpose)
 * and skipped, with a log line, in a directory (`in_dir`).
 */
static int
add_key(struct keyring *k, const char *key_id, const char *path, int in_dir)
{
	struct gateway_key *key = &k->key[k->n];
	int not_regular;

	if (k->n == GATEWAY_MAX_KEYS) {
		log_error("more than %d keys", GATEWAY_MAX_KEYS);
		return -1;
	}
	if (!key_id_valid(key_id, strlen(key_id)) ||
	    keyring_find(k, key_id) != NULL) {
		log_error("key id %s is not valid or given twice (%s)", key_id,
		    path);
		return -1;
	}
	if ((key->tsk = read_tsk(path, &not_regular)) == NULL) {
		if (not_regular && in_dir) {
			log_warn("%s: not a regular file; skipped", path);
			return 0;
		}
		if (not_regular)
			log_error("the TSK file %s is not a regular file", path);
		return -1;
	}
	snprintf(key->key_id, sizeof(key->key_id), "%s", key_id);
	k->n++;
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every ID.b64 of `dir`, in name order. */
static int
add_dir(struct keyring *k, const char *dir)
{
	char *names[GATEWAY_MAX_KEYS + 1], path[PATH_MAX], id[KEY_ID_MAX + 1];
	size_t n = 0, i, len;
	struct dirent *de;
	int rc = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		log_error("cannot read the key directory %s: %m", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL && rc == 0) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".b64") != 0 ||
		    de->d_name[0] == '.')
			continue;
		if (n == GATEWAY_MAX_KEYS || (names[n] = strdup(de->d_name)) ==
		    NULL) {
			log_error("the key directory %s holds too many keys", dir);
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	for (i = 0; i < n; i++) {
		len = strlen(names[i]) - 4;
		if (rc == 0 && (len > KEY_ID_MAX || !key_id_valid(names[i], len))) {
			log_warn("%s/%s: not ID.b64 with a valid key id; skipped",
			    dir, names[i]);
		} else if (rc == 0) {
			memcpy(id, names[i], len);
			id[len] = '\0';
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			rc = add_key(k, id, path, 1);
		}
		free(names[i]);
	}
	return rc;
}

#define DEFAULT_FILE "DEFAULT"

/*
 * DIR/DEFAULT, the key id the operator names as the default: 0 with `id`
 * filled, 1 when there is no such file, -1 (logged) when it is not a
 * regular file holding one key id.
 */
static int
read_default_file(const char *dir, char id[KEY_ID_MAX + 1])
{
	char path[PATH_MAX], text[KEY_ID_MAX + 3];
	size_t n, start = 0;
	int not_regular;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, DEFAULT_FILE);
	if (access(path, F_OK) < 0)
		return 1;
	if ((f = open_regular(path, &not_regular)) == NULL) {
		if (not_regular)
			log_error("%s is not a regular file", path);
		return -1;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	while (n > 0 && strchr(" \t\r\n", text[n - 1]) != NULL)
		n--;
	while (start < n && strchr(" \t\r\n", text[start]) != NULL)
		start++;
	if (n - start > KEY_ID_MAX || !key_id_valid(text + start, n - start)) {
		log_error("%s must hold one key id (1 to %d characters from "
		    "A-Z a-z 0-9 . _ -)", path, KEY_ID_MAX);
		return -1;
	}
	memcpy(id, text + start, n - start);
	id[n - start] = '\0';
	return 0;
}

/*
 * The key a request without key_id uses, chosen by the operator and never
 * by the names of the files alone (issue 24: adding v2.b64 beside v1.b64
 * used to make v2 the default, and every old record posted without key_id
 * failed): --default-key; else DIR/DEFAULT; else the key "default"; else
 * the default before this load (a reload keeps it); else, at the first
 * load, the last key listed. -1 (logged) when the key so named is not in k.
 */
static int
choose_default(struct keyring *k, const struct keyring_default *rule,
    const char *dir)
{
	char from_file[KEY_ID_MAX + 1];
	const char *want = NULL, *why = NULL;
	int rc;

	if (rule->explicit_id != NULL) {
		want = rule->explicit_id;
		why = "--default-key";
	} else if (dir != NULL && (rc = read_default_file(dir,
	    from_file)) <= 0) {
		if (rc < 0)
			return -1;
		want = from_file;
		why = "the key directory's " DEFAULT_FILE " file";
	} else if (keyring_find(k, KEY_ID_DEFAULT) != NULL) {
		want = KEY_ID_DEFAULT;
	} else if (rule->previous_id != NULL) {
		want = rule->previous_id;
		if (keyring_find(k, want) == NULL) {
			log_error("the key files no longer hold %s, the default "
			    "key (a request without key_id uses it): name "
			    "another default first (%s%s or --default-key)",
			    want, dir != NULL ? dir : "the key directory's ",
			    dir != NULL ? "/" DEFAULT_FILE : DEFAULT_FILE);
			return -1;
		}
	} else {
		want = k->key[k->n - 1].key_id;
		log_warn("no --default-key, %s file or key \"default\": a "
		    "request without key_id uses %s, the last key listed, "
		    "until the default is named", DEFAULT_FILE, want);
	}
	if (why != NULL && keyring_find(k, want) == NULL) {
		log_error("%s names %s as the default key, but no key file "
		    "holds it", why, want);
		return -1;
	}
	k->default_id = keyring_find(k, want)->key_id;
	return 0;
}

struct keyring *
keyring_load(const struct gateway_tsk *tsks, size_t n, const char *dir,
    const struct keyring_default *rule, int *empty)
{
	struct keyring *k;
	size_t i;

	*empty = 0;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	atomic_init(&k->refs, 1);
	for (i = 0; i < n; i++)
		if (add_key(k, tsks[i].key_id, tsks[i].path, 0) < 0)
			goto fail;
	if (dir != NULL && add_dir(k, dir) < 0)
		goto fail;
	if (k->n == 0) {
		*empty = 1;
		goto fail;
	}
	if (choose_default(k, rule, dir) < 0)
		goto fail;
	return k;
fail:
	keyring_unref(k);
	return NULL;
}

struct keyring *
keyring_new(void)
{
	struct keyring *k;

	if ((k = calloc(1, sizeof(*k))) != NULL)
		atomic_init(&k->refs, 1);
	return k;
}

/* What an enclave holds is built key by key (key_sync.c): copies, own TSKs. */
int
keyring_add(struct keyring *k, const struct gateway_key *key)
{
	struct gateway_key *to;

	if (k->n == GATEWAY_MAX_KEYS)
		return -1;
	to = &k->key[k->n];
	if ((to->tsk = strdup(key->tsk)) == NULL)
		return -1;
	memcpy(to->key_id, key->key_id, sizeof(to->key_id));
	k->n++;
	return 0;
}

struct keyring *
keyring_ref(struct keyring *k)
{
	if (k != NULL)
		atomic_fetch_add(&k->refs, 1);
	return k;
}

void
keyring_unref(struct keyring *k)
{
	size_t i;

	if (k == NULL || atomic_fetch_sub(&k->refs, 1) != 1)
		return;
	for (i = 0; i < k->n; i++)
		free(k->key[i].tsk);
	free(k);
}

const struct gateway_key *
keyring_find(const struct keyring *k, const char *key_id)
{
	size_t i;

	for (i = 0; k != NULL && i < k->n; i++)
		if (strcmp(k->key[i].key_id, key_id) == 0)
			return &k->key[i];
	return NULL;
}
