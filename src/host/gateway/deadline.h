/*
 * deadline.h - a whole-request deadline for HTTP clients.
 *
 * libmicrohttpd's timeout counts inactivity only: a client sending a byte
 * every few seconds (slowloris) holds its connection, one of
 * --max-connections, for as long as it likes. Here every connection has
 * --timeout, from its accept or from its previous answer, to deliver a
 * whole request (headers and body). A watchdog thread closes those that
 * do not: with 408 when the headers were in (the body is late), silently
 * when they were not (nothing to answer yet). Once the request is whole,
 * serving it is the pool's business (its own --timeout), not this clock's.
 *
 * Library-agnostic: http.c calls these from libmicrohttpd's callbacks.
 */
#ifndef GATEWAY_DEADLINE_H
#define GATEWAY_DEADLINE_H

struct metrics;
struct deadlines;		/* the watchdog and the connections it watches */
struct deadline_conn;		/* one connection's clock */

enum deadline_phase {
	DEADLINE_HEADERS,	/* waiting for a request's headers: clock restarts */
	DEADLINE_BODY,		/* headers in, body arriving: 408 on expiry */
	DEADLINE_SERVING,	/* the request is whole: no clock */
};

/* Start the watchdog; NULL (logged) when it cannot. */
struct deadlines *deadlines_start(int limit_ms, struct metrics *m);
/* Stop it (after the HTTP server, which forgets every connection). */
void deadlines_stop(struct deadlines *d);

/* A connection was accepted on fd: its clock starts; NULL: out of memory. */
struct deadline_conn *deadline_track(struct deadlines *d, int fd);
/* The connection closes; before its descriptor does. */
void deadline_forget(struct deadlines *d, struct deadline_conn *c);
/*
 * Move the connection to phase p (DEADLINE_HEADERS restarts its clock).
 * -1 when its deadline passed already: the watchdog is closing it, and the
 * request must not be served.
 */
int  deadline_enter(struct deadlines *d, struct deadline_conn *c,
    enum deadline_phase p);

#endif
