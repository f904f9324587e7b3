/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>

#include "rv-test-data.h"
#include "rv-test-harness.h"

/*
 * revaerd as users run it: a subprocess on a private session bus, real
 * libtorrent transfers from the seeder helper on 127.0.0.1, every call through
 * GDBus
 */

#define MIB (1024 * 1024)

static char *
add_magnet(RvTestHarness *h, const char *magnet, GVariant *options, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        char *path = NULL;

        reply = rv_test_call(h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddMagnet",
                             g_variant_new("(s@a{sv})", magnet, options), G_VARIANT_TYPE("(o)"), error);
        if (reply == NULL)
                return NULL;
        g_variant_get(reply, "(o)", &path);
        return path;
}

static char *
add_torrent(RvTestHarness *h, GBytes *data, GVariant *options, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        char *path = NULL;
        GVariant *bytes = g_variant_new_from_bytes(G_VARIANT_TYPE("ay"), data, TRUE);

        reply = rv_test_call(h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddTorrent",
                             g_variant_new("(@ay@a{sv})", bytes, options), G_VARIANT_TYPE("(o)"), error);
        if (reply == NULL)
                return NULL;
        g_variant_get(reply, "(o)", &path);
        return path;
}

static void
torrent_call(RvTestHarness *h, const char *path, const char *method, GVariant *params)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = rv_test_call(h, path, RV_BUS_TORRENT_IFACE, method, params, NULL, &error);
        (void)reply;

        g_assert_no_error(error);
}

static guint
torrent_count(RvTestHarness *h)
{
        g_autoptr(GVariant) v = rv_test_get(h, RV_BUS_PATH, "TorrentCount");

        return g_variant_get_uint32(v);
}

static void
assert_same_file(const char *a, const char *b)
{
        g_autofree char *ha = rv_test_data_checksum_file(a);
        g_autofree char *hb = rv_test_data_checksum_file(b);

        g_assert_nonnull(ha);
        g_assert_nonnull(hb);
        g_assert_cmpstr(ha, ==, hb);
}

static void
test_daemon_magnet_download(void)
{
        RvTestHarness h;
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *dest = NULL;
        g_autoptr(GVariant) name = NULL;
        g_autoptr(GVariant) done = NULL;

        rv_test_harness_setup(&h);
        rv_test_harness_start_seeder(&h, "single.bin", 64 * MIB, 1, FALSE, 0);
        rv_test_harness_start_daemon(&h);

        /* the magnet carries the seeder as x.pe: metadata comes from it */
        path = add_magnet(&h, h.seeder.magnet, rv_test_options(&h, NULL), &error);
        g_assert_no_error(error);
        {
                /* the object path is the info hash as it is, so scripts can build it */
                g_autofree char *expected = g_strconcat(RV_BUS_PATH "/torrent/", h.seeder.hash, NULL);
                g_assert_cmpstr(path, ==, expected);
        }
        g_variant_unref(rv_test_wait_prop(&h, path, "Completed", rv_test_pred_true, NULL, 60));
        name = rv_test_get(&h, path, "Name");
        g_assert_cmpstr(g_variant_get_string(name, NULL), ==, "single.bin");
        done = rv_test_get(&h, path, "Done");
        g_assert_cmpuint(g_variant_get_uint64(done), ==, 64 * MIB);
        dest = g_build_filename(h.downloads, "single.bin", NULL);
        assert_same_file(h.seeder.payload, dest);

        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

static gboolean
file_complete(const char *path, gint64 size)
{
        struct stat st;

        return g_stat(path, &st) == 0 && st.st_size == size;
}

static void
test_daemon_selection(void)
{
        RvTestHarness h;
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) torrent = NULL;
        g_autofree char *path = NULL;
        g_autoptr(GVariant) files = NULL;
        g_autoptr(GVariantIter) iter = NULL;
        const char *exclude[] = { "*.txt", NULL };
        const char *file_path;
        guint32 index;
        guint64 size;
        guint64 fdone;
        guint8 prio;
        gboolean wanted;
        guint n_wanted = 0;
        guint n_skipped = 0;

        rv_test_harness_setup(&h);
        rv_test_harness_start_seeder(&h, "pack", 24 * MIB, 6, TRUE, 0);
        rv_test_harness_start_daemon(&h);

        torrent = rv_test_harness_seeder_torrent(&h);
        path = add_torrent(&h, torrent,
                           rv_test_options(&h, "exclude", g_variant_new_strv(exclude, -1), "skip_fluff",
                                           g_variant_new_boolean(TRUE), NULL),
                           &error);
        g_assert_no_error(error);
        g_variant_unref(rv_test_wait_prop(&h, path, "Completed", rv_test_pred_true, NULL, 60));

        files = rv_test_call(&h, path, RV_BUS_TORRENT_IFACE, "ListFiles", NULL, G_VARIANT_TYPE("(a(usttyb))"), &error);
        g_assert_no_error(error);
        g_variant_get(files, "(a(usttyb))", &iter);
        while (g_variant_iter_loop(iter, "(u&sttyb)", &index, &file_path, &size, &fdone, &prio, &wanted)) {
                g_autofree char *src = g_build_filename(h.dir, "seed", file_path, NULL);
                g_autofree char *dst = g_build_filename(h.downloads, file_path, NULL);
                gboolean fluff = strstr(file_path, "Sample/") != NULL || g_str_has_suffix(file_path, ".nfo") ||
                                 g_str_has_suffix(file_path, ".txt");
                g_assert_cmpint(wanted, ==, !fluff);
                if (wanted) {
                        n_wanted++;
                        g_assert_cmpuint(fdone, ==, size);
                        assert_same_file(src, dst);
                } else {
                        n_skipped++;
                        /* an unwanted file is never written out whole */
                        g_assert_false(file_complete(dst, (gint64)size));
                }
        }
        g_assert_cmpuint(n_wanted, >, 0);
        g_assert_cmpuint(n_skipped, >, 0);

        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

static gboolean
pred_no_peers(GVariant *value, gconstpointer data)
{
        return g_variant_get_uint32(value) == 0;
}

static void
test_daemon_pause_resume_remove(void)
{
        RvTestHarness h;
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *dest = NULL;
        g_autoptr(GVariant) reply = NULL;

        rv_test_harness_setup(&h);
        rv_test_harness_write_config(&h, "download-limit=4000000\n");
        rv_test_harness_start_seeder(&h, "pr.bin", 16 * MIB, 1, FALSE, 0);
        rv_test_harness_start_daemon(&h);

        path = add_magnet(&h, h.seeder.magnet, rv_test_options(&h, NULL), &error);
        g_assert_no_error(error);
        g_variant_unref(rv_test_wait_prop(&h, path, "State", rv_test_pred_string, "downloading", 30));
        torrent_call(&h, path, "Pause", NULL);
        g_variant_unref(rv_test_wait_prop(&h, path, "State", rv_test_pred_string, "paused", 10));
        {
                /*
                 * paused means no progress; what passed before the pause is reported
                 * up to a status interval (200 ms here) after it, now that the first
                 * payload, and with it "downloading", shows at once: counted from the
                 * first status without peers, taken after the pause, and one more
                 */
                g_autoptr(GVariant) d1 = NULL;
                g_autoptr(GVariant) d2 = NULL;
                g_variant_unref(rv_test_wait_prop(&h, path, "Peers", pred_no_peers, NULL, 10));
                g_usleep(300000);
                d1 = rv_test_get(&h, path, "Done");
                g_usleep(1500000);
                d2 = rv_test_get(&h, path, "Done");
                g_assert_cmpuint(g_variant_get_uint64(d1), ==, g_variant_get_uint64(d2));
        }
        torrent_call(&h, path, "Resume", NULL);
        g_variant_unref(rv_test_wait_prop(&h, path, "Completed", rv_test_pred_true, NULL, 60));
        dest = g_build_filename(h.downloads, "pr.bin", NULL);
        assert_same_file(h.seeder.payload, dest);

        /* remove without data keeps the files */
        torrent_call(&h, path, "Remove", g_variant_new("(b)", FALSE));
        while (torrent_count(&h) != 0)
                g_usleep(50000);
        g_assert_true(g_file_test(dest, G_FILE_TEST_EXISTS));

        /* the same torrent again (the data is there: it seeds at once), then removed with its data */
        g_free(path);
        path = add_magnet(&h, h.seeder.magnet, rv_test_options(&h, NULL), &error);
        g_assert_no_error(error);
        g_variant_unref(rv_test_wait_prop(&h, path, "Completed", rv_test_pred_true, NULL, 60));
        torrent_call(&h, path, "Remove", g_variant_new("(b)", TRUE));
        while (torrent_count(&h) != 0 || g_file_test(dest, G_FILE_TEST_EXISTS))
                g_usleep(50000);

        /* the object is gone */
        reply = rv_test_call(&h, path, RV_BUS_TORRENT_IFACE, "Pause", NULL, NULL, &error);
        g_assert_null(reply);
        g_assert_nonnull(error);

        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

static GBytes *
bencode_torrent(const char *info)
{
        g_autofree char *text = g_strdup_printf("d4:info%se", info);

        return g_bytes_new(text, strlen(text));
}

static void
assert_add_fails(RvTestHarness *h, GBytes *data, const char *magnet, GVariant *options, const char *error_name,
                 const char *needle)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *name = NULL;

        if (data != NULL)
                path = add_torrent(h, data, options, &error);
        else
                path = add_magnet(h, magnet, options, &error);
        g_assert_null(path);
        name = rv_test_error_name(error);
        g_assert_cmpstr(name, ==, error_name);
        if (needle != NULL && strstr(error->message, needle) == NULL)
                g_error("'%s' not in '%s'", needle, error->message);
}

static void
test_daemon_bad_input(void)
{
        RvTestHarness h;
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) good = NULL;
        g_autoptr(GBytes) truncated = NULL;
        g_autoptr(GBytes) dotdot = NULL;
        g_autoptr(GBytes) absolute = NULL;
        g_autofree char *first = NULL;
        g_autofree char *twenty = g_strnfill(20, 'x');
        g_autofree char *info_dotdot = NULL;
        g_autofree char *info_abs = NULL;
        const char *bad_globs[] = { "[oops", NULL };
        const char *inv = "com.revaer.Revaer1.Error.InvalidArgument";

        rv_test_harness_setup(&h);
        rv_test_harness_write_config(&h, "max-metadata-size=65536\n");
        rv_test_harness_start_seeder(&h, "meta.bin", 64 * MIB, 1, FALSE, 16384);
        rv_test_harness_start_daemon(&h);

        {
                static const char good_text[] =
                        "d4:infod6:lengthi10e4:name4:good12:piece lengthi16384e6:pieces20:xxxxxxxxxxxxxxxxxxxxee";
                good = g_bytes_new_static(good_text, sizeof(good_text) - 1);
        }
        first = add_torrent(&h, good, rv_test_options(&h, NULL), &error);
        g_assert_no_error(error);

        assert_add_fails(&h, NULL, "not a magnet", rv_test_options(&h, NULL), inv, NULL);
        assert_add_fails(&h, NULL, "magnet:?dn=nohash", rv_test_options(&h, NULL), inv, NULL);
        truncated = g_bytes_new_from_bytes(good, 0, 40);
        assert_add_fails(&h, truncated, NULL, rv_test_options(&h, NULL), inv, NULL);
        info_dotdot = g_strdup_printf("d5:filesld6:lengthi10e4:pathl2:..6:escapeeee4:name4:evil12:piece "
                                      "lengthi16384e6:pieces20:%se",
                                      twenty);
        dotdot = bencode_torrent(info_dotdot);
        assert_add_fails(&h, dotdot, NULL, rv_test_options(&h, NULL), inv, "..");
        info_abs = g_strdup_printf("d6:lengthi10e4:name11:/etc/passwd12:piece lengthi16384e6:pieces20:%se", twenty);
        absolute = bencode_torrent(info_abs);
        assert_add_fails(&h, absolute, NULL, rv_test_options(&h, NULL), inv, "/etc/passwd");
        assert_add_fails(&h, good, NULL, rv_test_options(&h, NULL), "com.revaer.Revaer1.Error.Conflict", "already");
        assert_add_fails(&h, NULL, h.seeder.magnet, rv_test_options(&h, "bogus", g_variant_new_boolean(TRUE), NULL),
                         inv, "bogus");
        assert_add_fails(&h, NULL, h.seeder.magnet,
                         rv_test_options(&h, "download_limit", g_variant_new_int64(-1), NULL), inv, "download_limit");
        assert_add_fails(&h, NULL, h.seeder.magnet,
                         rv_test_options(&h, "include", g_variant_new_strv(bad_globs, -1), NULL), inv, "include");
        assert_add_fails(&h, NULL, h.seeder.magnet, rv_test_options(&h, "paused", g_variant_new_string("yes"), NULL),
                         inv, "paused");
        assert_add_fails(&h, NULL, h.seeder.magnet,
                         rv_test_options(&h, "save_path", g_variant_new_string("../x"), NULL), inv, "save_path");

        /*
         * reliability issue, defect 7: a btih whose digits are not base32 or
         * hex was added under a hash that is not in the link; a malformed x.pe
         * was dropped though the same peer in the peers option is refused; a
         * name that is not UTF-8 was added as "____"
         */
        assert_add_fails(&h, NULL, "magnet:?xt=urn:btih:AERUKZ4JVPG66AJDIVTYTK6N54ASGRL1&dn=base32",
                         rv_test_options(&h, NULL), inv, "xt 'urn:btih:AERUKZ4JVPG66AJDIVTYTK6N54ASGRL1'");
        assert_add_fails(&h, NULL, "magnet:?xt=urn:btih:g123456789abcdef0123456789abcdef01234567",
                         rv_test_options(&h, NULL), inv, "xt 'urn:btih:g123");
        assert_add_fails(&h, NULL, "magnet:?xt=urn:btih:5555555555555555555555555555555555555555&x.pe=example.com:80",
                         rv_test_options(&h, NULL), inv, "x.pe: invalid peer 'example.com:80'");
        assert_add_fails(&h, NULL, "magnet:?xt=urn:btih:5555555555555555555555555555555555555555",
                         g_variant_new_parsed("{'peers': <['example.com:80']>}"), inv, "'example.com:80'");
        assert_add_fails(&h, NULL, "magnet:?xt=urn:btih:5555555555555555555555555555555555555555&x.pe=1.2.3.4:0",
                         rv_test_options(&h, NULL), inv, "x.pe: invalid peer '1.2.3.4:0'");
        {
                g_autofree char *info = g_strdup_printf("d6:lengthi10e4:name4:\xff\xfe\xfd\xfc"
                                                        "12:piece "
                                                        "lengthi16384e6:pieces20:%se",
                                                        twenty);
                g_autoptr(GBytes) not_utf8 = bencode_torrent(info);
                assert_add_fails(&h, not_utf8, NULL, rv_test_options(&h, NULL), inv, "'name' is not valid UTF-8");
        }
        g_assert_cmpuint(torrent_count(&h), ==, 1);

        /* a garbage descriptor: a directory is not a torrent */
        {
                g_autoptr(GUnixFDList) fds = g_unix_fd_list_new();
                g_autoptr(GVariant) reply = NULL;
                g_autofree char *name = NULL;
                int fd = open(h.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                gint idx = g_unix_fd_list_append(fds, fd, NULL);
                close(fd);
                reply = g_dbus_connection_call_with_unix_fd_list_sync(
                        h.conn, RV_BUS_NAME, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddTorrentFd",
                        g_variant_new("(h@a{sv})", idx, rv_test_options(&h, NULL)), G_VARIANT_TYPE("(o)"),
                        G_DBUS_CALL_FLAGS_NONE, 10000, fds, NULL, NULL, &error);
                g_assert_null(reply);
                name = rv_test_error_name(error);
                g_assert_cmpstr(name, ==, inv);
                g_clear_error(&error);
        }
        g_assert_cmpuint(torrent_count(&h), ==, 1);

        /* metadata over the bound, fetched from the swarm: the torrent fails with a named reason */
        {
                g_autofree char *path = add_magnet(&h, h.seeder.magnet, rv_test_options(&h, NULL), &error);
                g_autoptr(GVariant) err = NULL;
                g_assert_no_error(error);
                g_variant_unref(rv_test_wait_prop(&h, path, "State", rv_test_pred_string, "error", 30));
                err = rv_test_get(&h, path, "Error");
                g_assert_nonnull(strstr(g_variant_get_string(err, NULL), "metadata"));
                torrent_call(&h, path, "Remove", g_variant_new("(b)", FALSE));
        }
        /* and the .torrent of the same is refused at once */
        {
                g_autoptr(GBytes) big = rv_test_harness_seeder_torrent(&h);
                assert_add_fails(&h, big, NULL, rv_test_options(&h, NULL), inv, NULL);
        }

        /* still alive, nothing else changed */
        g_assert_true(rv_test_harness_daemon_running(&h));
        while (torrent_count(&h) != 1)
                g_usleep(50000);
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

static gint64
file_mtime_us(const char *path)
{
        g_autoptr(GFile) file = g_file_new_for_path(path);
        g_autoptr(GFileInfo) info =
                g_file_query_info(file, "time::modified,time::modified-usec", G_FILE_QUERY_INFO_NONE, NULL, NULL);

        if (info == NULL)
                return 0;
        return (gint64)g_file_info_get_attribute_uint64(info, "time::modified") * G_USEC_PER_SEC +
               g_file_info_get_attribute_uint32(info, "time::modified-usec");
}

static void
test_daemon_crash_resume(void)
{
        RvTestHarness h;
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        g_autofree char *paused_path = NULL;
        g_autofree char *resume = NULL;
        g_autofree char *dest = NULL;
        const char *include[] = { "*.bin", NULL };
        const guint64 size = 64 * MIB;
        guint64 third = size / 3;
        guint64 floor_after;
        gint64 crossed;
        gint64 deadline;

        rv_test_harness_setup(&h);
        /* slow enough to kill it in the middle */
        rv_test_harness_write_config(&h, "download-limit=6000000\n");
        rv_test_harness_start_seeder(&h, "crash.bin", (gint64)size, 1, FALSE, 0);
        rv_test_harness_start_daemon(&h);

        path = add_magnet(&h, h.seeder.magnet, rv_test_options(&h, NULL), &error);
        g_assert_no_error(error);
        /* a second torrent, paused, with selection rules: both must hold across the crash */
        {
                const char *magnet = "magnet:?xt=urn:btih:5555555555555555555555555555555555555555&dn=held";
                paused_path = add_magnet(&h, magnet,
                                         rv_test_options(&h, "paused", g_variant_new_boolean(TRUE), "include",
                                                         g_variant_new_strv(include, -1), "skip_fluff",
                                                         g_variant_new_boolean(TRUE), NULL),
                                         &error);
                g_assert_no_error(error);
        }
        g_variant_unref(rv_test_wait_prop(&h, path, "Done", rv_test_pred_at_least, &third, 60));
        crossed = g_get_real_time();
        /* at least one resume save after a third was done */
        resume = g_strdup_printf("%s/torrents/%s.resume", h.state, h.seeder.hash);
        deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
        while (file_mtime_us(resume) <= crossed) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(100000);
        }
        {
                g_autoptr(GVariant) completed = rv_test_get(&h, path, "Completed");
                g_assert_false(g_variant_get_boolean(completed));
        }
        rv_test_harness_kill_daemon(&h);
        g_assert_true(g_subprocess_get_if_signaled(h.daemon));

        /* back up: the torrent is there and goes on from its saved progress, not from zero */
        rv_test_harness_start_daemon(&h);
        g_assert_cmpuint(torrent_count(&h), ==, 2);
        floor_after = third * 9 / 10;
        {
                g_autoptr(GVariant) state = NULL;
                g_autoptr(GVariant) done = NULL;
                deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
                for (;;) {
                        g_clear_pointer(&state, g_variant_unref);
                        state = rv_test_get(&h, path, "State");
                        if (g_strcmp0(g_variant_get_string(state, NULL), "downloading") == 0)
                                break;
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_usleep(50000);
                }
                done = rv_test_get(&h, path, "Done");
                g_assert_cmpuint(g_variant_get_uint64(done), >=, floor_after);
        }
        {
                g_autoptr(GVariant) state = rv_test_get(&h, paused_path, "State");
                g_autoptr(GVariant) skip = rv_test_get(&h, paused_path, "SkipFluff");
                g_autoptr(GVariant) inc = rv_test_get(&h, paused_path, "Include");
                g_autofree const char **incs = g_variant_get_strv(inc, NULL);
                g_assert_cmpstr(g_variant_get_string(state, NULL), ==, "paused");
                g_assert_true(g_variant_get_boolean(skip));
                g_assert_cmpstr(incs[0], ==, "*.bin");
        }

        /* lift the limit at run time through the engine policy, and let it finish */
        {
                g_autoptr(GVariant) reply =
                        rv_test_call(&h, RV_BUS_PATH "/policy/engine", "org.freedesktop.DBus.Properties", "Set",
                                     g_variant_new("(ssv)", "com.revaer.Revaer1.Policy.Engine", "DownloadLimit",
                                                   g_variant_new_int64(0)),
                                     NULL, &error);
                (void)reply;
                g_assert_no_error(error);
        }
        g_variant_unref(rv_test_wait_prop(&h, path, "Completed", rv_test_pred_true, NULL, 60));
        dest = g_build_filename(h.downloads, "crash.bin", NULL);
        assert_same_file(h.seeder.payload, dest);

        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

static void
test_daemon_sigterm_saves(void)
{
        RvTestHarness h;
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;

        rv_test_harness_setup(&h);
        rv_test_harness_write_config(&h, "[daemon]\nresume-save-interval=3600\n");
        rv_test_harness_start_seeder(&h, "term.bin", 4 * MIB, 1, FALSE, 0);
        rv_test_harness_start_daemon(&h);
        path = add_magnet(&h, h.seeder.magnet, rv_test_options(&h, NULL), &error);
        g_assert_no_error(error);
        g_variant_unref(rv_test_wait_prop(&h, path, "Completed", rv_test_pred_true, NULL, 60));
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);

        /* the final save has the finished state: a restart seeds without downloading again */
        rv_test_harness_stop_seeder(&h);
        rv_test_harness_start_daemon(&h);
        g_variant_unref(rv_test_wait_prop(&h, path, "State", rv_test_pred_string, "seeding", 30));
        {
                g_autoptr(GVariant) completed = rv_test_get(&h, path, "Completed");
                g_assert_true(g_variant_get_boolean(completed));
        }
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

typedef struct {
        /* State values seen, and which of them said "paused" */
        guint seen;
        GPtrArray *paused;
} States;

static void
states_record(States *s, const char *path, GVariant *props, const char *how)
{
        g_autoptr(GVariant) state = g_variant_lookup_value(props, "State", G_VARIANT_TYPE_STRING);

        if (state == NULL || !g_str_has_prefix(path, RV_BUS_PATH "/torrent/"))
                return;
        s->seen++;
        if (g_str_equal(g_variant_get_string(state, NULL), "paused"))
                g_ptr_array_add(s->paused, g_strdup_printf("%s of %s", how, path));
}

static void
states_cb(GDBusConnection *conn, const char *sender, const char *path, const char *iface, const char *name,
          GVariant *params, gpointer user_data)
{
        States *s = user_data;

        if (g_str_equal(name, "PropertiesChanged")) {
                g_autoptr(GVariant) changed = g_variant_get_child_value(params, 1);
                states_record(s, path, changed, "PropertiesChanged");
        } else if (g_str_equal(name, "InterfacesAdded")) {
                g_autoptr(GVariant) ifaces = g_variant_get_child_value(params, 1);
                g_autoptr(GVariant) props = g_variant_lookup_value(ifaces, RV_BUS_TORRENT_IFACE, NULL);
                const char *object = NULL;
                g_variant_get_child(params, 0, "&o", &object);
                if (props != NULL)
                        states_record(s, object, props, "InterfacesAdded");
        }
}

/*
 * reliability issue, defect 9: after a restart, torrents stored running showed
 * "paused" for about a second, then "queued": a state the user never set.
 * libtorrent holds them paused until their resume data is checked, and a
 * status it took between the check and the start took effect said so. Every
 * State a client can see is watched: signals from any sender from before the
 * daemon owns its name, GetManagedObjects once it does, then the first
 * seconds; none is "paused". Many torrents and a short status interval put
 * statuses in that window every time, as 10,000 torrents did with the default
 */
static void
test_daemon_restart_not_paused(void)
{
        RvTestHarness h;
        States s = { 0, g_ptr_array_new_with_free_func(g_free) };
        const guint n = 2000;
        guint subs[2];

        rv_test_harness_setup(&h);
        rv_test_harness_write_config(&h, "[engine]\nstatus-interval=50\n");
        /* as a daemon that added them running and stopped would have left them */
        rv_test_harness_store_torrents(&h, "restart", n, FALSE);

        /* any sender: the daemon owns its name only once every torrent is back */
        subs[0] =
                g_dbus_connection_signal_subscribe(h.conn, NULL, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                                   NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, states_cb, &s, NULL);
        subs[1] = g_dbus_connection_signal_subscribe(h.conn, NULL, "org.freedesktop.DBus.ObjectManager",
                                                     "InterfacesAdded", NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, states_cb,
                                                     &s, NULL);
        rv_test_harness_start_daemon(&h);
        g_assert_cmpuint(torrent_count(&h), ==, n);
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply =
                        rv_test_call(&h, RV_BUS_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL,
                                     G_VARIANT_TYPE("(a{oa{sa{sv}}})"), &error);
                g_autoptr(GVariant) objects = NULL;
                GVariantIter iter;
                const char *path;
                GVariant *ifaces;

                g_assert_no_error(error);
                objects = g_variant_get_child_value(reply, 0);
                g_variant_iter_init(&iter, objects);
                while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", &path, &ifaces)) {
                        g_autoptr(GVariant) owned = ifaces;
                        g_autoptr(GVariant) props = g_variant_lookup_value(owned, RV_BUS_TORRENT_IFACE, NULL);
                        if (props != NULL)
                                states_record(&s, path, props, "GetManagedObjects");
                }
        }
        /* the statuses of the first seconds, at the tests' 200 ms status interval: at least 3 s, and on a slow
         * machine (or under the sanitizers) until every torrent has shown two states, for up to 60 s */
        {
                gint64 start = g_get_monotonic_time();
                gint64 end = start + 3 * G_USEC_PER_SEC;
                while (g_get_monotonic_time() < end ||
                       (s.seen < 2 * n && g_get_monotonic_time() < start + 60 * G_USEC_PER_SEC)) {
                        while (g_main_context_iteration(NULL, FALSE))
                                ;
                        g_usleep(10000);
                }
        }
        g_test_message("%u states seen, %u of them paused", s.seen, s.paused->len);
        for (guint i = 0; i < s.paused->len; i++)
                g_test_message("paused: %s", (const char *)g_ptr_array_index(s.paused, i));
        /* every torrent once from GetManagedObjects; on a loaded machine some have settled before it, and
         * show no second state in the window */
        g_assert_cmpuint(s.seen, >=, n + n / 4);
        g_assert_cmpuint(s.paused->len, ==, 0);

        g_dbus_connection_signal_unsubscribe(h.conn, subs[0]);
        g_dbus_connection_signal_unsubscribe(h.conn, subs[1]);
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
        g_ptr_array_unref(s.paused);
}

static void
test_daemon_state_locked(void)
{
        RvTestHarness h;
        g_autoptr(GSubprocess) second = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *err = NULL;

        rv_test_harness_setup(&h);
        rv_test_harness_start_daemon(&h);
        /* a second daemon on the same state directory is refused, and names it */
        second = g_subprocess_new(G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, g_getenv("REVAERD"), "--bus", "none",
                                  "--config", h.config, "--state-dir", h.state, NULL);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_communicate_utf8(second, NULL, NULL, NULL, &err, &error));
        g_assert_cmpint(g_subprocess_get_exit_status(second), ==, 1);
        g_assert_nonnull(strstr(err, "another revaerd"));
        g_assert_nonnull(strstr(err, h.state));
        g_assert_true(rv_test_harness_daemon_running(&h));
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

static void
test_daemon_bad_config(void)
{
        RvTestHarness h;
        g_autoptr(GSubprocess) proc = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *err = NULL;

        rv_test_harness_setup(&h);
        rv_test_harness_write_config(&h, "download-limit=lots\n");
        proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, g_getenv("REVAERD"), "--bus", "none",
                                "--config", h.config, "--state-dir", h.state, NULL);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, NULL, &err, &error));
        g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 1);
        g_assert_nonnull(strstr(err, "download-limit"));
        g_assert_nonnull(strstr(err, "lots"));
        rv_test_harness_teardown(&h);
}

/* the info hash and state columns of ListTorrentColumns */
static GVariant *
list_states(RvTestHarness *h)
{
        g_autoptr(GError) error = NULL;
        const char *fields[] = { "state", NULL };
        g_autoptr(GVariant) reply = rv_test_call(h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "ListTorrentColumns",
                                                 g_variant_new("(^as)", fields), G_VARIANT_TYPE("(a{sv})"), &error);

        g_assert_no_error(error);
        return g_variant_get_child_value(reply, 0);
}

/* the states of every torrent, from ListTorrentColumns; ret_hash: one still loading, if any; ret_hashes: all */
static guint
count_loading(RvTestHarness *h, guint *ret_n, char **ret_hash, GStrv *ret_hashes)
{
        g_autoptr(GVariant) columns = list_states(h);
        g_autofree const char **hashes = NULL;
        g_autofree const char **states = NULL;
        gsize n = 0;
        guint loading = 0;

        g_assert_true(g_variant_lookup(columns, "info_hash", "^a&s", &hashes));
        g_assert_true(g_variant_lookup(columns, "state", "^a&s", &states));
        n = g_strv_length((char **)hashes);
        g_assert_cmpuint(g_strv_length((char **)states), ==, n);
        for (gsize i = 0; i < n; i++) {
                if (g_str_equal(states[i], "loading")) {
                        if (loading++ == 0 && ret_hash != NULL)
                                *ret_hash = g_strdup(hashes[i]);
                } else {
                        g_assert_cmpstr(states[i], !=, "");
                }
        }
        *ret_n = (guint)n;
        if (ret_hashes != NULL)
                *ret_hashes = g_strdupv((char **)hashes);
        return loading;
}

/* how many torrents share the state most of them are in */
static guint
count_top_state(RvTestHarness *h)
{
        g_autoptr(GVariant) columns = list_states(h);
        g_autoptr(GHashTable) counts = g_hash_table_new(g_str_hash, g_str_equal);
        g_autofree const char **states = NULL;
        guint top = 0;

        g_assert_true(g_variant_lookup(columns, "state", "^a&s", &states));
        for (guint i = 0; states[i] != NULL; i++) {
                guint count = GPOINTER_TO_UINT(g_hash_table_lookup(counts, states[i])) + 1;

                g_hash_table_insert(counts, (gpointer)states[i], GUINT_TO_POINTER(count));
                top = MAX(top, count);
        }
        return top;
}

/*
 * speed issue: a restart lists every stored torrent once the daemon owns its
 * name, those the engine has not taken yet as "loading", so the first list is
 * complete; a command on one still loading acts at once, and soon none is
 */
static void
test_daemon_restart_listed_loading(void)
{
        RvTestHarness h;
        const guint n = 3000;
        g_autofree char *hash = NULL;
        g_autofree char *path = NULL;
        gint64 deadline;
        guint listed = 0;

        rv_test_harness_setup(&h);
        rv_test_harness_write_config(&h, NULL);
        /* not paused: a paused one is listed and stays out of the engine (/daemon/restart-parked) */
        rv_test_harness_store_torrents(&h, "listed", n, FALSE);
        rv_test_harness_start_daemon(&h);
        g_assert_cmpuint(count_loading(&h, &listed, &hash, NULL), >, 0);
        g_assert_cmpuint(listed, ==, n);
        g_assert_cmpuint(torrent_count(&h), ==, n);

        path = g_strdup_printf(RV_BUS_PATH "/torrent/%s", hash);
        torrent_call(&h, path, "Pause", NULL);
        {
                g_autoptr(GVariant) state = rv_test_get(&h, path, "State");
                g_assert_cmpstr(g_variant_get_string(state, NULL), ==, "paused");
        }

        deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
        while (count_loading(&h, &listed, NULL, NULL) > 0) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(50000);
        }
        g_assert_cmpuint(listed, ==, n);
        /*
         * the engine has every torrent; most are still being checked (the files
         * are missing) on a slow machine, queued once checked: wait for one
         * state to be most torrents', with a margin for those that move on
         * (under ASan: 508 downloading, 671 checking, 1,820 queued at first)
         */
        deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
        while (count_top_state(&h) <= n / 2 + 100) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(50000);
        }
        /*
         * sparse columns: no torrent has labels, a rate or an error, every one
         * the same folder and no ETA (-1), and all but the paused one the same state
         */
        {
                g_autoptr(GError) error = NULL;
                const char *fields[] = {
                        "labels", "download_rate", "error", "save_path", "name", "state", "eta", NULL
                };
                g_autoptr(GVariant) reply =
                        rv_test_call(&h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "ListTorrentColumnsSparse",
                                     g_variant_new("(^as)", fields), G_VARIANT_TYPE("(a{sv})"), &error);
                g_autoptr(GVariant) columns = NULL;
                g_autoptr(GVariant) labels = NULL;
                g_autoptr(GVariant) rates = NULL;
                g_autoptr(GVariant) errors = NULL;
                g_autoptr(GVariant) folders = NULL;
                g_autoptr(GVariant) names = NULL;
                g_autoptr(GVariant) etas = NULL;
                g_autoptr(GVariant) states = NULL;
                g_auto(GStrv) hashes = NULL;
                g_auto(GStrv) expanded = NULL;
                g_assert_no_error(error);
                columns = g_variant_get_child_value(reply, 0);
                labels = g_variant_lookup_value(columns, "labels", G_VARIANT_TYPE("(aasau)"));
                rates = g_variant_lookup_value(columns, "download_rate", G_VARIANT_TYPE("(atau)"));
                errors = g_variant_lookup_value(columns, "error", G_VARIANT_TYPE("(asau)"));
                folders = g_variant_lookup_value(columns, "save_path", G_VARIANT_TYPE("(sasau)"));
                names = g_variant_lookup_value(columns, "name", G_VARIANT_TYPE("as"));
                etas = g_variant_lookup_value(columns, "eta", G_VARIANT_TYPE("(xaxau)"));
                g_assert_nonnull(labels);
                g_assert_nonnull(rates);
                g_assert_nonnull(errors);
                g_assert_nonnull(folders);
                g_assert_nonnull(names);
                g_assert_nonnull(etas);
                {
                        g_autoptr(GVariant) common = g_variant_get_child_value(etas, 0);
                        g_autoptr(GVariant) rows = g_variant_get_child_value(etas, 2);
                        g_assert_cmpint(g_variant_get_int64(common), ==, -1);
                        g_assert_cmpuint(g_variant_n_children(rows), ==, 0);
                }
                {
                        g_autoptr(GVariant) rows = g_variant_get_child_value(labels, 1);
                        g_assert_cmpuint(g_variant_n_children(rows), ==, 0);
                }
                {
                        g_autoptr(GVariant) common = g_variant_get_child_value(folders, 0);
                        g_autoptr(GVariant) rows = g_variant_get_child_value(folders, 2);
                        g_assert_cmpstr(g_variant_get_string(common, NULL), ==, h.downloads);
                        g_assert_cmpuint(g_variant_n_children(rows), ==, 0);
                }
                g_assert_cmpuint(g_variant_n_children(names), ==, n);
                /* the state most share (queued, past the active-download limit), the paused one an exception */
                states = g_variant_lookup_value(columns, "state", G_VARIANT_TYPE("(sasau)"));
                g_assert_nonnull(states);
                expanded = rv_test_column_strings(columns, "state");
                g_assert_cmpuint(g_strv_length(expanded), ==, n);
                (void)count_loading(&h, &listed, NULL, &hashes);
                for (guint i = 0; i < n; i++) {
                        g_assert_cmpstr(expanded[i], !=, "");
                        g_assert_cmpstr(expanded[i], !=, "loading");
                        if (g_str_equal(hashes[i], hash))
                                g_assert_cmpstr(expanded[i], ==, "paused");
                }
        }
        rv_test_harness_stop_daemon(&h);
        rv_test_harness_teardown(&h);
}

/* the daemon answers on its own: poll, 30 s at most */
#define POLL_FOR(cond)                                                           \
        G_STMT_START                                                             \
        {                                                                        \
                gint64 deadline_ = g_get_monotonic_time() + 30 * G_USEC_PER_SEC; \
                while (!(cond) && g_get_monotonic_time() < deadline_)            \
                        g_usleep(20000);                                         \
                g_assert_true(cond);                                             \
        }                                                                        \
        G_STMT_END

static guint64
get_size(RvTestHarness *h, const char *path)
{
        g_autoptr(GVariant) size = rv_test_get(h, path, "Size");

        return g_variant_get_uint64(size);
}

static char *
get_state(RvTestHarness *h, const char *path)
{
        g_autoptr(GVariant) state = rv_test_get(h, path, "State");

        return g_variant_dup_string(state, NULL);
}

static gboolean
state_is(RvTestHarness *h, const char *path, const char *state)
{
        g_autofree char *now = get_state(h, path);

        return g_str_equal(now, state);
}

/*
 * issue 17: a torrent the user paused is listed "paused" from its records at
 * a restart and is not handed to libtorrent; resume, a file list or a remove
 * hands it over and acts; a restart again keeps it so
 */
static void
test_daemon_restart_parked(void)
{
        RvTestHarness h;
        const guint n = 50;
        g_autofree char *resumed = NULL;
        g_autofree char *listed = NULL;
        g_autofree char *removed = NULL;
        g_autofree char *resume_file = NULL;
        g_auto(GStrv) hashes = NULL;
        guint count = 0;

        rv_test_harness_setup(&h);
        rv_test_harness_write_config(&h, NULL);
        rv_test_harness_store_torrents(&h, "parked", n, TRUE);
        rv_test_harness_start_daemon(&h);
        /* none loading: every one is paused from the first list on */
        g_assert_cmpuint(count_loading(&h, &count, NULL, &hashes), ==, 0);
        g_assert_cmpuint(count, ==, n);
        resumed = g_strdup_printf(RV_BUS_PATH "/torrent/%s", hashes[0]);
        listed = g_strdup_printf(RV_BUS_PATH "/torrent/%s", hashes[1]);
        removed = g_strdup_printf(RV_BUS_PATH "/torrent/%s", hashes[2]);
        for (guint i = 0; i < 3; i++) {
                const char *path = i == 0 ? resumed : i == 1 ? listed : removed;
                g_autofree char *state = get_state(&h, path);
                g_assert_cmpstr(state, ==, "paused");
                /* described from its resume data while the daemon idles */
                POLL_FOR(get_size(&h, path) > 0);
        }

        /* a file list answers for a parked torrent */
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) reply = rv_test_call(&h, listed, RV_BUS_TORRENT_IFACE, "ListFiles", NULL,
                                                         G_VARIANT_TYPE("(a(usttyb))"), &error);
                g_autoptr(GVariant) files = NULL;
                g_autofree char *state = NULL;
                g_assert_no_error(error);
                files = g_variant_get_child_value(reply, 0);
                g_assert_cmpuint(g_variant_n_children(files), >, 0);
                state = get_state(&h, listed);
                g_assert_cmpstr(state, ==, "paused");
        }

        /* resume hands it over and it runs */
        torrent_call(&h, resumed, "Resume", NULL);
        POLL_FOR(!state_is(&h, resumed, "paused") && !state_is(&h, resumed, "loading"));

        /* a remove takes its records */
        resume_file = g_strdup_printf("%s/torrents/%s.resume", h.state, strrchr(removed, '/') + 1);
        g_assert_true(g_file_test(resume_file, G_FILE_TEST_EXISTS));
        torrent_call(&h, removed, "Remove", g_variant_new("(b)", FALSE));
        POLL_FOR(torrent_count(&h) == n - 1);
        POLL_FOR(!g_file_test(resume_file, G_FILE_TEST_EXISTS));
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);

        /* again: the paused ones are parked again, the resumed one is not paused */
        rv_test_harness_start_daemon(&h);
        g_assert_cmpuint(torrent_count(&h), ==, n - 1);
        {
                g_autofree char *state = get_state(&h, listed);
                g_assert_cmpstr(state, ==, "paused");
                g_free(state);
                state = get_state(&h, resumed);
                g_assert_cmpstr(state, !=, "paused");
        }
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_teardown(&h);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/daemon/magnet-download", test_daemon_magnet_download);
        g_test_add_func("/daemon/selection", test_daemon_selection);
        g_test_add_func("/daemon/pause-resume-remove", test_daemon_pause_resume_remove);
        g_test_add_func("/daemon/bad-input", test_daemon_bad_input);
        g_test_add_func("/daemon/crash-resume", test_daemon_crash_resume);
        g_test_add_func("/daemon/sigterm-saves", test_daemon_sigterm_saves);
        g_test_add_func("/daemon/restart-not-paused", test_daemon_restart_not_paused);
        g_test_add_func("/daemon/restart-listed-loading", test_daemon_restart_listed_loading);
        g_test_add_func("/daemon/restart-parked", test_daemon_restart_parked);
        g_test_add_func("/daemon/bad-config", test_daemon_bad_config);
        g_test_add_func("/daemon/state-locked", test_daemon_state_locked);
        return g_test_run();
}
