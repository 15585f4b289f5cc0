/*
 * reload.c - the TSK files read at start and on SIGHUP (see reload.h).
 */
#include "host/gateway/reload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/key_id.h"
#include "common/log.h"

struct reloader {
	const struct gateway_options *o;
	struct metrics  *m;
	struct pool     *pool;
	pthread_mutex_t  lock;
	pthread_cond_t   cv;
	int              pending, stopping;
	pthread_t        thread;
	/* The default key now ("": none yet); only the reader thread uses it. */
	char             default_id[KEY_ID_MAX + 1];
};

int
reload_load_keys(const struct gateway_options *o, struct metrics *m,
    const char *previous_default, struct keyring **out)
{
	const struct keyring_default rule = { o->default_key,
	    previous_default };
	const char *ids[GATEWAY_MAX_KEYS];
	struct keyring *k;
	size_t i;
	int empty;

	*out = NULL;
	if (o->n_tsks == 0 && o->tsk_dir == NULL)
		return 0;
	if ((k = keyring_load(o->tsks, o->n_tsks, o->tsk_dir, &rule,
	    &empty)) == NULL) {
		if (empty) {
			/* An empty directory: no key (yet), not an error. */
			log_warn("the key directory %s holds no ID.b64 file",
			    o->tsk_dir);
			metrics_keys_loaded(m, NULL, 0, 1);
			return 0;
		}
		metrics_keys_loaded(m, NULL, 0, 0);
		return -1;
	}
	for (i = 0; i < k->n; i++)
		ids[i] = k->key[i].key_id;
	metrics_keys_loaded(m, ids, k->n, 1);
	*out = k;
	return 0;
}

/*
 * A file that cannot be read keeps every key as it was (nothing
 * half-applied); otherwise the pool brings each enclave to the new keys
 * while requests go on.
 */
static void
reload_keys(struct reloader *r)
{
	const struct gateway_options *o = r->o;
	struct keyring *k;

	if (o->n_tsks == 0 && o->tsk_dir == NULL) {
		log_info("SIGHUP: no --tsk files to read again");
		return;
	}
	if (reload_load_keys(o, r->m, r->default_id[0] ? r->default_id : NULL,
	    &k) < 0) {
		log_error("SIGHUP: the key files could not all be read: "
		    "keeping the keys as they were");
		return;
	}
	if (k == NULL) {
		log_error("SIGHUP: no key left: keeping the keys as they were "
		    "(the enclaves would hold none)");
		return;
	}
	log_info("SIGHUP: %zu key%s read (default %s); bringing every enclave "
	    "to them", k->n, k->n == 1 ? "" : "s", k->default_id);
	snprintf(r->default_id, sizeof(r->default_id), "%s", k->default_id);
	pool_set_keys(r->pool, k);
	keyring_unref(k);
}

static void *
reloader_main(void *arg)
{
	struct reloader *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->pending && !r->stopping)
			pthread_cond_wait(&r->cv, &r->lock);
		if (r->stopping)
			break;
		r->pending = 0;
		pthread_mutex_unlock(&r->lock);
		reload_keys(r);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct reloader *
reloader_start(const struct gateway_options *o, struct metrics *m,
    struct pool *pool, const struct keyring *keys)
{
	struct reloader *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->o = o;
	r->m = m;
	r->pool = pool;
	if (keys != NULL)
		snprintf(r->default_id, sizeof(r->default_id), "%s",
		    keys->default_id);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (pthread_create(&r->thread, NULL, reloader_main, r) != 0) {
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return NULL;
	}
	return r;
}

void
reloader_request(struct reloader *r)
{
	pthread_mutex_lock(&r->lock);
	r->pending = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->lock);
}

void
reloader_stop(struct reloader *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
