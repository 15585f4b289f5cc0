/*
 * creds.c - the gateway's credential cache (see creds.h).
 *
 * Fetching happens in the probe thread (creds_maintain) so a request never
 * waits on IMDS unless there are no credentials at all; then creds_get
 * tries once itself. Copies handed out are fresh secrets the caller wipes.
 */
#include "host/gateway/creds.h"

#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"

int
creds_init(struct creds_cache *cc, enum host_credentials_source source,
    int needed, struct metrics *m)
{
	struct reason why;

	memset(cc, 0, sizeof(*cc));
	cc->source = source;
	cc->needed = needed;
	cc->metrics = m;
	cc->next_try_ms = 0;
	cc->retry_ms = CREDS_RETRY_MIN_MS;
	cc->cur = (struct host_credentials)HOST_CREDENTIALS_INIT;
	if (pthread_mutex_init(&cc->lock, NULL) != 0)
		return -1;
	if (source == HOST_CREDS_ENV && needed) {
		if (host_credentials_from_env(&cc->cur, 1, &why) < 0) {
			log_error("%s", why.text);
			pthread_mutex_destroy(&cc->lock);
			return -1;
		}
		metrics_credentials(m, 1, 0);
		log_info("credentials from the environment");
	}
	return 0;
}

void
creds_destroy(struct creds_cache *cc)
{
	host_credentials_clear(&cc->cur);
	pthread_mutex_destroy(&cc->lock);
}

static int
due(const struct creds_cache *cc, time_t now)
{
	if (cc->source != HOST_CREDS_IMDS)
		return 0;
	if (!host_credentials_present(&cc->cur))
		return 1;
	return cc->cur.expiration != 0 &&
	    now >= cc->cur.expiration - CREDS_REFRESH_MARGIN_S;
}

/*
 * Called with the lock held: IMDS answers in milliseconds, and holding it
 * keeps two threads from fetching at once. On failure the credentials in
 * hand stay (they may still be valid for a while).
 */
static int
fetch(struct creds_cache *cc)
{
	struct host_credentials fresh = HOST_CREDENTIALS_INIT;
	struct reason why;
	char exp[TIMEFMT_RFC3339_LEN + 1];
	long long now = clock_monotonic_ms();

	if (now < cc->next_try_ms)
		return -1;
	if (host_credentials_from_imds(&fresh, NULL, CREDS_FETCH_TIMEOUT_MS,
	    &why) < 0) {
		log_warn("credentials from the metadata service failed: %s "
		    "(next try in %d ms)", why.text, cc->retry_ms);
		cc->next_try_ms = now + cc->retry_ms;
		cc->retry_ms = cc->retry_ms * 2 > CREDS_RETRY_MAX_MS ?
		    CREDS_RETRY_MAX_MS : cc->retry_ms * 2;
		metrics_credentials(cc->metrics, 0, 0);
		return -1;
	}
	host_credentials_clear(&cc->cur);
	cc->cur = fresh;
	cc->retry_ms = CREDS_RETRY_MIN_MS;
	cc->next_try_ms = 0;
	timefmt_rfc3339(exp, cc->cur.expiration);
	log_info("credentials from the metadata service, valid until %s", exp);
	metrics_credentials(cc->metrics, 1, cc->cur.expiration);
	return 0;
}

void
creds_maintain(struct creds_cache *cc)
{
	if (!cc->needed)
		return;
	pthread_mutex_lock(&cc->lock);
	if (due(cc, time(NULL)))
		(void)fetch(cc);
	pthread_mutex_unlock(&cc->lock);
}

int
creds_get(struct creds_cache *cc, struct host_credentials *out)
{
	int rc = -1;

	pthread_mutex_lock(&cc->lock);
	if (!host_credentials_present(&cc->cur) ||
	    (cc->cur.expiration != 0 && time(NULL) >= cc->cur.expiration))
		(void)fetch(cc);
	if (host_credentials_present(&cc->cur) &&
	    (cc->cur.expiration == 0 || time(NULL) < cc->cur.expiration))
		rc = host_credentials_copy(out, &cc->cur);
	pthread_mutex_unlock(&cc->lock);
	return rc;
}
