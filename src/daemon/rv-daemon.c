/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaerd"

#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <glib-unix.h>
#include <systemd/sd-daemon.h>

#include "rv-access.h"
#include "rv-bootstrap.h"
#include "rv-bus.h"
#include "rv-live-settings.h"
#include "rv-daemon.h"
#ifdef RV_FAULT_INJECTION
#include "rv-faults.h"
#endif
#include "rv-fsops.h"
#include "rv-http-server.h"
#include "rv-journal-sink.h"
#include "rv-json.h"
#include "rv-log.h"
#include "rv-logcontrol.h"
#include "rv-loopwatch.h"
#include "rv-manager.h"
#include "rv-messages.h"
#include "rv-notify.h"
#include "rv-settings-apply.h"

/* how often a daemon on a shared store records itself as alive (nodes.last_seen in PostgreSQL) */
#define RV_DAEMON_NODE_INTERVAL_S 10

typedef struct {
        const RvDaemonOptions *options;
        GMainLoop *loop;
        int exit_status;
        RvBootstrap config;
        char *config_path;
        char *state_dir;
        char *download_dir;
        RvHealth *health;
        RvStore *store;
        RvEventBus *events;
        RvLiveSettings *settings;
        RvAccess *access;
        RvSettingsApplier *applier;
        /* the guard-rail warning last logged, so each is logged once */
        char *guard_logged;
        guint node_timer;
        guint event_sub;
        guint trim_timer;
        RvEngine *engine;
        RvManager *manager;
        RvFsops *fsops;
        RvBus *bus;
        RvHttp *http;
        RvNotify *notify;
        sd_bus_slot *logcontrol_slot;
        gboolean stopping;
        int lock_fd;
        guint sig_term;
        guint sig_int;
        guint sig_hup;
} RvDaemon;

void
rv_daemon_options_clear(RvDaemonOptions *options)
{
        g_clear_pointer(&options->state_dir, g_free);
        g_clear_pointer(&options->download_dir, g_free);
        g_clear_pointer(&options->config_path, g_free);
        g_clear_pointer(&options->bus, g_free);
}

/* the first entry of a colon-separated systemd directory variable */
static char *
rv_daemon_env_dir(const char *name)
{
        const char *value = g_getenv(name);
        g_auto(GStrv) parts = NULL;

        if (value == NULL || value[0] == '\0')
                return NULL;
        parts = g_strsplit(value, ":", 2);
        return g_strdup(parts[0]);
}

static char *
rv_daemon_resolve_config_path(const RvDaemonOptions *options)
{
        g_autofree char *dir = NULL;

        if (options->config_path != NULL)
                return g_strdup(options->config_path);
        dir = rv_daemon_env_dir("CONFIGURATION_DIRECTORY");
        if (dir != NULL)
                return g_build_filename(dir, "revaerd.conf", NULL);
        if (geteuid() == 0)
                return g_build_filename(SYSCONFDIR, "revaer", "revaerd.conf", NULL);
        return g_build_filename(g_get_user_config_dir(), "revaer", "revaerd.conf", NULL);
}

static char *
rv_daemon_resolve_state_dir(const RvDaemonOptions *options, const RvBootstrap *config)
{
        g_autofree char *dir = NULL;

        if (options->state_dir != NULL)
                return g_strdup(options->state_dir);
        dir = rv_daemon_env_dir("STATE_DIRECTORY");
        if (dir != NULL)
                return g_steal_pointer(&dir);
        if (config->state_dir != NULL)
                return g_strdup(config->state_dir);
        if (geteuid() == 0)
                return g_build_filename(LOCALSTATEDIR, "lib", "revaer", NULL);
        return g_build_filename(g_get_user_state_dir(), "revaer", NULL);
}

static int
rv_daemon_log_level(const RvDaemon *self)
{
        int level = rv_log_level_from_string(self->config.log_level);

        if (self->options->verbose)
                return LOG_DEBUG;
        return level >= 0 ? level : LOG_INFO;
}

static void
rv_daemon_event_reserve_cb(guint64 reserved_up_to, gpointer user_data)
{
        RvDaemon *self = user_data;

        rv_store_put_event_reservation(self->store, reserved_up_to);
}

static void
rv_daemon_health_changed_cb(RvHealth *health, const char *component, gpointer user_data)
{
        RvDaemon *self = user_data;
        const char *reason = rv_health_get_reason(health, component);
        JsonObject *obj = json_object_new();

        if (reason != NULL)
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID", RV_MESSAGE_HEALTH_CHANGED,
                                 "REVAER_COMPONENT", component, "MESSAGE", "health: %s degraded: %s", component,
                                 reason);
        else
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_HEALTH_CHANGED,
                                 "REVAER_COMPONENT", component, "MESSAGE", "health: %s is back to normal", component);
        json_object_set_string_member(obj, "component", component);
        json_object_set_string_member(obj, "status", rv_health_get_status(health));
        if (reason != NULL)
                json_object_set_string_member(obj, "reason", reason);
        if (self->events != NULL)
                rv_event_bus_publish(self->events, RV_EVENT_HEALTH_CHANGED, NULL, rv_json_node_take_object(obj));
        else
                json_object_unref(obj);
}

static void
rv_daemon_problem_cb(RvManager *manager, const char *message, gpointer user_data)
{
        g_warning("%s", message);
}

static void
rv_daemon_shutdown_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvDaemon *self = user_data;
        g_autoptr(GError) error = NULL;
        guint saved = 0;

        if (!rv_manager_shutdown_finish(RV_MANAGER(source), result, &saved, &error)) {
                g_warning("shutdown: %s", error->message);
                self->exit_status = 1;
        } else {
                g_info("saved resume data for %u torrents", saved);
        }
        g_main_loop_quit(self->loop);
}

static gboolean
rv_daemon_stop_cb(gpointer user_data)
{
        RvDaemon *self = user_data;

        if (self->stopping) {
                g_info("already stopping");
                return G_SOURCE_CONTINUE;
        }
        self->stopping = TRUE;
        rv_loop_watch_report();
        g_info("stopping");
        if (self->notify != NULL)
                rv_notify_stopping(self->notify);
        else
                (void)sd_notify(0, "STOPPING=1");
        if (self->bus != NULL)
                rv_bus_set_service_state(self->bus, "stopping");
        if (self->manager == NULL) {
                g_main_loop_quit(self->loop);
                return G_SOURCE_CONTINUE;
        }
        rv_manager_shutdown_async(self->manager, rv_daemon_shutdown_cb, self);
        return G_SOURCE_CONTINUE;
}

static void
rv_daemon_bus_lost_cb(RvBus *bus, const char *reason, gpointer user_data)
{
        RvDaemon *self = user_data;

        g_warning("lost the bus connection (%s), stopping", reason);
        self->exit_status = 1;
        (void)rv_daemon_stop_cb(self);
}

static gboolean
rv_daemon_reload_cb(gpointer user_data)
{
        RvDaemon *self = user_data;
        RvBootstrap next;
        g_autoptr(GError) error = NULL;

        g_info("reloading '%s'", self->config_path);
        if (self->stopping)
                return G_SOURCE_CONTINUE;
        rv_notify_reloading(self->notify);
        rv_bootstrap_init(&next);
        if (!rv_bootstrap_load(&next, self->config_path, &error)) {
                g_warning("reload failed, keeping the running configuration: %s", error->message);
                rv_bootstrap_clear(&next);
                rv_notify_reloaded(self->notify);
                return G_SOURCE_CONTINUE;
        }
        if (g_strcmp0(next.store_backend, self->config.store_backend) != 0 ||
            g_strcmp0(next.bus, self->config.bus) != 0 || g_strcmp0(next.state_dir, self->config.state_dir) != 0)
                g_warning("store, bus and state directory changes take effect at the next start");
        rv_bootstrap_clear(&self->config);
        self->config = next;
        if (self->options->download_dir == NULL && self->config.download_dir != NULL) {
                g_free(self->download_dir);
                self->download_dir = g_strdup(self->config.download_dir);
        }
        /* the runtime settings live in the store; revaerd.conf's engine internals apply with them */
        if (self->applier != NULL) {
                rv_settings_applier_set_bootstrap(self->applier, &self->config, self->download_dir,
                                                  self->options->download_dir != NULL);
                rv_settings_applier_apply(self->applier);
        }
        g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_SETTINGS_CHANGED, "MESSAGE",
                         "configuration reloaded from '%s'", self->config_path);
        rv_notify_reloaded(self->notify);
        return G_SOURCE_CONTINUE;
}

/* every stored torrent is listed: the name, READY and the HTTP API, while the engine takes them on */
static void
rv_daemon_listed_cb(RvManager *manager, gpointer user_data)
{
        RvDaemon *self = user_data;
        g_autoptr(GError) error = NULL;

        if (self->bus != NULL) {
                if (!rv_bus_request_name(self->bus, &error)) {
                        g_critical("%s", error->message);
                        self->exit_status = 1;
                        g_main_loop_quit(self->loop);
                        return;
                }
                rv_bus_set_service_state(self->bus, "running");
        }
        if (self->http != NULL)
                rv_http_set_ready(self->http);
        g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_STARTED, "MESSAGE",
                         "ready: %u torrents, state in '%s', downloads in '%s'%s", rv_manager_get_count(self->manager),
                         self->state_dir, self->download_dir,
                         self->http != NULL && rv_http_get_activated(self->http) > 0 ? ", socket-activated" : "");
        rv_notify_ready(self->notify);
}

static void
rv_daemon_loaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvDaemon *self = user_data;
        g_autoptr(GError) error = NULL;

        if (!rv_manager_load_finish(RV_MANAGER(source), result, &error)) {
                /* stopping: nothing more to start */
                if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                        return;
                g_warning("stored torrents could not be read, starting without them: %s", error->message);
        }
        /* reading the catalogue freed a lot of small blocks: give the pages back instead of holding them */
        (void)malloc_trim(0);
        rv_fsops_start(self->fsops);
        /* what this node owns is in the engine: from now on it takes over from nodes whose lease ran out */
        rv_store_start_takeover(self->store);
        /* loading may keep the loop busy; from here on an iteration over 10 ms is a stall */
        rv_loop_watch_arm();
}

/*
 * A download's blocks pass through libtorrent's buffers, allocated by its
 * network thread and freed by its disk threads, in a malloc arena that glibc
 * gives back only from its top: after one 1 GiB download a fresh revaerd held
 * 41 MB of free memory there (RSS 23 -> 65 MiB; after bench/peers' 2 GiB
 * rounds, 105-141 MiB). A few seconds after a torrent completes, pauses or
 * goes, the free pages go back, at most once per delay, and from a thread of
 * their own: a trim walks every arena, and the main loop does not wait for it.
 * Not while torrents still move more than RV_DAEMON_TRIM_BUSY_RATE between
 * them: their blocks would fault the same pages in again at once (the next
 * download of a queue, a seeding library), so the trim waits another delay.
 */
#define RV_DAEMON_TRIM_DELAY_S 5
#define RV_DAEMON_TRIM_BUSY_RATE (1024 * 1024)
#define RV_DAEMON_TRIM_THRESHOLD (8 * 1024 * 1024)
#define RV_DAEMON_MMAP_THRESHOLD (32 * 1024 * 1024)

static gpointer
rv_daemon_trim_thread(gpointer data)
{
        (void)malloc_trim(0);
        return NULL;
}

static gboolean
rv_daemon_trim_cb(gpointer user_data)
{
        RvDaemon *self = user_data;
        GThread *thread;
        gint64 down = 0;
        gint64 up = 0;

        if (self->manager != NULL)
                rv_manager_get_rates(self->manager, &down, &up);
        if (down + up > RV_DAEMON_TRIM_BUSY_RATE)
                return G_SOURCE_CONTINUE;
        self->trim_timer = 0;
        thread = g_thread_try_new("rv-trim", rv_daemon_trim_thread, NULL, NULL);
        /* no thread to be had: the pages stay until the next time */
        if (thread != NULL)
                g_thread_unref(thread);
        return G_SOURCE_REMOVE;
}

static void
rv_daemon_event_cb(const RvEvent *event, gpointer user_data)
{
        RvDaemon *self = user_data;

        if (self->trim_timer != 0)
                return;
        if (event->kind == RV_EVENT_COMPLETED || event->kind == RV_EVENT_TORRENT_REMOVED ||
            (event->kind == RV_EVENT_STATE_CHANGED && rv_event_get_state(event) == RV_TORRENT_STATE_PAUSED))
                self->trim_timer = g_timeout_add_seconds(RV_DAEMON_TRIM_DELAY_S, rv_daemon_trim_cb, self);
}

/* what the applier leaves to the composition root: the log level the settings ask for */
static void
rv_daemon_settings_applied_cb(JsonNode *doc, gpointer user_data)
{
        RvDaemon *self = user_data;
        int level = rv_log_level_from_string(rv_settings_get_string(doc, "app", "log_level"));
        g_autofree char *guard = rv_settings_guard_rails(doc);

        if (!self->options->verbose && level >= 0)
                rv_log_set_level(level);
        if (guard != NULL && g_strcmp0(guard, self->guard_logged) != 0)
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID", RV_MESSAGE_GUARD_RAIL, "MESSAGE",
                                 "guard rail: %s", guard);
        g_free(self->guard_logged);
        self->guard_logged = g_steal_pointer(&guard);
}

static void
rv_daemon_settings_changed_cb(RvLiveSettings *config, guint64 revision, JsonNode *changes, const char *actor,
                              gpointer user_data)
{
        RvDaemon *self = user_data;
        g_autofree char *text = changes != NULL ? json_to_string(changes, FALSE) : g_strdup("{}");
        const char *disabled = rv_settings_limit_disabled(changes);
        JsonObject *obj = json_object_new();
        g_autofree char *rev = NULL;

        rv_settings_applier_apply(self->applier);
        rev = g_strdup_printf("%" G_GUINT64_FORMAT, revision);
        g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_SETTINGS_CHANGED, "REVAER_REVISION",
                         rev, "REVAER_ACTOR", actor != NULL ? actor : "", "MESSAGE",
                         "settings revision %" G_GUINT64_FORMAT " by %s: %s", revision, actor != NULL ? actor : "?",
                         text);
        if (disabled != NULL)
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID", RV_MESSAGE_GUARD_RAIL, "MESSAGE",
                                 "guard rail: %s was switched off (now unlimited)", disabled);
        json_object_set_int_member(obj, "revision", (gint64)revision);
        json_object_set_string_member(obj, "actor", actor != NULL ? actor : "");
        json_object_set_member(obj, "changes",
                               changes != NULL ? json_node_copy(changes) : rv_json_node_take_object(json_object_new()));
        rv_event_bus_publish(self->events, RV_EVENT_SETTINGS_CHANGED, NULL, rv_json_node_take_object(obj));
}

static void
rv_daemon_fail(RvDaemon *self, const GError *error)
{
        g_critical("cannot start: %s", error->message);
        (void)sd_notifyf(0, "STATUS=Failed to start: %s", error->message);
        self->exit_status = 1;
        g_main_loop_quit(self->loop);
}

/* /health/full asks the bus daemon for a pong, to show the bus answers and how fast */
typedef struct {
        RvHttpProbeDone done;
        gpointer done_data;
} RvDaemonProbe;

static int
rv_daemon_bus_pong_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvDaemonProbe *probe = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e != NULL) {
                g_autoptr(GError) error =
                        g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE, "the bus did not answer: %s", e->message);
                probe->done(error, probe->done_data);
        } else {
                probe->done(NULL, probe->done_data);
        }
        g_free(probe);
        return 0;
}

static void
rv_daemon_probe_bus(RvHttpProbeDone done, gpointer done_data, gpointer user_data)
{
        RvDaemon *self = user_data;
        RvDaemonProbe *probe = g_new0(RvDaemonProbe, 1);
        int r;

        probe->done = done;
        probe->done_data = done_data;
        r = self->bus != NULL ? sd_bus_call_method_async(rv_bus_get_sd_bus(self->bus), NULL, "org.freedesktop.DBus",
                                                         "/org/freedesktop/DBus", "org.freedesktop.DBus.Peer", "Ping",
                                                         rv_daemon_bus_pong_cb, probe, NULL)
                              : -ENOTCONN;
        if (r < 0) {
                g_autoptr(GError) error =
                        g_error_new(RV_ERROR, RV_ERROR_UNAVAILABLE, "cannot ask the bus: %s", g_strerror(-r));
                done(error, done_data);
                g_free(probe);
        }
}

/* what /metrics shows that only the daemon knows */
static void
rv_daemon_metrics(GString *out, gpointer user_data)
{
        gint64 longest = 0;
        guint stalls = rv_loop_watch_get_stalls(&longest);

        g_string_append_printf(out,
                               "# HELP revaer_main_loop_stalls_total Main-loop iterations over 10 ms since the "
                               "service was ready.\n# TYPE revaer_main_loop_stalls_total counter\n"
                               "revaer_main_loop_stalls_total %u\n"
                               "# HELP revaer_main_loop_longest_stall_seconds The longest main-loop iteration since "
                               "the service was ready.\n# TYPE revaer_main_loop_longest_stall_seconds gauge\n"
                               "revaer_main_loop_longest_stall_seconds %.6f\n",
                               stalls, (double)longest / G_USEC_PER_SEC);
}

static gboolean
rv_daemon_start_http(RvDaemon *self, const char *listen, GError **error)
{
        RvHttpConfig hc;

        rv_http_config_init(&hc);
        hc.listen = listen;
        hc.tls_certificate = self->config.http_tls_certificate;
        hc.tls_key = self->config.http_tls_key;
        hc.allowed_hosts = (const char *const *)self->config.http_allowed_hosts;
        hc.request_timeout_ms = self->config.http_request_timeout_ms;
        hc.event_queue = self->config.http_event_queue;
        hc.auth_failures = self->config.http_auth_failures;
        hc.rate_limit = self->config.http_rate_limit;
        self->http = rv_http_new(self->manager, self->store, &hc, error);
        if (self->http == NULL)
                return FALSE;
        {
                g_autofree char *url = rv_http_get_url(self->http);
                g_info("HTTP API at %s", url != NULL ? url : "(no listener)");
        }
        rv_http_set_settings(self->http, self->settings);
        rv_http_set_access(self->http, self->access);
        if (self->bus != NULL)
                rv_http_add_probe(self->http, "bus", rv_daemon_probe_bus, self);
        rv_http_set_metrics_func(self->http, rv_daemon_metrics, self);
        return TRUE;
}

/* with the settings known: the engine, the registry, the bus, HTTP, then the stored torrents */
static gboolean
rv_daemon_start_services(RvDaemon *self, GError **error)
{
        const char *bus_kind = self->options->bus != NULL ? self->options->bus : self->config.bus;
        JsonNode *doc = rv_live_settings_get_document(self->settings);
        RvEngineSettings es;
        RvManagerConfig mc;
        g_autofree char *listen = NULL;

        self->applier = rv_settings_applier_new(self->settings, self->health, &self->config, self->download_dir,
                                                self->options->download_dir != NULL);
        rv_settings_applier_set_applied_func(self->applier, rv_daemon_settings_applied_cb, self);
        rv_settings_applier_engine_settings(self->applier, &es);
        self->engine = rv_engine_new_libtorrent(&es, error);
        rv_engine_settings_clear(&es);
        if (self->engine == NULL)
                return FALSE;
        rv_manager_config_init(&mc);
        rv_settings_applier_manager_config(self->applier, &mc);
        self->manager = rv_manager_new(self->engine, self->store, self->health, self->events, &mc);
        rv_manager_config_clear(&mc);
        g_signal_connect(self->manager, "problem", G_CALLBACK(rv_daemon_problem_cb), self);
        if (rv_store_get_lease(self->store) > 0) {
                RvManagerCluster cluster = {
                        .takeover_fresh = self->config.cluster_takeover_fresh,
                        .least_loaded = self->config.cluster_least_loaded,
                        .pins = (const char *const *)self->config.cluster_pins,
                        .command_timeout_ms = self->config.cluster_command_timeout_s * 1000,
                };
                rv_manager_set_cluster(self->manager, &cluster);
        }
        rv_journal_sink_attach(self->events);
        self->event_sub = rv_event_bus_subscribe(self->events, rv_daemon_event_cb, self);
        self->fsops = rv_fsops_new(self->manager, self->settings);
        rv_settings_applier_attach(self->applier, self->engine, self->manager);
        g_signal_connect(self->settings, "changed", G_CALLBACK(rv_daemon_settings_changed_cb), self);

        if (g_strcmp0(bus_kind, "none") != 0) {
                RvBusKind kind = g_strcmp0(bus_kind, "session") == 0 ? RV_BUS_KIND_SESSION : RV_BUS_KIND_SYSTEM;
                self->bus = rv_bus_new(self->manager, kind, error);
                if (self->bus == NULL)
                        return FALSE;
                rv_bus_set_settings(self->bus, self->settings);
                rv_bus_set_access(self->bus, self->access);
                rv_bus_set_disconnected_func(self->bus, rv_daemon_bus_lost_cb, self);
                if (rv_logcontrol_add(rv_bus_get_sd_bus(self->bus), &self->logcontrol_slot) < 0)
                        g_warning("cannot export LogControl1, ignoring");
        }
        /* listeners are up before READY; a socket-activating connection waits in the backlog until then */
        listen = self->config.http_listen != NULL
                         ? g_strdup(self->config.http_listen)
                         : g_strdup_printf(strchr(rv_settings_get_string(doc, "app", "http_bind"), ':') != NULL
                                                   ? "[%s]:%" G_GINT64_FORMAT
                                                   : "%s:%" G_GINT64_FORMAT,
                                           rv_settings_get_string(doc, "app", "http_bind"),
                                           rv_settings_get_int(doc, "app", "http_port", 7070));
        if (g_strcmp0(listen, "none") != 0 || g_getenv("LISTEN_FDS") != NULL) {
                if (!rv_daemon_start_http(self, g_strcmp0(listen, "none") != 0 ? listen : NULL, error))
                        return FALSE;
        }
        self->notify = rv_notify_new(self->manager);
        g_signal_connect(self->manager, "listed", G_CALLBACK(rv_daemon_listed_cb), self);
        rv_manager_load_async(self->manager, NULL, rv_daemon_loaded_cb, self);
        return TRUE;
}

static void
rv_daemon_access_loaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvDaemon *self = user_data;
        g_autoptr(GError) error = NULL;

        if (!rv_access_load_finish(RV_ACCESS(source), result, &error) || !rv_daemon_start_services(self, &error))
                rv_daemon_fail(self, error);
}

static void
rv_daemon_settings_loaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvDaemon *self = user_data;
        g_autoptr(GError) error = NULL;

        if (!rv_live_settings_load_finish(RV_LIVE_SETTINGS(source), result, &error)) {
                rv_daemon_fail(self, error);
                return;
        }
        g_debug("settings at revision %" G_GUINT64_FORMAT " from the %s store",
                rv_live_settings_get_revision(self->settings), rv_store_get_backend(self->store));
        self->access = rv_access_new(self->store, self->settings);
        rv_access_load_async(self->access, rv_daemon_access_loaded_cb, self);
}

static void
rv_daemon_node_touched_cb(const GError *error, gpointer user_data)
{
        /* an outage is the store's health to report; the next touch tries again */
        if (error != NULL)
                g_debug("recording this node in the store failed: %s, ignoring", error->message);
}

static gboolean
rv_daemon_node_timer_cb(gpointer user_data)
{
        RvDaemon *self = user_data;

        /* queued on the store's connection like any write; nothing here waits for it */
        rv_store_touch_node(self->store, g_get_host_name(), rv_daemon_node_touched_cb, NULL);
        return G_SOURCE_CONTINUE;
}

static void
rv_daemon_store_opened_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvDaemon *self = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autoptr(JsonNode) initial = NULL;
        guint64 reserved;

        if (!rv_store_open_finish(self->store, result, &error)) {
                rv_daemon_fail(self, error);
                return;
        }
        /*
         * the node registry says which daemons share the database and when each
         * was last alive; the embedded store has one node and nobody to tell,
         * so it is recorded once rather than written every few seconds
         */
        (void)rv_daemon_node_timer_cb(self);
        if (g_strcmp0(rv_store_get_backend(self->store), "postgres") == 0)
                self->node_timer = g_timeout_add_seconds(RV_DAEMON_NODE_INTERVAL_S, rv_daemon_node_timer_cb, self);
        reserved = rv_store_read_event_reservation(self->store, &error_local);
        if (error_local != NULL) {
                /* wall-clock microseconds are above any id handed out before, short of a million events a second */
                g_warning("%s, continuing event ids from the clock", error_local->message);
                reserved = (guint64)g_get_real_time();
        }
        self->events = rv_event_bus_new(RV_EVENT_BUS_DEFAULT_RING, reserved + 1, rv_daemon_event_reserve_cb, self);
        self->settings = rv_live_settings_new(self->store);
        initial = rv_settings_initial_from_bootstrap(&self->config);
        rv_live_settings_load_async(self->settings, initial, NULL, rv_daemon_settings_loaded_cb, self);
}

/* two daemons on one state directory would overwrite each other's records */
static gboolean
rv_daemon_lock_state(RvDaemon *self, GError **error)
{
        g_autofree char *path = g_build_filename(self->state_dir, "revaerd.lock", NULL);

        if (g_mkdir_with_parents(self->state_dir, 0700) < 0) {
                g_set_error(error, RV_ERROR, rv_error_from_errno(errno), "cannot create the state directory '%s': %s",
                            self->state_dir, g_strerror(errno));
                return FALSE;
        }
        self->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (self->lock_fd < 0) {
                g_set_error(error, RV_ERROR, rv_error_from_errno(errno), "cannot open '%s': %s", path,
                            g_strerror(errno));
                return FALSE;
        }
        if (flock(self->lock_fd, LOCK_EX | LOCK_NB) < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_CONFLICT, "another revaerd uses the state directory '%s'",
                            self->state_dir);
                return FALSE;
        }
        return TRUE;
}

/* the node's name in a shared catalogue: revaerd.conf, else the machine id, else the host name */
static char *
rv_daemon_node_id(RvDaemon *self)
{
        g_autofree char *machine = NULL;

        if (self->config.node_id != NULL)
                return g_strdup(self->config.node_id);
        if (g_file_get_contents("/etc/machine-id", &machine, NULL, NULL) && strlen(g_strstrip(machine)) > 0)
                return g_steal_pointer(&machine);
        return g_strdup(g_get_host_name());
}

static gboolean
rv_daemon_setup(RvDaemon *self, GError **error)
{
        const RvDaemonOptions *options = self->options;
        const char *db_url = g_getenv("DATABASE_URL");

        self->config_path = rv_daemon_resolve_config_path(options);
        if (!rv_bootstrap_load(&self->config, self->config_path, error))
                return FALSE;
        rv_log_set_level(rv_daemon_log_level(self));
        if (db_url != NULL && db_url[0] != '\0') {
                g_free(self->config.database_url);
                self->config.database_url = g_strdup(db_url);
        }

        self->state_dir = rv_daemon_resolve_state_dir(options, &self->config);
        self->download_dir =
                g_strdup(options->download_dir != NULL ? options->download_dir : self->config.download_dir);
        if (self->download_dir == NULL)
                self->download_dir = g_build_filename(self->state_dir, "downloads", NULL);
        if (!g_path_is_absolute(self->state_dir) || !g_path_is_absolute(self->download_dir)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "the state directory ('%s') and download directory ('%s') must be absolute paths",
                            self->state_dir, self->download_dir);
                return FALSE;
        }
        if (g_mkdir_with_parents(self->download_dir, 0755) < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, "cannot create the download directory '%s': %s",
                            self->download_dir, g_strerror(errno));
                return FALSE;
        }

        if (!rv_daemon_lock_state(self, error))
                return FALSE;
        self->health = rv_health_new();
        rv_health_set_changed_func(self->health, rv_daemon_health_changed_cb, self);
        if (g_strcmp0(self->config.store_backend, "postgres") == 0 ||
            (self->config.database_url != NULL && g_strcmp0(self->config.store_backend, "embedded") != 0)) {
                g_autofree char *node = rv_daemon_node_id(self);
                if (self->config.database_url == NULL) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "%s: [store] backend=postgres needs database-url (or DATABASE_URL)",
                                    self->config_path);
                        return FALSE;
                }
                self->store = rv_store_postgres_new(self->config.database_url, node, self->health, error);
        } else {
                self->store = rv_store_embedded_new(self->state_dir, self->health, error);
        }
        if (self->store == NULL)
                return FALSE;
        if (self->config.cluster_lease_s > 0 && !rv_store_set_lease(self->store, self->config.cluster_lease_s, error)) {
                g_prefix_error(error, "%s: ", self->config_path != NULL ? self->config_path : "revaerd.conf");
                return FALSE;
        }
#ifdef RV_FAULT_INJECTION
        rv_faults_attach(self->store);
#endif
        rv_store_open_async(self->store, NULL, rv_daemon_store_opened_cb, self);
        return TRUE;
}

static void
rv_daemon_teardown(RvDaemon *self)
{
        if (self->event_sub != 0)
                rv_event_bus_unsubscribe(self->events, self->event_sub);
        if (self->trim_timer != 0)
                g_source_remove(self->trim_timer);
        if (self->sig_term != 0)
                g_source_remove(self->sig_term);
        if (self->sig_int != 0)
                g_source_remove(self->sig_int);
        if (self->sig_hup != 0)
                g_source_remove(self->sig_hup);
        g_clear_pointer(&self->notify, rv_notify_free);
        g_clear_pointer(&self->http, rv_http_free);
        g_clear_pointer(&self->logcontrol_slot, sd_bus_slot_unref);
        g_clear_pointer(&self->bus, rv_bus_free);
        g_clear_pointer(&self->applier, rv_settings_applier_free);
        g_free(self->guard_logged);
        if (self->node_timer != 0)
                g_source_remove(self->node_timer);
        /* a pipeline cut short here resumes at the next start */
        g_clear_pointer(&self->fsops, rv_fsops_free);
        g_clear_object(&self->manager);
        g_clear_object(&self->access);
        g_clear_object(&self->settings);
        g_clear_pointer(&self->engine, rv_engine_free);
        /* the store drains its queue before it goes */
        g_clear_pointer(&self->store, rv_store_free);
        g_clear_pointer(&self->events, rv_event_bus_free);
        g_clear_pointer(&self->health, rv_health_free);
        rv_bootstrap_clear(&self->config);
        g_free(self->config_path);
        g_free(self->state_dir);
        g_free(self->download_dir);
        if (self->lock_fd > 0)
                close(self->lock_fd);
        g_main_loop_unref(self->loop);
}

int
rv_daemon_run(const RvDaemonOptions *options)
{
        RvDaemon self = { 0 };
        g_autoptr(GError) error = NULL;

        /*
         * Fixed thresholds: by default glibc raises both (to up to 32 and 64
         * MB) each time a large block it had mapped on its own is freed, and a
         * thread's arena then keeps that much free at its top, where
         * malloc_trim() does not reach (it trims only the main arena's top):
         * after 1 GiB downloaded a fresh revaerd kept 33 MB there once trimmed.
         * Above RV_DAEMON_TRIM_THRESHOLD free at an arena's top, a free gives
         * back. Lower ones cost the download itself: with 1 MiB, and blocks
         * from 128 KiB mapped on their own, 2 GiB took 181,000 page faults;
         * with these, 98,000 after a trim (the buffers come back, as they do
         * for bare libtorrent's new process each time: 79,000-85,000).
         */
        (void)mallopt(M_MMAP_THRESHOLD, RV_DAEMON_MMAP_THRESHOLD);
        (void)mallopt(M_TRIM_THRESHOLD, RV_DAEMON_TRIM_THRESHOLD);
        self.options = options;
        self.lock_fd = -1;
        self.loop = g_main_loop_new(NULL, FALSE);
        rv_bootstrap_init(&self.config);
        rv_log_init(options->verbose ? LOG_DEBUG : LOG_INFO);
        rv_loop_watch_install(10 * 1000);

        self.sig_term = g_unix_signal_add(SIGTERM, rv_daemon_stop_cb, &self);
        self.sig_int = g_unix_signal_add(SIGINT, rv_daemon_stop_cb, &self);
        self.sig_hup = g_unix_signal_add(SIGHUP, rv_daemon_reload_cb, &self);

        if (!rv_daemon_setup(&self, &error)) {
                g_critical("cannot start: %s", error->message);
                (void)sd_notifyf(0, "STATUS=Failed to start: %s", error->message);
                rv_daemon_teardown(&self);
                rv_loop_watch_uninstall();
                return 1;
        }
        g_main_loop_run(self.loop);
        rv_daemon_teardown(&self);
        rv_loop_watch_uninstall();
        g_info("stopped");
        return self.exit_status;
}
