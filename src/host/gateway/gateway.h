/*
 * gateway.h - enclave-gateway: what its files share.
 *
 * One file per concept: main.c (startup, signals, shutdown), options.c
 * (the command line), http.c (libmicrohttpd: connections, bodies,
 * routing), api.c (the three endpoints' answers), the enclave pool:
 * pool.c (its records), slots.c (which connection a request gets),
 * key_sync.c (keys to the enclaves), retry.c (one request and its
 * retries), probe.c (health checks and the background thread); keyring.c
 * (the TSK files), reload.c (reading them at start and, on its own
 * thread, on SIGHUP), creds.c (the credential cache and its refresh),
 * deadline.c (the whole-request deadline against slow clients),
 * metrics.c, errors.c (error codes to HTTP statuses).
 */
#ifndef GATEWAY_GATEWAY_H
#define GATEWAY_GATEWAY_H

#include <stdatomic.h>
#include <stddef.h>

#include "common/log.h"
#include "host/credentials/credentials.h"

#define GATEWAY_MAX_ENCLAVES     64
#define GATEWAY_MAX_KEYS         64
#define GATEWAY_KEY_ID_MAX       64	/* common/key_id.h */
#define GATEWAY_DEFAULT_LISTEN   "127.0.0.1:8080"
#define GATEWAY_DEFAULT_ENCLAVE  "vsock:16:5000"

/* One --tsk [ID=]FILE. */
struct gateway_tsk {
	char        key_id[GATEWAY_KEY_ID_MAX + 1];	/* "default" for FILE */
	const char *path;
};

struct gateway_options {
	const char *listen;			/* HOST:PORT */
	const char *enclaves[GATEWAY_MAX_ENCLAVES];
	size_t      n_enclaves;
	/* The keys every enclave is configured with; none: never configure. */
	struct gateway_tsk tsks[GATEWAY_MAX_KEYS];
	size_t      n_tsks;
	/* And every ID.b64 file in this directory (NULL: none). */
	const char *tsk_dir;
	/* The key a request without key_id uses (NULL: keyring.h's rule). */
	const char *default_key;
	const char *region;			/* NULL: the daemon's default */
	const char *kms_key_id;			/* NULL: none sent */
	enum host_credentials_source creds;
	int         conns_per_enclave;
	int         queue;
	size_t      max_body;
	size_t      memory_limit;		/* all bodies buffered at once */
	int         timeout_ms;
	int         max_connections;		/* HTTP connections at once */
	enum log_level log_level;
};

struct pool;
struct metrics;

/* What the HTTP front and the endpoints share while the gateway runs. */
struct gateway_ctx {
	const struct gateway_options *opts;
	struct pool    *pool;
	struct metrics *metrics;
	atomic_int      draining;	/* set once at shutdown */
};

/* options.c: -1 to go on, or the exit status (0 after --help, 2 usage). */
int gateway_options_parse(int argc, char **argv, struct gateway_options *o);

#endif
