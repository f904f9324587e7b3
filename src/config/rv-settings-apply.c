/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaerd"

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "rv-json.h"

#include "rv-settings-apply.h"
#include "rv-settings.h"

/* how often the schedule is looked at: a window starts and ends on a minute */
#define RV_ALT_TIMER_S 30

gboolean
rv_settings_alt_schedule_active(JsonNode *doc, GDateTime *now)
{
        static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
        const char *from = rv_settings_get_string(doc, "engine", "alt_schedule_from");
        const char *to = rv_settings_get_string(doc, "engine", "alt_schedule_to");
        JsonNode *list = rv_settings_get(doc, rv_settings_find("engine", "alt_schedule_days"));
        int minute = g_date_time_get_hour(now) * 60 + g_date_time_get_minute(now);
        int day = g_date_time_get_day_of_week(now) - 1;
        gboolean day_listed = FALSE;
        gboolean in_window;
        int f;
        int t;

        if (!rv_settings_get_bool(doc, "engine", "alt_schedule_enabled") || from == NULL || to == NULL)
                return FALSE;
        /* validated as HH:MM */
        f = atoi(from) * 60 + atoi(from + 3);
        t = atoi(to) * 60 + atoi(to + 3);
        in_window = f <= t ? (minute >= f && minute < t) : (minute >= f || minute < t);
        if (f > t && minute < t)
                day = (day + 6) % 7;
        for (guint i = 0; list != NULL && i < json_array_get_length(json_node_get_array(list)); i++)
                day_listed |= g_strcmp0(json_array_get_string_element(json_node_get_array(list), i), days[day]) == 0;
        return in_window && day_listed;
}

void
rv_settings_engine_settings(JsonNode *doc, const RvEngineSettings *base, gboolean alt, RvEngineSettings *ret)
{
        rv_engine_settings_copy(ret, base);
        rv_settings_to_engine(doc, ret);
        if (alt) {
                ret->download_rate_limit = rv_settings_get_int(doc, "engine", "alt_download_limit", 0);
                ret->upload_rate_limit = rv_settings_get_int(doc, "engine", "alt_upload_limit", 0);
        }
}

const char *
rv_settings_download_dir(JsonNode *doc, const char *download_dir, gboolean forced)
{
        const char *root = doc != NULL ? rv_settings_get_string(doc, "engine", "download_root") : NULL;

        return forced || root == NULL ? download_dir : root;
}

void
rv_settings_manager_config(JsonNode *doc, const RvBootstrap *conf, const char *download_dir, gboolean forced,
                           RvManagerConfig *ret)
{
        g_free(ret->download_dir);
        ret->download_dir = g_strdup(rv_settings_download_dir(doc, download_dir, forced));
        ret->sequential_default =
                doc != NULL ? rv_settings_get_bool(doc, "engine", "sequential_default") : conf->sequential_default;
        if (doc != NULL) {
                JsonNode *ratio = rv_settings_get(doc, rv_settings_find("engine", "seed_ratio"));
                RvSeedAction action = RV_SEED_ACTION_PAUSE;
                (void)rv_seed_action_from_string(rv_settings_get_string(doc, "engine", "seed_action"), &action);
                ret->seed_ratio = ratio != NULL ? json_node_get_double(ratio) : 0;
                ret->seed_time_s = rv_settings_get_int(doc, "engine", "seed_time", 0) * 60;
                ret->seed_inactive_time_s = rv_settings_get_int(doc, "engine", "seed_inactive_time", 0) * 60;
                ret->seed_action = action;
                g_strfreev(ret->allowed_paths);
                ret->allowed_paths = NULL;
                {
                        JsonArray *roots =
                                json_node_get_array(rv_settings_get(doc, rv_settings_find("fs", "allowed_paths")));
                        GStrvBuilder *b = g_strv_builder_new();
                        for (guint i = 0; roots != NULL && i < json_array_get_length(roots); i++)
                                g_strv_builder_add(b, json_array_get_string_element(roots, i));
                        ret->allowed_paths = g_strv_builder_end(b);
                        g_strv_builder_unref(b);
                }
        }
        ret->resume_save_interval_s = conf->resume_save_interval_s;
        ret->progress_interval_ms = conf->progress_interval_ms;
        ret->shutdown_timeout_ms = conf->shutdown_timeout_s * 1000;
        ret->add_timeout_ms = conf->add_timeout_s * 1000;
}

/* revaerd.conf's values become the first settings of a new store */
JsonNode *
rv_settings_initial_from_bootstrap(const RvBootstrap *conf)
{
        const RvEngineSettings *e = &conf->engine;
        JsonObject *patch = json_object_new();
        g_auto(GStrv) items = g_strsplit(e->listen_interfaces != NULL ? e->listen_interfaces : "", ",", -1);
        g_autoptr(GString) hosts = g_string_new(NULL);
        gint64 port = -1;
        int level = rv_log_level_from_string(conf->log_level);

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
        json_object_set_boolean_member(patch, "/engine/sequential_default", conf->sequential_default);
        if (level >= LOG_ERR)
                json_object_set_string_member(patch, "/app/log_level", rv_log_level_to_string(level));
        return rv_json_node_take_object(patch);
}

struct _RvSettingsApplier {
        RvLiveSettings *settings;
        RvHealth *health;
        RvEngineSettings base;
        RvBootstrap conf;
        char *download_dir;
        gboolean download_dir_forced;
        RvEngine *engine;
        RvManager *manager;
        RvSettingsAppliedFunc applied;
        gpointer applied_data;
        guint timer;
        RvAltMode mode;
        /* the schedule's answer when the mode was told, and the answer in force */
        gboolean schedule_at_told;
        gboolean alt_active;
};

static void
rv_settings_applier_copy_bootstrap(RvSettingsApplier *self, const RvBootstrap *conf, const char *download_dir,
                                   gboolean forced)
{
        rv_engine_settings_clear(&self->base);
        rv_engine_settings_copy(&self->base, &conf->engine);
        self->conf.sequential_default = conf->sequential_default;
        self->conf.resume_save_interval_s = conf->resume_save_interval_s;
        self->conf.progress_interval_ms = conf->progress_interval_ms;
        self->conf.shutdown_timeout_s = conf->shutdown_timeout_s;
        self->conf.add_timeout_s = conf->add_timeout_s;
        g_free(self->download_dir);
        self->download_dir = g_strdup(download_dir);
        self->download_dir_forced = forced;
}

RvSettingsApplier *
rv_settings_applier_new(RvLiveSettings *settings, RvHealth *health, const RvBootstrap *conf, const char *download_dir,
                        gboolean download_dir_forced)
{
        RvSettingsApplier *self = g_new0(RvSettingsApplier, 1);

        self->settings = g_object_ref(settings);
        self->health = health;
        rv_engine_settings_init(&self->base);
        rv_settings_applier_copy_bootstrap(self, conf, download_dir, download_dir_forced);
        self->mode = RV_ALT_MODE_SCHEDULE;
        return self;
}

void
rv_settings_applier_free(RvSettingsApplier *self)
{
        if (self == NULL)
                return;
        if (self->timer != 0)
                g_source_remove(self->timer);
        g_clear_object(&self->settings);
        rv_engine_settings_clear(&self->base);
        g_free(self->download_dir);
        g_free(self);
}

void
rv_settings_applier_set_applied_func(RvSettingsApplier *self, RvSettingsAppliedFunc func, gpointer user_data)
{
        self->applied = func;
        self->applied_data = user_data;
}

void
rv_settings_applier_set_bootstrap(RvSettingsApplier *self, const RvBootstrap *conf, const char *download_dir,
                                  gboolean download_dir_forced)
{
        rv_settings_applier_copy_bootstrap(self, conf, download_dir, download_dir_forced);
}

/* the schedule's answer, or what the applier was told while the schedule's answer has not changed since */
static gboolean
rv_settings_applier_decide(RvSettingsApplier *self)
{
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        gboolean scheduled = rv_settings_alt_schedule_active(rv_live_settings_get_document(self->settings), now);

        if (self->mode != RV_ALT_MODE_SCHEDULE && scheduled != self->schedule_at_told)
                self->mode = RV_ALT_MODE_SCHEDULE;
        if (self->mode == RV_ALT_MODE_SCHEDULE)
                return scheduled;
        return self->mode == RV_ALT_MODE_ON;
}

void
rv_settings_applier_engine_settings(RvSettingsApplier *self, RvEngineSettings *ret)
{
        self->alt_active = rv_settings_applier_decide(self);
        rv_settings_engine_settings(rv_live_settings_get_document(self->settings), &self->base, self->alt_active, ret);
}

void
rv_settings_applier_manager_config(RvSettingsApplier *self, RvManagerConfig *ret)
{
        rv_settings_manager_config(rv_live_settings_get_document(self->settings), &self->conf, self->download_dir,
                                   self->download_dir_forced, ret);
}

void
rv_settings_applier_apply(RvSettingsApplier *self)
{
        JsonNode *doc = rv_live_settings_get_document(self->settings);
        g_autofree char *guard = rv_settings_guard_rails(doc);

        if (self->engine != NULL) {
                g_autoptr(GError) error = NULL;
                RvEngineSettings es;
                rv_settings_applier_engine_settings(self, &es);
                if (!rv_engine_apply_settings(self->engine, &es, &error))
                        g_warning("the engine refused the settings of revision %" G_GUINT64_FORMAT ": %s",
                                  rv_live_settings_get_revision(self->settings), error->message);
                rv_engine_settings_clear(&es);
        }
        if (self->manager != NULL) {
                RvManagerConfig mc;
                rv_manager_config_init(&mc);
                rv_settings_applier_manager_config(self, &mc);
                rv_manager_set_config(self->manager, &mc);
                rv_manager_config_clear(&mc);
        }
        if (guard != NULL)
                rv_health_set_degraded(self->health, "guard_rails", guard);
        else
                rv_health_set_ok(self->health, "guard_rails");
        if (self->applied != NULL)
                self->applied(doc, self->applied_data);
}

static gboolean
rv_settings_applier_timer_cb(gpointer user_data)
{
        RvSettingsApplier *self = user_data;
        gboolean was = self->alt_active;

        if (rv_settings_applier_decide(self) != was) {
                g_info("alternative limits %s", was ? "end" : "begin");
                rv_settings_applier_apply(self);
        }
        return G_SOURCE_CONTINUE;
}

void
rv_settings_applier_attach(RvSettingsApplier *self, RvEngine *engine, RvManager *manager)
{
        self->engine = engine;
        self->manager = manager;
        rv_settings_applier_apply(self);
        if (self->timer == 0)
                self->timer = g_timeout_add_seconds(RV_ALT_TIMER_S, rv_settings_applier_timer_cb, self);
}

gboolean
rv_settings_applier_get_alt_active(RvSettingsApplier *self)
{
        return self->alt_active;
}

RvAltMode
rv_settings_applier_get_alt_mode(RvSettingsApplier *self)
{
        return self->mode;
}

void
rv_settings_applier_set_alt_mode(RvSettingsApplier *self, RvAltMode mode)
{
        g_autoptr(GDateTime) now = g_date_time_new_now_local();

        self->schedule_at_told = rv_settings_alt_schedule_active(rv_live_settings_get_document(self->settings), now);
        self->mode = mode;
        rv_settings_applier_apply(self);
}
