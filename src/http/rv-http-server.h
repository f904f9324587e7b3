/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "rv-access.h"
#include "rv-live-settings.h"
#include "rv-manager.h"

G_BEGIN_DECLS

/*
 * the HTTP API: sockets passed in by systemd (sd_listen_fds_with_names,
 * named "http"), or its own listener on the configured address when not
 * socket-activated; /v1 (REST and the event stream), /health, /metrics;
 * HTTPS when a certificate is configured
 *
 * it listens before the stored torrents are back (a socket-activating
 * connection waits for it), and until rv_http_set_ready() /health answers
 * 503 "starting" with the count restored so far, never "ok" with a partial view
 */
typedef struct _RvHttp RvHttp;

typedef struct {
        /* "host:port"; NULL when only passed sockets are used */
        const char *listen;
        /* PEM files, both or neither */
        const char *tls_certificate;
        const char *tls_key;
        /* host names a Host header may carry besides IP addresses and localhost */
        const char *const *allowed_hosts;
        guint request_timeout_ms;
        guint event_queue;
        guint auth_failures;
        /* requests per second of a key without a limit of its own */
        guint rate_limit;
} RvHttpConfig;

void rv_http_config_init(RvHttpConfig *config);

RvHttp *rv_http_new(RvManager *manager, RvStore *store, const RvHttpConfig *config, GError **error);
void rv_http_free(RvHttp *http);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvHttp, rv_http_free)

/* the settings and the keys, once they are loaded (before that, routes that need them answer 503) */
void rv_http_set_settings(RvHttp *http, RvLiveSettings *settings);
void rv_http_set_access(RvHttp *http, RvAccess *access);

/*
 * a component /health/full checks by asking it something: func answers by
 * calling done (error NULL when fine) from the main loop, once
 */
typedef void (*RvHttpProbeDone)(const GError *error, gpointer done_data);
typedef void (*RvHttpProbeFunc)(RvHttpProbeDone done, gpointer done_data, gpointer user_data);
void rv_http_add_probe(RvHttp *http, const char *component, RvHttpProbeFunc func, gpointer user_data);

/* lines the owner adds to /metrics (Prometheus text format) */
typedef void (*RvHttpMetricsFunc)(GString *out, gpointer user_data);
void rv_http_set_metrics_func(RvHttp *http, RvHttpMetricsFunc func, gpointer user_data);

/* the service is ready (what READY=1 tells systemd): /health reports its health from now on */
void rv_http_set_ready(RvHttp *http);
/* how many listening sockets came from the service manager */
guint rv_http_get_activated(RvHttp *http);
/* the local port of the first listener, for logs and tests */
guint16 rv_http_get_port(RvHttp *http);
/* the URL of the first listener ("https://127.0.0.1:7070") */
char *rv_http_get_url(RvHttp *http);

/* "host:port", "[v6]:port" or ":port"; InvalidArgument naming what is wrong */
GSocketAddress *rv_http_parse_listen(const char *listen, GError **error);

G_END_DECLS
