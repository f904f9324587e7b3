/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "rv-manager.h"

G_BEGIN_DECLS

/*
 * the HTTP listener: sockets passed in by systemd (sd_listen_fds_with_names,
 * named "http"), or its own listener on the configured address when not
 * socket-activated; serves /health for now
 *
 * it listens before the stored torrents are back (a socket-activating
 * connection waits for it), and until rv_http_set_ready() /health answers
 * 503 "starting" with the count restored so far, never "ok" with a partial view
 */
typedef struct _RvHttp RvHttp;

RvHttp *rv_http_new(RvManager *manager, const char *listen, GError **error);
void rv_http_free(RvHttp *http);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvHttp, rv_http_free)

/* the service is ready (what READY=1 tells systemd): /health reports its health from now on */
void rv_http_set_ready(RvHttp *http);
/* how many listening sockets came from the service manager */
guint rv_http_get_activated(RvHttp *http);
/* the local port of the first listener, for logs and tests */
guint16 rv_http_get_port(RvHttp *http);

/* "host:port", "[v6]:port" or ":port"; InvalidArgument naming what is wrong */
GSocketAddress *rv_http_parse_listen(const char *listen, GError **error);

G_END_DECLS
