/*
 * reload.h - reading the TSK files: at start, and again on SIGHUP on a
 * thread of its own.
 *
 * The signal thread only asks for a reading (reload_request never
 * blocks), so however long a reading takes, SIGTERM is always heard
 * (F36). Requests that arrive while a reading runs make one more reading
 * after it, never a queue of them.
 */
#ifndef GATEWAY_RELOAD_H
#define GATEWAY_RELOAD_H

#include "host/gateway/gateway.h"
#include "host/gateway/keyring.h"
#include "host/gateway/metrics.h"
#include "host/gateway/pool.h"

struct reloader;

/*
 * The keyring of the --tsk files and --tsk-dir, its ids in the metrics;
 * *out NULL: none (no option, or an empty directory). -1 when a file
 * could not be read or the default key named is not among them.
 * `previous_default`: the default before (NULL at start), kept unless
 * the operator names another (keyring.h).
 */
int  reload_load_keys(const struct gateway_options *o, struct metrics *m,
    const char *previous_default, struct keyring **out);
/*
 * The thread that reads the files when asked, starting from `keys` (the
 * keyring loaded at start, may be NULL); NULL when it cannot start.
 */
struct reloader *reloader_start(const struct gateway_options *o,
    struct metrics *m, struct pool *pool, const struct keyring *keys);
/* Ask for a reading (from the signal thread): returns at once. */
void reloader_request(struct reloader *r);
/* Stop the thread (after the reading it may be doing) and free. */
void reloader_stop(struct reloader *r);

#endif
