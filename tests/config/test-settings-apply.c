/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-settings-apply.h"
#include "rv-settings.h"

/* the defaults with a patch over them, e.g. {"/engine/alt_schedule_enabled": true} */
static JsonNode *
doc_with(const char *patch_text)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) defaults = rv_settings_defaults();
        g_autoptr(JsonNode) patch = json_from_string(patch_text, &error);
        JsonNode *doc;

        g_assert_no_error(error);
        doc = rv_settings_apply_patch(defaults, patch, NULL, &error);
        g_assert_no_error(error);
        return doc;
}

/* 2026-12-07 is a Monday */
static gboolean
active_at(JsonNode *doc, int day_of_december, int hour, int minute)
{
        g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
        g_autoptr(GDateTime) now = g_date_time_new(utc, 2026, 12, day_of_december, hour, minute, 0);

        return rv_settings_alt_schedule_active(doc, now);
}

static void
test_schedule_same_day(void)
{
        g_autoptr(JsonNode) doc =
                doc_with("{\"/engine/alt_schedule_enabled\": true, \"/engine/alt_schedule_from\": \"01:00\","
                         " \"/engine/alt_schedule_to\": \"07:00\", \"/engine/alt_schedule_days\": [\"mon\", \"wed\"]}");

        g_assert_true(active_at(doc, 7, 1, 0));   /* Monday, at the start */
        g_assert_true(active_at(doc, 7, 6, 59));  /* Monday, the last minute */
        g_assert_false(active_at(doc, 7, 7, 0));  /* the end is not inside */
        g_assert_false(active_at(doc, 7, 0, 59)); /* before it */
        g_assert_false(active_at(doc, 8, 3, 0));  /* Tuesday is not listed */
        g_assert_true(active_at(doc, 9, 3, 0));   /* Wednesday is */
}

static void
test_schedule_across_midnight(void)
{
        g_autoptr(JsonNode) doc =
                doc_with("{\"/engine/alt_schedule_enabled\": true, \"/engine/alt_schedule_from\": \"22:00\","
                         " \"/engine/alt_schedule_to\": \"02:00\", \"/engine/alt_schedule_days\": [\"fri\"]}");

        g_assert_true(active_at(doc, 11, 22, 0));   /* Friday evening */
        g_assert_true(active_at(doc, 11, 23, 59));  /* Friday before midnight */
        g_assert_true(active_at(doc, 12, 1, 30));   /* Saturday night: the window began on Friday */
        g_assert_false(active_at(doc, 12, 2, 0));   /* its end */
        g_assert_false(active_at(doc, 12, 22, 30)); /* Saturday evening: Saturday is not listed */
        g_assert_false(active_at(doc, 11, 1, 30));  /* Friday night belongs to Thursday's window */
        g_assert_false(active_at(doc, 11, 12, 0));  /* midday */
}

static void
test_schedule_disabled(void)
{
        g_autoptr(JsonNode) doc = doc_with("{\"/engine/alt_schedule_from\": \"00:00\", \"/engine/alt_schedule_to\":"
                                           " \"23:59\", \"/engine/alt_schedule_days\": [\"mon\"]}");

        g_assert_false(active_at(doc, 7, 12, 0));
}

static void
test_engine_settings(void)
{
        g_autoptr(JsonNode) doc =
                doc_with("{\"/engine/download_limit\": 1000, \"/engine/upload_limit\": 2000,"
                         " \"/engine/alt_download_limit\": 10, \"/engine/alt_upload_limit\": 20,"
                         " \"/engine/listen_interfaces\": \"127.0.0.1\", \"/engine/listen_port\": 0}");
        RvEngineSettings base;
        RvEngineSettings es;

        rv_engine_settings_init(&base);
        base.status_interval_ms = 250;
        rv_settings_engine_settings(doc, &base, FALSE, &es);
        g_assert_cmpint(es.download_rate_limit, ==, 1000);
        g_assert_cmpint(es.upload_rate_limit, ==, 2000);
        g_assert_cmpstr(es.listen_interfaces, ==, "127.0.0.1:0");
        /* revaerd.conf's engine internals come through */
        g_assert_cmpint(es.status_interval_ms, ==, 250);
        g_assert_cmpint(es.active_downloads, ==, RV_ENGINE_DEFAULT_ACTIVE_DOWNLOADS);
        rv_engine_settings_clear(&es);
        rv_settings_engine_settings(doc, &base, TRUE, &es);
        g_assert_cmpint(es.download_rate_limit, ==, 10);
        g_assert_cmpint(es.upload_rate_limit, ==, 20);
        rv_engine_settings_clear(&es);
        rv_engine_settings_clear(&base);
}

static void
test_engine_defaults_once(void)
{
        g_autoptr(JsonNode) defaults = rv_settings_defaults();
        RvEngineSettings init;
        RvEngineSettings es;

        /* the settings' defaults and the engine's are the same numbers */
        rv_engine_settings_init(&init);
        rv_settings_engine_settings(defaults, &init, FALSE, &es);
        g_assert_cmpint(es.active_downloads, ==, init.active_downloads);
        g_assert_cmpint(es.active_seeds, ==, init.active_seeds);
        g_assert_cmpint(es.active_limit, ==, init.active_limit);
        g_assert_cmpint(es.connections_limit, ==, init.connections_limit);
        g_assert_cmpint(es.max_metadata_size, ==, init.max_metadata_size);
        g_assert_cmpint(rv_settings_get_int(defaults, "engine", "listen_port", -1), ==, RV_ENGINE_DEFAULT_LISTEN_PORT);
        rv_engine_settings_clear(&es);
        rv_engine_settings_clear(&init);
}

static void
test_manager_config(void)
{
        g_autoptr(JsonNode) plain = doc_with("{\"/engine/seed_ratio\": 1.5, \"/engine/seed_time\": 2,"
                                             " \"/engine/seed_action\": \"remove_with_data\"}");
        g_autoptr(JsonNode) rooted = doc_with("{\"/engine/download_root\": \"/srv/torrents\"}");
        RvBootstrap conf;
        RvManagerConfig mc;

        rv_bootstrap_init(&conf);
        conf.progress_interval_ms = 700;
        conf.add_timeout_s = 3;
        rv_manager_config_init(&mc);
        rv_settings_manager_config(plain, &conf, "/var/lib/revaer/downloads", FALSE, &mc);
        g_assert_cmpstr(mc.download_dir, ==, "/var/lib/revaer/downloads");
        g_assert_cmpfloat(mc.seed_ratio, ==, 1.5);
        g_assert_cmpint(mc.seed_time_s, ==, 120);
        g_assert_cmpint(mc.seed_action, ==, RV_SEED_ACTION_REMOVE_WITH_DATA);
        g_assert_cmpuint(mc.progress_interval_ms, ==, 700);
        g_assert_cmpuint(mc.add_timeout_ms, ==, 3000);
        /* the settings' download root wins over revaerd.conf, the command line over both */
        rv_settings_manager_config(rooted, &conf, "/var/lib/revaer/downloads", FALSE, &mc);
        g_assert_cmpstr(mc.download_dir, ==, "/srv/torrents");
        rv_settings_manager_config(rooted, &conf, "/home/me/dl", TRUE, &mc);
        g_assert_cmpstr(mc.download_dir, ==, "/home/me/dl");
        rv_manager_config_clear(&mc);
        rv_bootstrap_clear(&conf);
}

static void
test_initial_from_bootstrap(void)
{
        g_autoptr(JsonNode) patch = NULL;
        RvBootstrap conf;
        JsonObject *obj;

        rv_bootstrap_init(&conf);
        g_free(conf.engine.listen_interfaces);
        conf.engine.listen_interfaces = g_strdup("127.0.0.1:7001,[::1]:7001");
        conf.engine.encryption = RV_ENCRYPTION_REQUIRE;
        patch = rv_settings_initial_from_bootstrap(&conf);
        obj = json_node_get_object(patch);
        g_assert_cmpstr(json_object_get_string_member(obj, "/engine/listen_interfaces"), ==, "127.0.0.1,[::1]");
        g_assert_cmpint(json_object_get_int_member(obj, "/engine/listen_port"), ==, 7001);
        g_assert_cmpstr(json_object_get_string_member(obj, "/engine/encryption"), ==, "require");
        rv_bootstrap_clear(&conf);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/settings-apply/schedule/same-day", test_schedule_same_day);
        g_test_add_func("/settings-apply/schedule/across-midnight", test_schedule_across_midnight);
        g_test_add_func("/settings-apply/schedule/disabled", test_schedule_disabled);
        g_test_add_func("/settings-apply/engine", test_engine_settings);
        g_test_add_func("/settings-apply/engine-defaults-once", test_engine_defaults_once);
        g_test_add_func("/settings-apply/manager", test_manager_config);
        g_test_add_func("/settings-apply/initial", test_initial_from_bootstrap);
        return g_test_run();
}
