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
#include "rv-config.h"
#include "rv-daemon.h"
#include "rv-http-server.h"
#include "rv-json.h"
#include "rv-log.h"
#include "rv-logcontrol.h"
#include "rv-loopwatch.h"
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
        RvConfig *settings;
        RvAccess *access;
        guint alt_timer;
        gboolean alt_active;
        RvEngine *engine;
        RvManager *manager;
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

/* where new torrents go: the command line, then the settings, then revaerd.conf, then the state directory */
static const char *
rv_daemon_download_dir(RvDaemon *self)
{
        const char *root = self->settings != NULL ? rv_settings_get_string(rv_config_get_document(self->settings),
                                                                           "engine", "download_root")
                                                  : NULL;

        if (self->options->download_dir != NULL || root == NULL)
                return self->download_dir;
        return root;
}

static void
rv_daemon_manager_config(RvDaemon *self, RvManagerConfig *mc)
{
        JsonNode *doc = self->settings != NULL ? rv_config_get_document(self->settings) : NULL;

        rv_manager_config_init(mc);
        g_free(mc->download_dir);
        mc->download_dir = g_strdup(rv_daemon_download_dir(self));
        mc->sequential_default = doc != NULL ? rv_settings_get_bool(doc, "engine", "sequential_default")
                                             : self->config.sequential_default;
        if (doc != NULL) {
                JsonNode *ratio = rv_settings_get(doc, rv_settings_find("engine", "seed_ratio"));
                const char *action = rv_settings_get_string(doc, "engine", "seed_action");
                mc->seed_ratio = ratio != NULL ? json_node_get_double(ratio) : 0;
                mc->seed_time_s = rv_settings_get_int(doc, "engine", "seed_time", 0) * 60;
                mc->seed_action = g_strcmp0(action, "remove") == 0             ? RV_SEED_ACTION_REMOVE
                                  : g_strcmp0(action, "remove_with_data") == 0 ? RV_SEED_ACTION_REMOVE_WITH_DATA
                                                                               : RV_SEED_ACTION_PAUSE;
        }
        mc->resume_save_interval_s = self->config.resume_save_interval_s;
        mc->progress_interval_ms = self->config.progress_interval_ms;
        mc->shutdown_timeout_ms = self->config.shutdown_timeout_s * 1000;
        mc->add_timeout_ms = self->config.add_timeout_s * 1000;
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
        case RV_EVENT_SEEDING_GOAL_REACHED:
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "REVAER_TORRENT", hash, "REVAER_TORRENT_NAME", name,
                                 "MESSAGE", "torrent %s '%s' reached its seeding goal (%s): %s", hash, name,
                                 json_object_get_string_member_with_default(obj, "goal", ""),
                                 json_object_get_string_member_with_default(obj, "action", ""));
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

static void rv_daemon_apply_settings(RvDaemon *self);

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
        rv_daemon_apply_settings(self);
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
        /* reading the catalogue freed a lot of small blocks: give the pages back instead of holding them */
        (void)malloc_trim(0);
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
        /* loading may keep the loop busy; from here on an iteration over 10 ms is a stall */
        rv_loop_watch_arm();
}

/* revaerd.conf's values become the first settings of a new store */
static JsonNode *
rv_daemon_initial_settings(RvDaemon *self)
{
        const RvEngineSettings *e = &self->config.engine;
        JsonObject *patch = json_object_new();
        g_auto(GStrv) items = g_strsplit(e->listen_interfaces != NULL ? e->listen_interfaces : "", ",", -1);
        g_autoptr(GString) hosts = g_string_new(NULL);
        gint64 port = -1;
        int level = rv_log_level_from_string(self->config.log_level);

        /* "0.0.0.0:6881,[::]:6881" -> interfaces "0.0.0.0,[::]" and port 6881 */
        for (guint i = 0; items[i] != NULL; i++) {
                char *colon = strrchr(items[i], ':');
                guint64 p = 0;
                if (colon == NULL || !g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &p, NULL))
                        continue;
                *colon = '\0';
                g_string_append_printf(hosts, "%s%s", hosts->len > 0 ? "," : "", g_strstrip(items[i]));
                port = (gint64)p;
        }
        if (hosts->len > 0 && port >= 0) {
                json_object_set_string_member(patch, "/engine/listen_interfaces", hosts->str);
                json_object_set_int_member(patch, "/engine/listen_port", port);
        }
        json_object_set_boolean_member(patch, "/engine/dht", e->enable_dht);
        json_object_set_boolean_member(patch, "/engine/lsd", e->enable_lsd);
        json_object_set_boolean_member(patch, "/engine/utp", e->enable_utp);
        json_object_set_boolean_member(patch, "/engine/upnp", e->enable_upnp);
        json_object_set_boolean_member(patch, "/engine/natpmp", e->enable_natpmp);
        json_object_set_string_member(patch, "/engine/encryption", rv_encryption_to_string(e->encryption));
        json_object_set_int_member(patch, "/engine/download_limit", e->download_rate_limit);
        json_object_set_int_member(patch, "/engine/upload_limit", e->upload_rate_limit);
        json_object_set_int_member(patch, "/engine/active_downloads", e->active_downloads);
        json_object_set_int_member(patch, "/engine/active_seeds", e->active_seeds);
        json_object_set_int_member(patch, "/engine/active_limit", e->active_limit);
        json_object_set_int_member(patch, "/engine/connections_limit", e->connections_limit);
        json_object_set_int_member(patch, "/engine/max_metadata_size", e->max_metadata_size);
        json_object_set_boolean_member(patch, "/engine/allow_multiple_connections_per_ip",
                                       e->allow_multiple_connections_per_ip);
        json_object_set_boolean_member(patch, "/engine/sequential_default", self->config.sequential_default);
        if (level >= LOG_ERR)
                json_object_set_string_member(patch, "/app/log_level", rv_log_level_to_string(level));
        return rv_json_node_take_object(patch);
}

/* the alternative limits apply from..to (local time, possibly across midnight) on the listed days */
static gboolean
rv_daemon_alt_active(JsonNode *doc)
{
        static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        const char *from = rv_settings_get_string(doc, "engine", "alt_schedule_from");
        const char *to = rv_settings_get_string(doc, "engine", "alt_schedule_to");
        JsonNode *list = rv_settings_get(doc, rv_settings_find("engine", "alt_schedule_days"));
        int minute = g_date_time_get_hour(now) * 60 + g_date_time_get_minute(now);
        int f;
        int t;
        gboolean in_window;
        int day = g_date_time_get_day_of_week(now) - 1;
        gboolean day_listed = FALSE;

        if (!rv_settings_get_bool(doc, "engine", "alt_schedule_enabled") || from == NULL || to == NULL)
                return FALSE;
        f = atoi(from) * 60 + atoi(from + 3);
        t = atoi(to) * 60 + atoi(to + 3);
        in_window = f <= t ? (minute >= f && minute < t) : (minute >= f || minute < t);
        /* a window across midnight belongs to the day it started on */
        if (f > t && minute < t)
                day = (day + 6) % 7;
        for (guint i = 0; list != NULL && i < json_array_get_length(json_node_get_array(list)); i++)
                day_listed |= g_strcmp0(json_array_get_string_element(json_node_get_array(list), i), days[day]) == 0;
        return in_window && day_listed;
}

/* revaerd.conf's engine internals with the settings over them, the alternative limits when due */
static void
rv_daemon_engine_settings(RvDaemon *self, RvEngineSettings *ret)
{
        /* ret is filled whole: the caller clears it, and must not have initialised it */
        JsonNode *doc = rv_config_get_document(self->settings);

        rv_engine_settings_copy(ret, &self->config.engine);
        rv_settings_to_engine(doc, ret);
        if (self->alt_active) {
                ret->download_rate_limit = rv_settings_get_int(doc, "engine", "alt_download_limit", 0);
                ret->upload_rate_limit = rv_settings_get_int(doc, "engine", "alt_upload_limit", 0);
        }
}

/* the settings reach libtorrent, the registry, the log and health */
static void
rv_daemon_apply_settings(RvDaemon *self)
{
        JsonNode *doc = rv_config_get_document(self->settings);
        g_autofree char *guard = rv_settings_guard_rails(doc);
        RvEngineSettings es;
        g_autoptr(GError) error = NULL;
        int level = rv_log_level_from_string(rv_settings_get_string(doc, "app", "log_level"));

        self->alt_active = rv_daemon_alt_active(doc);
        if (self->engine != NULL) {
                rv_daemon_engine_settings(self, &es);
                if (!rv_engine_apply_settings(self->engine, &es, &error))
                        g_warning("the engine refused the settings of revision %" G_GUINT64_FORMAT ": %s",
                                  rv_config_get_revision(self->settings), error->message);
                rv_engine_settings_clear(&es);
        }
        if (self->manager != NULL) {
                RvManagerConfig mc;
                rv_daemon_manager_config(self, &mc);
                rv_manager_set_config(self->manager, &mc);
                rv_manager_config_clear(&mc);
        }
        if (!self->options->verbose && level >= 0)
                rv_log_set_level(level);
        if (guard != NULL) {
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID", RV_MESSAGE_GUARD_RAIL, "MESSAGE",
                                 "guard rail: %s", guard);
                rv_health_set_degraded(self->health, "guard_rails", guard);
        } else {
                rv_health_set_ok(self->health, "guard_rails");
        }
}

static void
rv_daemon_settings_changed_cb(RvConfig *config, guint64 revision, JsonNode *changes, const char *actor,
                              gpointer user_data)
{
        RvDaemon *self = user_data;
        g_autofree char *text = changes != NULL ? json_to_string(changes, FALSE) : g_strdup("{}");
        const char *disabled = rv_settings_limit_disabled(changes);
        JsonObject *obj = json_object_new();
        g_autofree char *rev = NULL;

        rv_daemon_apply_settings(self);
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

static gboolean
rv_daemon_alt_timer_cb(gpointer user_data)
{
        RvDaemon *self = user_data;

        if (rv_daemon_alt_active(rv_config_get_document(self->settings)) != self->alt_active) {
                g_info("alternative limits %s", self->alt_active ? "end" : "begin");
                rv_daemon_apply_settings(self);
        }
        return G_SOURCE_CONTINUE;
}

static void
rv_daemon_fail(RvDaemon *self, const GError *error)
{
        g_critical("cannot start: %s", error->message);
        (void)sd_notifyf(0, "STATUS=Failed to start: %s", error->message);
        self->exit_status = 1;
        g_main_loop_quit(self->loop);
}

/* with the settings known: the engine, the registry, the bus, HTTP, then the stored torrents */
static gboolean
rv_daemon_start_services(RvDaemon *self, GError **error)
{
        const char *bus_kind = self->options->bus != NULL ? self->options->bus : self->config.bus;
        JsonNode *doc = rv_config_get_document(self->settings);
        RvEngineSettings es;
        RvManagerConfig mc;
        g_autofree char *listen = NULL;

        self->alt_active = rv_daemon_alt_active(doc);
        rv_daemon_engine_settings(self, &es);
        self->engine = rv_engine_new_libtorrent(&es, error);
        rv_engine_settings_clear(&es);
        if (self->engine == NULL)
                return FALSE;
        rv_daemon_manager_config(self, &mc);
        self->manager = rv_manager_new(self->engine, self->store, self->health, self->events, &mc);
        rv_manager_config_clear(&mc);
        g_signal_connect(self->manager, "problem", G_CALLBACK(rv_daemon_problem_cb), self);
        rv_event_bus_subscribe(self->events, rv_daemon_event_cb, self);
        rv_daemon_apply_settings(self);
        g_signal_connect(self->settings, "changed", G_CALLBACK(rv_daemon_settings_changed_cb), self);
        self->alt_timer = g_timeout_add_seconds(30, rv_daemon_alt_timer_cb, self);

        if (g_strcmp0(bus_kind, "none") != 0) {
                RvBusKind kind = g_strcmp0(bus_kind, "session") == 0 ? RV_BUS_KIND_SESSION : RV_BUS_KIND_SYSTEM;
                self->bus = rv_bus_new(self->manager, kind, error);
                if (self->bus == NULL)
                        return FALSE;
                rv_bus_set_config(self->bus, self->settings);
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
                self->http = rv_http_new(self->manager, listen, error);
                if (self->http == NULL)
                        return FALSE;
        }
        self->notify = rv_notify_new(self->manager);
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

        if (!rv_config_load_finish(RV_CONFIG(source), result, &error)) {
                rv_daemon_fail(self, error);
                return;
        }
        g_debug("settings at revision %" G_GUINT64_FORMAT " from the %s store", rv_config_get_revision(self->settings),
                rv_store_get_backend(self->store));
        self->access = rv_access_new(self->store, self->settings);
        rv_access_load_async(self->access, rv_daemon_access_loaded_cb, self);
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
        reserved = rv_store_read_event_reservation(self->store, &error_local);
        if (error_local != NULL) {
                /* wall-clock microseconds are above any id handed out before, short of a million events a second */
                g_warning("%s, continuing event ids from the clock", error_local->message);
                reserved = (guint64)g_get_real_time();
        }
        self->events = rv_event_bus_new(RV_EVENT_BUS_DEFAULT_RING, reserved + 1, rv_daemon_event_reserve_cb, self);
        self->settings = rv_config_new(self->store);
        initial = rv_daemon_initial_settings(self);
        rv_config_load_async(self->settings, initial, NULL, rv_daemon_settings_loaded_cb, self);
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
        rv_store_open_async(self->store, NULL, rv_daemon_store_opened_cb, self);
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
        if (self->alt_timer != 0)
                g_source_remove(self->alt_timer);
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
