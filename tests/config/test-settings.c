/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "rv-live-settings.h"
#include "rv-password.h"
#include "rv-settings.h"
#include "rv-test-data.h"

static JsonNode *
j(const char *text)
{
        g_autoptr(GError) error = NULL;
        JsonNode *node = json_from_string(text, &error);

        g_assert_no_error(error);
        return node;
}

static void
assert_patch_fails(const char *patch_text, const char *pointer)
{
        g_autoptr(JsonNode) defaults = rv_settings_defaults();
        g_autoptr(JsonNode) patch = j(patch_text);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) out = rv_settings_apply_patch(defaults, patch, NULL, &error);

        g_assert_null(out);
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        if (!g_str_has_prefix(error->message, pointer))
                g_error("'%s' does not start with '%s'", error->message, pointer);
}

static void
test_settings_defaults(void)
{
        g_autoptr(JsonNode) defaults = rv_settings_defaults();
        g_autoptr(JsonNode) normalized = rv_settings_normalize(defaults, NULL);
        RvEngineSettings engine;

        g_assert_nonnull(normalized);
        g_assert_true(json_node_equal(defaults, normalized));
        g_assert_cmpstr(rv_settings_get_string(defaults, "app", "mode"), ==, "setup");
        g_assert_cmpint(rv_settings_get_int(defaults, "engine", "listen_port", 0), ==, 6881);
        rv_engine_settings_init(&engine);
        rv_settings_to_engine(defaults, &engine);
        g_assert_cmpstr(engine.listen_interfaces, ==, "0.0.0.0:6881,[::]:6881");
        rv_engine_settings_clear(&engine);
        /* every field has a pointer, a property and a description */
        for (const RvSettingDesc *d = rv_settings_fields(); d->name != NULL; d++) {
                g_assert_true(g_str_has_prefix(d->pointer, "/"));
                g_assert_nonnull(d->property);
                g_assert_nonnull(d->description);
                g_assert_true(rv_settings_find_pointer(d->pointer) == d);
        }
}

static void
test_settings_patch(void)
{
        g_autoptr(JsonNode) defaults = rv_settings_defaults();
        g_autoptr(JsonNode) patch = j("{\"engine\": {\"download_limit\": 5000, \"dht\": false},"
                                      " \"/fs/move_mode\": \"copy\"}");
        g_autoptr(JsonNode) changes = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) out = rv_settings_apply_patch(defaults, patch, &changes, &error);
        JsonObject *c;

        g_assert_no_error(error);
        g_assert_cmpint(rv_settings_get_int(out, "engine", "download_limit", 0), ==, 5000);
        g_assert_false(rv_settings_get_bool(out, "engine", "dht"));
        g_assert_cmpstr(rv_settings_get_string(out, "fs", "move_mode"), ==, "copy");
        c = json_node_get_object(changes);
        g_assert_cmpuint(json_object_get_size(c), ==, 3);
        g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(c, "/engine/download_limit"), "new"),
                        ==, 5000);
}

static void
test_settings_bad_input(void)
{
        assert_patch_fails("{\"engine\": {\"download_limit\": \"fast\"}}", "/engine/download_limit");
        assert_patch_fails("{\"engine\": {\"download_limit\": -1}}", "/engine/download_limit");
        assert_patch_fails("{\"engine\": {\"listen_port\": 70000}}", "/engine/listen_port");
        assert_patch_fails("{\"engine\": {\"bogus\": 1}}", "/engine/bogus");
        /* an empty entry names no section (it once made the check read past its end) */
        assert_patch_fails("{\"app\": {\"immutable_keys\": [\"\"]}}", "/app/immutable_keys");
        assert_patch_fails("{\"app\": {\"immutable_keys\": [\"engine\"]}}", "/app/immutable_keys");
        assert_patch_fails("{\"nonsense\": {}}", "/nonsense");
        assert_patch_fails("{\"engine\": {\"encryption\": \"maybe\"}}", "/engine/encryption");
        assert_patch_fails("{\"app\": {\"mode\": \"active\"}}", "/app/mode");
        assert_patch_fails("{\"fs\": {\"chmod_file\": \"rwx\"}}", "/fs/chmod_file");
        assert_patch_fails("{\"fs\": {\"cleanup_drop\": [\"[x\"]}}", "/fs/cleanup_drop");
        assert_patch_fails("{\"fs\": {\"library_root\": \"relative\"}}", "/fs/library_root");
        assert_patch_fails("{\"engine\": {\"alt_schedule_from\": \"25:00\"}}", "/engine/alt_schedule_from");
        assert_patch_fails("{\"app\": {\"http_bind\": \"localhost\"}}", "/app/http_bind");
        /* a path outside the allowed roots */
        assert_patch_fails("{\"fs\": {\"allowed_paths\": [\"/srv/media\"], \"library_root\": \"/home/x\"}}",
                           "/fs/library_root");
}

static void
test_settings_immutable(void)
{
        g_autoptr(JsonNode) defaults = rv_settings_defaults();
        g_autoptr(JsonNode) lock = j("{\"app\": {\"immutable_keys\": [\"/engine/listen_port\", \"/fs\"]}}");
        g_autoptr(JsonNode) locked = rv_settings_apply_patch(defaults, lock, NULL, NULL);
        g_autoptr(JsonNode) p1 = j("{\"engine\": {\"listen_port\": 1234}}");
        g_autoptr(JsonNode) p2 = j("{\"fs\": {\"flatten\": true}}");
        g_autoptr(JsonNode) p3 = j("{\"engine\": {\"dht\": false}}");
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ok = NULL;

        g_assert_nonnull(locked);
        g_assert_null(rv_settings_apply_patch(locked, p1, NULL, &error));
        g_assert_nonnull(strstr(error->message, "immutable"));
        g_clear_error(&error);
        g_assert_null(rv_settings_apply_patch(locked, p2, NULL, &error));
        g_assert_true(g_str_has_prefix(error->message, "/fs/flatten"));
        ok = rv_settings_apply_patch(locked, p3, NULL, &error);
        g_assert_nonnull(ok);
}

static void
test_settings_guard_rails(void)
{
        g_autoptr(JsonNode) defaults = rv_settings_defaults();
        g_autoptr(JsonNode) low = j("{\"engine\": {\"download_limit\": 10}}");
        g_autoptr(JsonNode) high = j("{\"engine\": {\"upload_limit\": 700000000}}");
        g_autoptr(JsonNode) a = rv_settings_apply_patch(defaults, low, NULL, NULL);
        g_autoptr(JsonNode) b = rv_settings_apply_patch(defaults, high, NULL, NULL);
        g_autoptr(JsonNode) off = j("{\"engine\": {\"download_limit\": 0}}");
        g_autoptr(JsonNode) changes = NULL;
        g_autoptr(JsonNode) c = rv_settings_apply_patch(a, off, &changes, NULL);
        g_autofree char *ra = rv_settings_guard_rails(a);
        g_autofree char *rb = rv_settings_guard_rails(b);
        g_autofree char *rc = rv_settings_guard_rails(c);

        g_assert_nonnull(strstr(ra, "almost zero"));
        g_assert_nonnull(strstr(rb, "5 Gbps"));
        g_assert_null(rc);
        g_assert_cmpstr(rv_settings_limit_disabled(changes), ==, "/engine/download_limit");
}

static void
test_settings_from_string(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) v1 = rv_settings_value_from_string(rv_settings_find("engine", "dht"), "false", &error);
        g_autoptr(JsonNode) v2 =
                rv_settings_value_from_string(rv_settings_find("fs", "cleanup_keep"), "*.srt,*.mkv", &error);
        g_autoptr(JsonNode) v3 = rv_settings_value_from_string(rv_settings_find("fs", "library_root"), "null", &error);
        g_autoptr(JsonNode) v4 = NULL;

        g_assert_no_error(error);
        g_assert_false(json_node_get_boolean(v1));
        g_assert_cmpuint(json_array_get_length(json_node_get_array(v2)), ==, 2);
        g_assert_true(JSON_NODE_HOLDS_NULL(v3));
        v4 = rv_settings_value_from_string(rv_settings_find("engine", "download_limit"), "lots", &error);
        g_assert_null(v4);
        g_assert_true(g_str_has_prefix(error->message, "/engine/download_limit"));
}

/* the live settings over the embedded store */

#define WAIT_FOR(cond) RV_TEST_WAIT_FOR(cond)

typedef struct {
        gboolean done;
        guint64 revision;
        GError *error;
        guint changed;
        char *actor;
} Result;

static void
loaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Result *r = user_data;

        g_assert_true(rv_live_settings_load_finish(RV_LIVE_SETTINGS(source), result, &r->error));
        r->done = TRUE;
}

static void
updated_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Result *r = user_data;

        r->revision = rv_live_settings_update_finish(RV_LIVE_SETTINGS(source), result, &r->error);
        r->done = TRUE;
}

static void
changed_cb(RvLiveSettings *config, guint64 revision, JsonNode *changes, const char *actor, gpointer user_data)
{
        Result *r = user_data;

        r->changed++;
        g_free(r->actor);
        r->actor = g_strdup(actor);
}

static void
history_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        GPtrArray **out = user_data;

        *out = rv_live_settings_history_finish(NULL, result, NULL);
}

static void
test_config_live(void)
{
        g_autofree char *dir = g_dir_make_tmp("rv-test-config-XXXXXX", NULL);
        g_autoptr(RvStore) store = rv_store_embedded_new(dir, NULL, NULL);
        g_autoptr(RvLiveSettings) config = rv_live_settings_new(store);
        g_autoptr(JsonNode) initial = j("{\"engine\": {\"dht\": false}}");
        g_autoptr(JsonNode) patch = j("{\"engine\": {\"download_limit\": 4096}}");
        g_autoptr(JsonNode) bad = j("{\"engine\": {\"download_limit\": true}}");
        g_autoptr(GPtrArray) history = NULL;
        Result r = { 0 };

        g_signal_connect(config, "changed", G_CALLBACK(changed_cb), &r);
        rv_live_settings_load_async(config, initial, NULL, loaded_cb, &r);
        WAIT_FOR(r.done);
        /* seeded as revision 1 from the initial values */
        g_assert_cmpuint(rv_live_settings_get_revision(config), ==, 1);
        g_assert_false(rv_settings_get_bool(rv_live_settings_get_document(config), "engine", "dht"));

        r.done = FALSE;
        rv_live_settings_update_async(config, patch, "test", "raise the limit", NULL, updated_cb, &r);
        WAIT_FOR(r.done);
        g_assert_no_error(r.error);
        g_assert_cmpuint(r.revision, ==, 2);
        g_assert_cmpuint(r.changed, ==, 1);
        g_assert_cmpstr(r.actor, ==, "test");

        /* the same again changes nothing and keeps the revision */
        r.done = FALSE;
        rv_live_settings_update_async(config, patch, "test", "again", NULL, updated_cb, &r);
        WAIT_FOR(r.done);
        g_assert_cmpuint(r.revision, ==, 2);

        /* a bad write names the field and changes nothing */
        r.done = FALSE;
        rv_live_settings_update_async(config, bad, "test", "bad", NULL, updated_cb, &r);
        WAIT_FOR(r.done);
        g_assert_error(r.error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_true(g_str_has_prefix(r.error->message, "/engine/download_limit"));
        g_clear_error(&r.error);
        g_assert_cmpuint(rv_live_settings_get_revision(config), ==, 2);

        /* If-Match: two writers that saw revision 2 cannot both write; the second gets Conflict */
        {
                g_autoptr(JsonNode) first = j("{\"engine\": {\"upload_limit\": 100}}");
                g_autoptr(JsonNode) second = j("{\"engine\": {\"upload_limit\": 200}}");
                Result r2 = { 0 };
                r.done = FALSE;
                rv_live_settings_update_if_async(config, 2, first, "a", "first", NULL, updated_cb, &r);
                rv_live_settings_update_if_async(config, 2, second, "b", "second", NULL, updated_cb, &r2);
                WAIT_FOR(r.done && r2.done);
                g_assert_no_error(r.error);
                g_assert_cmpuint(r.revision, ==, 3);
                g_assert_error(r2.error, RV_ERROR, RV_ERROR_CONFLICT);
                g_clear_error(&r2.error);
                g_free(r2.actor);
                g_assert_cmpint(rv_settings_get_int(rv_live_settings_get_document(config), "engine", "upload_limit", 0),
                                ==, 100);
        }

        rv_live_settings_history_async(config, 10, NULL, history_cb, &history);
        WAIT_FOR(history != NULL);
        g_assert_cmpuint(history->len, ==, 3);
        g_assert_cmpstr(((RvStoreHistoryEntry *)g_ptr_array_index(history, 0))->reason, ==, "first");
        g_assert_cmpstr(((RvStoreHistoryEntry *)g_ptr_array_index(history, 1))->reason, ==, "raise the limit");
        g_assert_cmpstr(((RvStoreHistoryEntry *)g_ptr_array_index(history, 2))->actor, ==, "bootstrap");

        g_clear_object(&config);
        g_clear_pointer(&store, rv_store_free);
        /* a restart reads the same revision back */
        store = rv_store_embedded_new(dir, NULL, NULL);
        config = rv_live_settings_new(store);
        r.done = FALSE;
        rv_live_settings_load_async(config, initial, NULL, loaded_cb, &r);
        WAIT_FOR(r.done);
        g_assert_cmpuint(rv_live_settings_get_revision(config), ==, 3);
        g_assert_cmpint(rv_settings_get_int(rv_live_settings_get_document(config), "engine", "download_limit", 0), ==,
                        4096);
        g_free(r.actor);
        g_clear_object(&config);
        g_clear_pointer(&store, rv_store_free);
        rv_test_data_remove_tree(dir);
}

/* per-label fs policies: fields of the fs section, checked like settings writes, confined like library_root */
static void
test_settings_label_policies(void)
{
        g_autoptr(JsonNode) defaults = rv_settings_defaults();
        g_autoptr(JsonNode) patch =
                j("{\"/fs/label_policies\": {\"tv\": {\"library_root\": \"/srv/media/tv\", \"extract\": true}},"
                  " \"/fs/move_mode\": \"reflink\"}");
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) out = rv_settings_apply_patch(defaults, patch, NULL, &error);
        g_autoptr(JsonNode) text = NULL;
        JsonNode *labels;

        g_assert_no_error(error);
        labels = rv_settings_get(out, rv_settings_find("fs", "label_policies"));
        g_assert_true(JSON_NODE_HOLDS_OBJECT(labels));
        g_assert_cmpstr(rv_settings_get_string(out, "fs", "move_mode"), ==, "reflink");

        assert_patch_fails("{\"/fs/label_policies\": {\"tv\": {\"extract\": 1}}}", "/fs/label_policies/tv/extract");
        assert_patch_fails("{\"/fs/label_policies\": {\"tv\": {\"allowed_paths\": []}}}",
                           "/fs/label_policies/tv/allowed_paths");
        assert_patch_fails("{\"/fs/label_policies\": {\"tv\": {\"library_root\": \"tv\"}}}",
                           "/fs/label_policies/tv/library_root");
        assert_patch_fails("{\"/fs/label_policies\": [\"tv\"]}", "/fs/label_policies");
        assert_patch_fails("{\"/fs/label_policies\": {\"tv\": {\"library_root\": \"/srv/tv\"}},"
                           " \"/fs/allowed_paths\": [\"/data\"]}",
                           "/fs/label_policies");

        /* the command line gives JSON text */
        text = rv_settings_value_from_string(rv_settings_find("fs", "label_policies"), "{\"a\": {\"flatten\": true}}",
                                             &error);
        g_assert_no_error(error);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(text));

        /* a torrent's own overrides use the same check */
        {
                g_autoptr(JsonNode) ok = j("{\"extract\": true, \"move_mode\": \"copy\"}");
                g_autoptr(JsonNode) bad = j("{\"move_mode\": \"teleport\"}");
                g_assert_true(rv_settings_check_fs_overrides(ok, "fs", NULL));
                g_assert_false(rv_settings_check_fs_overrides(bad, "fs", &error));
                g_assert_true(g_str_has_prefix(error->message, "fs/move_mode: "));
        }
}

/* PBKDF2-HMAC-SHA256 against a vector from Python's hashlib.pbkdf2_hmac("sha256", b"password", b"saltsalt", 1000) */
static void
test_settings_password(void)
{
        const char *vector = "pbkdf2-sha256$1000$c2FsdHNhbHQ=$E196ZhRPzw+wA84EjzHwJO1cv/MFJdO6C/sxmUeTYqY=";
        g_autofree char *fresh = rv_password_hash("s3cret");
        g_autofree char *patch = g_strdup_printf("{\"app\": {\"webapi_password\": \"%s\"}}", fresh);
        g_autoptr(JsonNode) defaults = rv_settings_defaults();
        g_autoptr(JsonNode) p = j(patch);
        g_autoptr(JsonNode) out = rv_settings_apply_patch(defaults, p, NULL, NULL);

        g_assert_true(rv_password_hash_valid(vector));
        g_assert_true(rv_password_verify(vector, "password"));
        g_assert_false(rv_password_verify(vector, "passwore"));
        g_assert_false(rv_password_verify(vector, ""));
        g_assert_true(rv_password_verify(fresh, "s3cret"));
        g_assert_false(rv_password_verify(fresh, "s3cre"));
        /* two hashes of one password differ: a salt each */
        {
                g_autofree char *again = rv_password_hash("s3cret");
                g_assert_cmpstr(again, !=, fresh);
        }
        g_assert_false(rv_password_hash_valid("s3cret"));
        g_assert_false(
                rv_password_hash_valid("pbkdf2-sha256$10$c2FsdHNhbHQ=$E196ZhRPzw+wA84EjzHwJO1cv/MFJdO6C/sxmUeTYqY="));
        g_assert_false(rv_password_hash_valid("pbkdf2-sha256$1000$c2FsdHNhbHQ=$c2hvcnQ="));
        g_assert_nonnull(out);
        assert_patch_fails("{\"app\": {\"webapi_password\": \"s3cret\"}}", "/app/webapi_password");
}

/* categories: names as qBittorrent takes them, absolute save paths, confined to the allowed paths */
static void
test_settings_categories(void)
{
        g_autoptr(JsonNode) defaults = rv_settings_defaults();
        g_autoptr(JsonNode) p = j("{\"app\": {\"categories\": {\"tv\": {\"save_path\": \"/srv/tv\"}, "
                                  "\"movies\": {\"save_path\": null}, \"a/b\": {}}}}");
        g_autoptr(JsonNode) out = rv_settings_apply_patch(defaults, p, NULL, NULL);
        const char *path = NULL;

        g_assert_nonnull(out);
        g_assert_true(rv_settings_get_category(out, "tv", &path));
        g_assert_cmpstr(path, ==, "/srv/tv");
        g_assert_true(rv_settings_get_category(out, "movies", &path));
        g_assert_null(path);
        g_assert_true(rv_settings_get_category(out, "a/b", NULL));
        g_assert_false(rv_settings_get_category(out, "music", NULL));
        assert_patch_fails("{\"app\": {\"categories\": {\"tv\": {\"save_path\": \"srv\"}}}}", "/app/categories");
        assert_patch_fails("{\"app\": {\"categories\": {\"a\\\\b\": {}}}}", "/app/categories");
        assert_patch_fails("{\"app\": {\"categories\": {\"a//b\": {}}}}", "/app/categories");
        assert_patch_fails("{\"app\": {\"categories\": {\"tv\": {\"path\": \"/x\"}}}}", "/app/categories");
        assert_patch_fails("{\"app\": {\"categories\": []}}", "/app/categories");
        assert_patch_fails("{\"fs\": {\"allowed_paths\": [\"/data\"]}, "
                           "\"app\": {\"categories\": {\"tv\": {\"save_path\": \"/srv/tv\"}}}}",
                           "/app/categories");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/config/settings/defaults", test_settings_defaults);
        g_test_add_func("/config/settings/patch", test_settings_patch);
        g_test_add_func("/config/settings/bad-input", test_settings_bad_input);
        g_test_add_func("/config/settings/immutable", test_settings_immutable);
        g_test_add_func("/config/settings/guard-rails", test_settings_guard_rails);
        g_test_add_func("/config/settings/from-string", test_settings_from_string);
        g_test_add_func("/config/settings/label-policies", test_settings_label_policies);
        g_test_add_func("/config/settings/password", test_settings_password);
        g_test_add_func("/config/settings/categories", test_settings_categories);
        g_test_add_func("/config/live", test_config_live);
        return g_test_run();
}
