/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-test-harness.h"

/*
 * settings over D-Bus: typed properties on the policy objects, writes that
 * are validated (errors name the field) and stored with a revision, an atomic
 * multi-field update, the history, and the value surviving a restart
 */

#define ENGINE RV_BUS_PATH "/policy/engine"
#define FS RV_BUS_PATH "/policy/fs"
#define APP RV_BUS_PATH "/policy/app"
#define POLICY "com.revaer.Revaer1.Policy"

static guint64
revision(RvTestHarness *h)
{
        g_autoptr(GVariant) v = rv_test_get_iface(h, ENGINE, POLICY, "Revision");

        return g_variant_get_uint64(v);
}

static void
set_fails(RvTestHarness *h, const char *path, const char *iface, const char *prop, GVariant *value, const char *pointer)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = rv_test_call(h, path, "org.freedesktop.DBus.Properties", "Set",
                                                 g_variant_new("(ssv)", iface, prop, value), NULL, &error);
        g_autofree char *name = NULL;

        g_assert_null(reply);
        name = rv_test_error_name(error);
        g_assert_cmpstr(name, ==, "com.revaer.Revaer1.Error.InvalidArgument");
        if (strstr(error->message, pointer) == NULL)
                g_error("'%s' does not name %s", error->message, pointer);
}

static void
test_policy(void)
{
        RvTestHarness h;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        guint64 rev0;
        guint64 rev;

        rv_test_harness_setup(&h);
        rv_test_harness_start_daemon(&h);

        /* seeded from revaerd.conf at the first start */
        rev0 = revision(&h);
        g_assert_cmpuint(rev0, ==, 1);
        {
                g_autoptr(GVariant) utp = rv_test_get_iface(&h, ENGINE, POLICY ".Engine", "Utp");
                g_autoptr(GVariant) mode = rv_test_get_iface(&h, APP, POLICY ".App", "Mode");
                g_assert_false(g_variant_get_boolean(utp));
                g_assert_cmpstr(g_variant_get_string(mode, NULL), ==, "setup");
        }

        /* a write through Properties.Set is a new revision */
        reply = rv_test_call(&h, ENGINE, "org.freedesktop.DBus.Properties", "Set",
                             g_variant_new("(ssv)", POLICY ".Engine", "DownloadLimit", g_variant_new_int64(123456)),
                             NULL, &error);
        g_assert_no_error(error);
        g_clear_pointer(&reply, g_variant_unref);
        g_assert_cmpuint(revision(&h), ==, rev0 + 1);
        {
                g_autoptr(GVariant) v = rv_test_get_iface(&h, ENGINE, POLICY ".Engine", "DownloadLimit");
                g_assert_cmpint(g_variant_get_int64(v), ==, 123456);
        }

        /* an atomic update of several fields */
        {
                GVariantBuilder b;
                g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
                g_variant_builder_add(&b, "{sv}", "move_mode", g_variant_new_string("copy"));
                g_variant_builder_add(&b, "{sv}", "Flatten", g_variant_new_boolean(TRUE));
                g_variant_builder_add(&b, "{sv}", "cleanup_drop",
                                      g_variant_new_strv((const char *[]){ "@skip_fluff", "*.nfo", NULL }, -1));
                reply = rv_test_call(&h, FS, POLICY, "Update", g_variant_new("(a{sv})", &b), G_VARIANT_TYPE("(t)"),
                                     &error);
                g_assert_no_error(error);
                g_variant_get(reply, "(t)", &rev);
                g_clear_pointer(&reply, g_variant_unref);
                g_assert_cmpuint(rev, ==, rev0 + 2);
        }

        /* bad writes name the field and change nothing */
        rev = revision(&h);
        set_fails(&h, ENGINE, POLICY ".Engine", "DownloadLimit", g_variant_new_int64(-5), "/engine/download_limit");
        set_fails(&h, ENGINE, POLICY ".Engine", "ListenPort", g_variant_new_int64(70000), "/engine/listen_port");
        set_fails(&h, ENGINE, POLICY ".Engine", "Dht", g_variant_new_string("yes"), "/engine/dht");
        set_fails(&h, ENGINE, POLICY ".Engine", "Encryption", g_variant_new_string("maybe"), "/engine/encryption");
        set_fails(&h, FS, POLICY ".Fs", "LibraryRoot", g_variant_new_string("relative/path"), "/fs/library_root");
        set_fails(&h, FS, POLICY ".Fs", "ChmodFile", g_variant_new_string("rwxr"), "/fs/chmod_file");
        {
                GVariantBuilder b;
                g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
                g_variant_builder_add(&b, "{sv}", "allowed_paths",
                                      g_variant_new_strv((const char *[]){ "/srv/media", NULL }, -1));
                g_variant_builder_add(&b, "{sv}", "library_root", g_variant_new_string("/home/elsewhere"));
                reply = rv_test_call(&h, FS, POLICY, "Update", g_variant_new("(a{sv})", &b), NULL, &error);
                g_assert_null(reply);
                g_assert_nonnull(strstr(error->message, "/fs/library_root"));
                g_assert_nonnull(strstr(error->message, "allowed"));
                g_clear_error(&error);
        }
        {
                GVariantBuilder b;
                g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
                g_variant_builder_add(&b, "{sv}", "no_such_setting", g_variant_new_boolean(TRUE));
                reply = rv_test_call(&h, ENGINE, POLICY, "Update", g_variant_new("(a{sv})", &b), NULL, &error);
                g_assert_null(reply);
                g_assert_nonnull(strstr(error->message, "/engine/no_such_setting"));
                g_clear_error(&error);
        }
        /* immutable keys */
        {
                GVariantBuilder b;
                g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
                g_variant_builder_add(&b, "{sv}", "immutable_keys",
                                      g_variant_new_strv((const char *[]){ "/engine/listen_port", NULL }, -1));
                reply = rv_test_call(&h, APP, POLICY, "Update", g_variant_new("(a{sv})", &b), NULL, &error);
                g_assert_no_error(error);
                g_clear_pointer(&reply, g_variant_unref);
                rev = revision(&h);
                set_fails(&h, ENGINE, POLICY ".Engine", "ListenPort", g_variant_new_int64(7000), "immutable");
        }
        /* the mode follows the API keys, never a settings write */
        reply = rv_test_call(&h, APP, "org.freedesktop.DBus.Properties", "Set",
                             g_variant_new("(ssv)", POLICY ".App", "Mode", g_variant_new_string("active")), NULL,
                             &error);
        g_assert_null(reply);
        g_clear_error(&error);
        g_assert_cmpuint(revision(&h), ==, rev);

        /* history: newest first, who and why */
        reply = rv_test_call(&h, ENGINE, POLICY, "History", g_variant_new("(u)", 10), G_VARIANT_TYPE("(a(txsss))"),
                             &error);
        g_assert_no_error(error);
        {
                g_autoptr(GVariant) entries = g_variant_get_child_value(reply, 0);
                g_autoptr(GVariant) newest = g_variant_get_child_value(entries, 0);
                g_autoptr(GVariant) oldest = NULL;
                const char *actor = NULL;
                const char *changes = NULL;
                guint64 r = 0;
                g_variant_get(newest, "(tx&s&s&s)", &r, NULL, &actor, NULL, &changes);
                g_assert_cmpuint(r, ==, rev);
                g_assert_true(g_str_has_prefix(actor, "dbus:uid="));
                g_assert_nonnull(strstr(changes, "/app/immutable_keys"));
                oldest = g_variant_get_child_value(entries, g_variant_n_children(entries) - 1);
                g_variant_get(oldest, "(tx&s&s&s)", &r, NULL, &actor, NULL, NULL);
                g_assert_cmpuint(r, ==, 1);
                g_assert_cmpstr(actor, ==, "bootstrap");
        }
        g_clear_pointer(&reply, g_variant_unref);

        /* a restart keeps the revision and the values */
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_start_daemon(&h);
        g_assert_cmpuint(revision(&h), ==, rev);
        {
                g_autoptr(GVariant) v = rv_test_get_iface(&h, ENGINE, POLICY ".Engine", "DownloadLimit");
                g_autoptr(GVariant) m = rv_test_get_iface(&h, FS, POLICY ".Fs", "MoveMode");
                g_assert_cmpint(g_variant_get_int64(v), ==, 123456);
                g_assert_cmpstr(g_variant_get_string(m, NULL), ==, "copy");
        }
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

static char *
grep_state(RvTestHarness *h, const char *needle)
{
        g_autoptr(GSubprocess) p = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                                    NULL, "grep", "-rl", "--", needle, h->state, NULL);
        char *out = NULL;

        g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, NULL);
        return out;
}

static void
test_setup_and_keys(void)
{
        RvTestHarness h;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autofree char *token = NULL;
        g_autofree char *key1 = NULL;
        g_autofree char *secret1 = NULL;
        g_autofree char *key2 = NULL;
        g_autofree char *secret2 = NULL;
        g_autofree char *rotated = NULL;
        const char *M = RV_BUS_PATH;
        const char *MI = RV_BUS_MANAGER_IFACE;

        rv_test_harness_setup(&h);
        rv_test_harness_start_daemon(&h);
        {
                g_autoptr(GVariant) setup = rv_test_get(&h, M, "SetupRequired");
                g_assert_true(g_variant_get_boolean(setup));
        }

        reply = rv_test_call(&h, M, MI, "IssueSetupToken", NULL, G_VARIANT_TYPE("(st)"), &error);
        g_assert_no_error(error);
        {
                guint64 expires = 0;
                g_variant_get(reply, "(st)", &token, &expires);
                g_assert_cmpuint(expires, >, (guint64)(g_get_real_time() / G_USEC_PER_SEC + 800));
                g_assert_cmpuint(expires, <=, (guint64)(g_get_real_time() / G_USEC_PER_SEC + 900));
        }
        g_clear_pointer(&reply, g_variant_unref);

        /* a wrong token does not set anything up, and does not use the right one up */
        reply = rv_test_call(&h, M, MI, "CompleteSetup", g_variant_new("(ss)", "not-the-token", "first"), NULL, &error);
        g_assert_null(reply);
        {
                g_autofree char *name = rv_test_error_name(error);
                g_assert_cmpstr(name, ==, "org.freedesktop.DBus.Error.AccessDenied");
        }
        g_clear_error(&error);
        reply = rv_test_call(&h, M, MI, "CompleteSetup", g_variant_new("(ss)", token, "first"), G_VARIANT_TYPE("(ss)"),
                             &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(ss)", &key1, &secret1);
        g_clear_pointer(&reply, g_variant_unref);
        g_assert_true(g_str_has_prefix(key1, "rk_"));
        g_assert_cmpuint(strlen(secret1), >=, 40);

        /* used once, and the service is active now */
        reply = rv_test_call(&h, M, MI, "CompleteSetup", g_variant_new("(ss)", token, "again"), NULL, &error);
        g_assert_null(reply);
        g_clear_error(&error);
        reply = rv_test_call(&h, M, MI, "IssueSetupToken", NULL, NULL, &error);
        g_assert_null(reply);
        {
                g_autofree char *name = rv_test_error_name(error);
                g_assert_cmpstr(name, ==, "com.revaer.Revaer1.Error.Conflict");
        }
        g_clear_error(&error);
        {
                g_autoptr(GVariant) setup = rv_test_get(&h, M, "SetupRequired");
                g_assert_false(g_variant_get_boolean(setup));
        }
        {
                g_autoptr(GVariant) mode = rv_test_get_iface(&h, APP, POLICY ".App", "Mode");
                gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
                while (g_strcmp0(g_variant_get_string(mode, NULL), "active") != 0 &&
                       g_get_monotonic_time() < deadline) {
                        g_usleep(50000);
                        g_variant_unref(mode);
                        mode = rv_test_get_iface(&h, APP, POLICY ".App", "Mode");
                }
                g_assert_cmpstr(g_variant_get_string(mode, NULL), ==, "active");
        }

        /* more keys, with a rate limit; listed without secrets */
        reply = rv_test_call(&h, M, MI, "CreateApiKey", g_variant_new("(suu)", "sonarr", 5, 60), G_VARIANT_TYPE("(ss)"),
                             &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(ss)", &key2, &secret2);
        g_clear_pointer(&reply, g_variant_unref);
        reply = rv_test_call(&h, M, MI, "CreateApiKey", g_variant_new("(suu)", "half", 5, 0), NULL, &error);
        g_assert_null(reply);
        g_assert_nonnull(strstr(error->message, "rate limit"));
        g_clear_error(&error);
        reply = rv_test_call(&h, M, MI, "ListApiKeys", NULL, G_VARIANT_TYPE("(a(ssbuut))"), &error);
        g_assert_no_error(error);
        {
                g_autofree char *text = g_variant_print(reply, FALSE);
                g_assert_nonnull(strstr(text, "sonarr"));
                g_assert_nonnull(strstr(text, key1));
                g_assert_null(strstr(text, secret1));
        }
        g_clear_pointer(&reply, g_variant_unref);
        reply = rv_test_call(&h, M, MI, "RotateApiKey", g_variant_new("(s)", key2), G_VARIANT_TYPE("(s)"), &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(s)", &rotated);
        g_clear_pointer(&reply, g_variant_unref);
        g_assert_cmpstr(rotated, !=, secret2);

        /* nothing on disk holds a secret or the token */
        {
                g_autofree char *a = grep_state(&h, secret1);
                g_autofree char *b = grep_state(&h, rotated);
                g_autofree char *c = grep_state(&h, token);
                g_assert_cmpstr(a, ==, "");
                g_assert_cmpstr(b, ==, "");
                g_assert_cmpstr(c, ==, "");
        }

        reply = rv_test_call(&h, M, MI, "RevokeApiKey", g_variant_new("(s)", "rk_nope"), NULL, &error);
        g_assert_null(reply);
        {
                g_autofree char *name = rv_test_error_name(error);
                g_assert_cmpstr(name, ==, "com.revaer.Revaer1.Error.NotFound");
        }
        g_clear_error(&error);

        /* keys survive a restart; revoking them all goes back to setup */
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_start_daemon(&h);
        g_variant_unref(rv_test_call(&h, M, MI, "RevokeApiKey", g_variant_new("(s)", key1), NULL, &error));
        g_assert_no_error(error);
        g_variant_unref(rv_test_call(&h, M, MI, "RevokeApiKey", g_variant_new("(s)", key2), NULL, &error));
        g_assert_no_error(error);
        {
                g_autoptr(GVariant) setup = rv_test_get(&h, M, "SetupRequired");
                g_assert_true(g_variant_get_boolean(setup));
        }
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/policy/settings", test_policy);
        g_test_add_func("/policy/setup-and-keys", test_setup_and_keys);
        return g_test_run();
}
