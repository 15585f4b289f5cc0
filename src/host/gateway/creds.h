/*
 * creds.h - the gateway's credentials: fetched once, kept in locked
 * memory, refreshed before they expire, copied out for each configure.
 */
#ifndef GATEWAY_CREDS_H
#define GATEWAY_CREDS_H

#include <pthread.h>
#include <time.h>

#include "host/credentials/credentials.h"
#include "host/gateway/metrics.h"

/* IMDS credentials are renewed this long before their Expiration. */
#define CREDS_REFRESH_MARGIN_S 300
/* After a failed fetch, wait this long before the next (doubling). */
#define CREDS_RETRY_MIN_MS     500
#define CREDS_RETRY_MAX_MS     30000
#define CREDS_FETCH_TIMEOUT_MS 2000

struct creds_cache {
	pthread_mutex_t lock;
	enum host_credentials_source source;
	int       needed;		/* some key may be configured */
	struct host_credentials cur;	/* empty until the first fetch */
	long long next_try_ms;		/* monotonic: no fetch before */
	int       retry_ms;
	struct metrics *metrics;
};

/*
 * The environment's credentials are read (and wiped from it) here, when
 * `needed`: a gateway with no key source (no --tsk, no --tsk-dir) never
 * configures, so it asks for no credentials at all.
 */
int  creds_init(struct creds_cache *cc, enum host_credentials_source source,
    int needed, struct metrics *m);
void creds_destroy(struct creds_cache *cc);
/*
 * Fetch when there are none yet or they are within the margin of
 * expiring (and no failed fetch is being backed off). Cheap otherwise:
 * the probe thread calls it every tick.
 */
void creds_maintain(struct creds_cache *cc);
/* A copy for one configure; clear it right after. -1: none to give. */
int  creds_get(struct creds_cache *cc, struct host_credentials *out);

#endif
