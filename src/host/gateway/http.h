/*
 * http.h - the gateway's HTTP/1.1 front, on libmicrohttpd.
 */
#ifndef GATEWAY_HTTP_H
#define GATEWAY_HTTP_H

#include "host/gateway/gateway.h"

struct http_front;

/* Listen on opts->listen and serve; NULL (logged) when it cannot. */
struct http_front *http_start(struct gateway_ctx *g);
/* Stop accepting connections; requests already here go on. */
void http_quiesce(struct http_front *h);
/* Close every connection and free (after http_quiesce and the drain). */
void http_stop(struct http_front *h);

#endif
