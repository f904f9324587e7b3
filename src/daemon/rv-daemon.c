/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaerd"

#include "config.h"

#include <errno.h>
#include <syslog.h>
#include <unistd.h>

#include <glib-unix.h>
#include <systemd/sd-daemon.h>

#include "rv-bootstrap.h"
#include "rv-bus.h"
#include "rv-daemon.h"
#include "rv-http-server.h"
#include "rv-json.h"
#include "rv-log.h"
#include "rv-logcontrol.h"
#include "rv-manager.h"
#include "rv-messages.h"
#include "rv-notify.h"

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
        RvEngine *engine;
        RvManager *manager;
        RvBus *bus;
        RvHttp *http;
        RvNotify *notify;
        sd_bus_slot *logcontrol_slot;
        gboolean stopping;
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
rv_daemon_manager_config(RvDaemon *self, RvManagerConfig *mc)
{
        rv_manager_config_init(mc);
        g_free(mc->download_dir);
        mc->download_dir = g_strdup(self->download_dir);
        mc->sequential_default = self->config.sequential_default;
        mc->resume_save_interval_s = self->config.resume_save_interval_s;
        mc->progress_interval_ms = self->config.progress_interval_ms;
        mc->shutdown_timeout_ms = self->config.shutdown_timeout_s * 1000;
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

/* what happens to torrents, as journal entries an operator can filter by torrent and find by MESSAGE_ID */
static void
rv_daemon_event_cb(const RvEvent *event, gpointer user_data)
{
        JsonObject *obj = json_node_get_object(event->data);
        const char *name = json_object_get_string_member_with_default(obj, "name", "");
        const char *message = json_object_get_string_member_with_default(obj, "message", "");
        const char *hash = event->has_hash ? event->hash.hex : "";

        switch (event->kind) {
        case RV_EVENT_TORRENT_ADDED:
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_TORRENT_ADDED,
                                 "REVAER_TORRENT", hash, "REVAER_TORRENT_NAME", name, "MESSAGE",
                                 "torrent %s '%s' added", hash, name);
                break;
        case RV_EVENT_COMPLETED:
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_TORRENT_COMPLETED,
                                 "REVAER_TORRENT", hash, "REVAER_TORRENT_NAME", name, "REVAER_SAVE_PATH",
                                 json_object_get_string_member_with_default(obj, "save_path", ""), "MESSAGE",
                                 "torrent %s '%s' completed", hash, name);
                break;
        case RV_EVENT_TORRENT_REMOVED:
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_TORRENT_REMOVED,
                                 "REVAER_TORRENT", hash, "REVAER_TORRENT_NAME", name, "MESSAGE",
                                 "torrent %s '%s' removed", hash, name);
                break;
        case RV_EVENT_TORRENT_FAILED:
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID", RV_MESSAGE_TORRENT_FAILED,
                                 "REVAER_TORRENT", hash, "REVAER_TORRENT_NAME", name, "REVAER_ERROR", message,
                                 "MESSAGE", "torrent %s '%s' failed: %s", hash, name, message);
                break;
        default:
                break;
        }
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
        RvManagerConfig mc;
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
        if (!rv_engine_apply_settings(self->engine, &next.engine, &error)) {
                g_warning("reload: engine settings refused, keeping the running configuration: %s", error->message);
                rv_bootstrap_clear(&next);
                rv_notify_reloaded(self->notify);
                return G_SOURCE_CONTINUE;
        }
        rv_bootstrap_clear(&self->config);
        self->config = next;
        if (self->options->download_dir == NULL && self->config.download_dir != NULL) {
                g_free(self->download_dir);
                self->download_dir = g_strdup(self->config.download_dir);
        }
        rv_log_set_level(rv_daemon_log_level(self));
        rv_daemon_manager_config(self, &mc);
        rv_manager_set_config(self->manager, &mc);
        rv_manager_config_clear(&mc);
        g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_SETTINGS_CHANGED, "MESSAGE",
                         "configuration reloaded from '%s'", self->config_path);
        rv_notify_reloaded(self->notify);
        return G_SOURCE_CONTINUE;
}

static void
rv_daemon_loaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvDaemon *self = user_data;
        g_autoptr(GError) error = NULL;

        if (!rv_manager_load_finish(RV_MANAGER(source), result, &error))
                g_warning("stored torrents could not be read, starting without them: %s", error->message);
        if (self->bus != NULL) {
                if (!rv_bus_request_name(self->bus, &error)) {
                        g_critical("%s", error->message);
                        self->exit_status = 1;
                        g_main_loop_quit(self->loop);
                        return;
                }
                rv_bus_set_service_state(self->bus, "running");
        }
        g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_STARTED, "MESSAGE",
                         "ready: %u torrents, state in '%s', downloads in '%s'%s", rv_manager_get_count(self->manager),
                         self->state_dir, self->download_dir,
                         self->http != NULL && rv_http_get_activated(self->http) > 0 ? ", socket-activated" : "");
        rv_notify_ready(self->notify);
}

static gboolean
rv_daemon_setup(RvDaemon *self, GError **error)
{
        const RvDaemonOptions *options = self->options;
        const char *bus_kind;
        g_autoptr(GError) error_local = NULL;
        guint64 reserved;
        RvManagerConfig mc;
        const char *db_url = g_getenv("DATABASE_URL");

        self->config_path = rv_daemon_resolve_config_path(options);
        if (!rv_bootstrap_load(&self->config, self->config_path, error))
                return FALSE;
        rv_log_set_level(rv_daemon_log_level(self));
        if (db_url != NULL && db_url[0] != '\0') {
                g_free(self->config.database_url);
                self->config.database_url = g_strdup(db_url);
        }
        if (g_strcmp0(self->config.store_backend, "embedded") != 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "%s: [store] backend: '%s' is not available in this build, use 'embedded'",
                            self->config_path, self->config.store_backend);
                return FALSE;
        }

        self->state_dir = rv_daemon_resolve_state_dir(options, &self->config);
        self->download_dir = g_strdup(options->download_dir != NULL ? options->download_dir
                                                                    : self->config.download_dir);
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

        self->health = rv_health_new();
        rv_health_set_changed_func(self->health, rv_daemon_health_changed_cb, self);
        self->store = rv_store_embedded_new(self->state_dir, self->health, error);
        if (self->store == NULL)
                return FALSE;
        reserved = rv_store_read_event_reservation(self->store, &error_local);
        if (error_local != NULL) {
                /* wall-clock microseconds are above any id handed out before, short of a million events a second */
                g_warning("%s, continuing event ids from the clock", error_local->message);
                reserved = (guint64)g_get_real_time();
        }
        self->events = rv_event_bus_new(RV_EVENT_BUS_DEFAULT_RING, reserved + 1, rv_daemon_event_reserve_cb, self);

        self->engine = rv_engine_new_libtorrent(&self->config.engine, error);
        if (self->engine == NULL)
                return FALSE;
        rv_daemon_manager_config(self, &mc);
        self->manager = rv_manager_new(self->engine, self->store, self->health, self->events, &mc);
        rv_manager_config_clear(&mc);
        g_signal_connect(self->manager, "problem", G_CALLBACK(rv_daemon_problem_cb), self);
        rv_event_bus_subscribe(self->events, rv_daemon_event_cb, self);

        bus_kind = options->bus != NULL ? options->bus : self->config.bus;
        if (g_strcmp0(bus_kind, "none") != 0) {
                RvBusKind kind = g_strcmp0(bus_kind, "session") == 0 ? RV_BUS_KIND_SESSION : RV_BUS_KIND_SYSTEM;
                self->bus = rv_bus_new(self->manager, kind, error);
                if (self->bus == NULL)
                        return FALSE;
                rv_bus_set_disconnected_func(self->bus, rv_daemon_bus_lost_cb, self);
                if (rv_logcontrol_add(rv_bus_get_sd_bus(self->bus), &self->logcontrol_slot) < 0)
                        g_warning("cannot export LogControl1, ignoring");
        }
        /* listeners are up before READY; a socket-activating connection waits in the backlog until then */
        if (g_strcmp0(self->config.http_listen, "none") != 0 || g_getenv("LISTEN_FDS") != NULL) {
                self->http = rv_http_new(self->manager, self->config.http_listen, error);
                if (self->http == NULL)
                        return FALSE;
        }
        self->notify = rv_notify_new(self->manager);
        rv_manager_load_async(self->manager, NULL, rv_daemon_loaded_cb, self);
        return TRUE;
}

static void
rv_daemon_teardown(RvDaemon *self)
{
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
        g_clear_object(&self->manager);
        g_clear_pointer(&self->engine, rv_engine_free);
        /* the store drains its queue before it goes */
        g_clear_pointer(&self->store, rv_store_free);
        g_clear_pointer(&self->events, rv_event_bus_free);
        g_clear_pointer(&self->health, rv_health_free);
        rv_bootstrap_clear(&self->config);
        g_free(self->config_path);
        g_free(self->state_dir);
        g_free(self->download_dir);
        g_main_loop_unref(self->loop);
}

int
rv_daemon_run(const RvDaemonOptions *options)
{
        RvDaemon self = { 0 };
        g_autoptr(GError) error = NULL;

        self.options = options;
        self.loop = g_main_loop_new(NULL, FALSE);
        rv_bootstrap_init(&self.config);
        rv_log_init(options->verbose ? LOG_DEBUG : LOG_INFO);

        self.sig_term = g_unix_signal_add(SIGTERM, rv_daemon_stop_cb, &self);
        self.sig_int = g_unix_signal_add(SIGINT, rv_daemon_stop_cb, &self);
        self.sig_hup = g_unix_signal_add(SIGHUP, rv_daemon_reload_cb, &self);

        if (!rv_daemon_setup(&self, &error)) {
                g_critical("cannot start: %s", error->message);
                (void)sd_notifyf(0, "STATUS=Failed to start: %s", error->message);
                rv_daemon_teardown(&self);
                return 1;
        }
        g_main_loop_run(self.loop);
        rv_daemon_teardown(&self);
        g_info("stopped");
        return self.exit_status;
}
