/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "rv-engine.h"
#include "rv-enums.h"

G_BEGIN_DECLS

/*
 * revaerd.conf (GKeyFile) plus drop-ins (revaerd.conf.d, files ending in .conf) in name order:
 * what revaerd must know before anything else starts; every value is
 * validated and an error names the file, group and key
 */
typedef struct {
        /* [daemon] */
        char *state_dir;
        char *download_dir;
        char *log_level;
        guint resume_save_interval_s;
        guint progress_interval_ms;
        guint shutdown_timeout_s;
        /* how long an add waits for its records to be stored */
        guint add_timeout_s;
        gboolean sequential_default;
        /* [store] */
        char *store_backend;
        char *database_url;
        /* this node in a shared catalogue; NULL: the machine id */
        char *node_id;
        /* [cluster] (docs/cluster.md): a lease of this many seconds; 0 when there is no [cluster] group */
        guint cluster_lease_s;
        /* takeover=fresh: a taken-over torrent whose path is not reachable downloads again */
        gboolean cluster_takeover_fresh;
        /* placement=least-loaded: adds over HTTP go to the node with the fewest active torrents */
        gboolean cluster_least_loaded;
        /* pin=label:node,...: adds over HTTP with the label go to the node; "label", "node" pairs, NULL-ended */
        GStrv cluster_pins;
        /* how long a command carried to another node may take */
        guint cluster_command_timeout_s;
        /* [bus] system, session or none */
        char *bus;
        /* [http]; NULL: the app section of the settings decides */
        char *http_listen;
        /* PEM files; both or neither: HTTPS when given */
        char *http_tls_certificate;
        char *http_tls_key;
        /* names a Host header may carry besides IP addresses and localhost; NULL: none */
        GStrv http_allowed_hosts;
        /* how long a client may take to send a whole request */
        guint http_request_timeout_ms;
        /* bytes an event stream client may fall behind before it is cut off */
        guint http_event_queue;
        /* failed authentications per client address per minute before it is refused */
        guint http_auth_failures;
        /* requests per second a key without a limit of its own may make (a bucket that size) */
        guint http_rate_limit;
        /* [engine] */
        RvEngineSettings engine;
        /* files that were read, in order */
        GPtrArray *sources;
} RvBootstrap;

/* the takeover bound when [cluster] sets no lease-seconds */
#define RV_BOOTSTRAP_LEASE_DEFAULT_S 30
#define RV_BOOTSTRAP_COMMAND_TIMEOUT_DEFAULT_S 10

void rv_bootstrap_init(RvBootstrap *config);
void rv_bootstrap_clear(RvBootstrap *config);
/* path may be NULL for defaults only; a missing main file is fine, a broken one is not */
gboolean rv_bootstrap_load(RvBootstrap *config, const char *path, GError **error);

G_END_DECLS
