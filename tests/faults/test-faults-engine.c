/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "rv-test-data.h"
#include "rv-test-harness.h"

/*
 * the engine's faults: the download directory fills up under a running
 * download (a small tmpfs in a mount namespace of the test's own; root,
 * skipped without it outside CI). The torrent must fail with an error that
 * names the cause, the daemon keep running, and once there is space again
 * a resume must complete the download with the seeder's exact data; after a
 * restart the torrent and its settings are still there.
 */

#define MIB (1024 * 1024)
#define PAYLOAD_SIZE (16 * MIB)

static char *
get_string(RvTestHarness *h, const char *path, const char *prop)
{
        g_autoptr(GVariant) v = rv_test_get(h, path, prop);

        return g_variant_dup_string(v, NULL);
}

/* polls until the torrent's state is want; its Error, the daemon's log and health on the way out otherwise */
static void
wait_state(RvTestHarness *h, const char *path, const char *want, guint timeout_s)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

        for (;;) {
                g_autofree char *state = get_string(h, path, "State");
                if (g_strcmp0(state, want) == 0)
                        return;
                if (g_get_monotonic_time() > deadline) {
                        g_autofree char *error = get_string(h, path, "Error");
                        g_autofree char *log = rv_test_read_log(h);
                        g_autoptr(GVariant) done = rv_test_get(h, path, "Done");
                        g_autoptr(GVariant) peers = rv_test_get(h, path, "Peers");
                        g_printerr("%s\nthe torrent is '%s' (error '%s', %" G_GUINT64_FORMAT
                                   " bytes done, %u peers), not '%s' after %u s\n",
                                   log != NULL ? log : "", state, error, g_variant_get_uint64(done),
                                   g_variant_get_uint32(peers), want, timeout_s);
                        g_assert_not_reached();
                }
                g_usleep(100000);
        }
}

/* the Degraded list as "component: reason" lines */
static char *
degraded(RvTestHarness *h)
{
        g_autoptr(GVariant) v = rv_test_get(h, RV_BUS_PATH, "Degraded");
        GString *out = g_string_new(NULL);
        GVariantIter iter;
        const char *c;
        const char *reason;

        g_variant_iter_init(&iter, v);
        while (g_variant_iter_next(&iter, "(&s&s)", &c, &reason))
                g_string_append_printf(out, "%s: %s\n", c, reason);
        return g_string_free(out, FALSE);
}

static void
remount(RvTestHarness *h, const char *size)
{
        g_autofree char *options = g_strdup_printf("size=%s,mode=0755", size);

        if (mount("tmpfs", h->downloads, "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, options) < 0)
                g_error("cannot remount the tmpfs on '%s': %s", h->downloads, g_strerror(errno));
}

static void
test_engine_disk_full(void)
{
        RvTestHarness h;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GBytes) torrent = NULL;
        g_autofree char *path = NULL;
        g_autofree char *dest = NULL;
        g_autofree char *message = NULL;
        g_autofree char *health = NULL;
        g_autofree char *why = NULL;
        const char *labels[] = { "kept", NULL };

        rv_test_harness_setup(&h);
        /* half the payload fits */
        if (mount("tmpfs", h.downloads, "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,mode=0755") < 0)
                g_error("cannot mount a tmpfs on '%s': %s", h.downloads, g_strerror(errno));
        rv_test_harness_start_daemon(&h);
        rv_test_harness_start_seeder(&h, "full.bin", PAYLOAD_SIZE, 1, FALSE, 0);
        torrent = rv_test_harness_seeder_torrent(&h);
        reply = rv_test_call(&h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddTorrent",
                             g_variant_new("(@ay@a{sv})",
                                           g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, torrent, TRUE),
                                           rv_test_options(&h, "labels", g_variant_new_strv(labels, -1), "upload_limit",
                                                           g_variant_new_int64(4 * MIB), NULL)),
                             G_VARIANT_TYPE("(o)"), &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(o)", &path);

        /* the disk fills mid-download: a failure that says why */
        wait_state(&h, path, "error", 60);
        /* libtorrent's status and its file error alert come apart: the alert's words may follow the status' */
        for (guint i = 0; i < 100; i++) {
                g_free(message);
                message = get_string(&h, path, "Error");
                if (strstr(message, g_strerror(ENOSPC)) != NULL)
                        break;
                g_usleep(100000);
        }
        g_test_message("the torrent failed: %s", message);
        g_assert_nonnull(strstr(message, g_strerror(ENOSPC)));
        health = get_string(&h, RV_BUS_PATH, "Health");
        why = degraded(&h);
        g_test_message("health '%s' with the torrent failed: %s", health, why);
        g_assert_cmpstr(health, ==, "degraded");
        g_assert_true(g_str_has_prefix(why, "torrents: 1 torrent stopped by an error"));
        g_assert_true(rv_test_harness_daemon_running(&h));
        {
                g_autoptr(GVariant) count = rv_test_get(&h, RV_BUS_PATH, "TorrentCount");
                g_assert_cmpuint(g_variant_get_uint32(count), ==, 1);
        }

        /* space again: a resume finishes the download with the seeder's data */
        remount(&h, "64m");
        g_clear_pointer(&reply, g_variant_unref);
        reply = rv_test_call(&h, path, RV_BUS_TORRENT_IFACE, "Resume", NULL, NULL, &error);
        g_assert_no_error(error);
        wait_state(&h, path, "seeding", 90);
        dest = g_build_filename(h.downloads, "full.bin", NULL);
        {
                g_autofree char *a = rv_test_data_checksum_file(h.seeder.payload);
                g_autofree char *b = rv_test_data_checksum_file(dest);
                g_assert_cmpstr(a, ==, b);
        }
        {
                g_autofree char *error_after = get_string(&h, path, "Error");
                g_autofree char *health_after = get_string(&h, RV_BUS_PATH, "Health");
                g_assert_cmpstr(error_after, ==, "");
                /* none stopped by an error now */
                g_assert_cmpstr(health_after, ==, "ok");
        }

        /* nothing lost: the torrent and its settings after a restart */
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        rv_test_harness_stop_seeder(&h);
        rv_test_harness_start_daemon(&h);
        wait_state(&h, path, "seeding", 60);
        {
                g_autoptr(GVariant) l = rv_test_get(&h, path, "Labels");
                g_autoptr(GVariant) limit = rv_test_get(&h, path, "UploadLimit");
                g_autoptr(GVariant) progress = rv_test_get(&h, path, "Progress");
                g_autofree const char **got = g_variant_get_strv(l, NULL);
                g_assert_true(g_strv_equal(got, labels));
                g_assert_cmpint(g_variant_get_int64(limit), ==, 4 * MIB);
                g_assert_cmpfloat(g_variant_get_double(progress), ==, 1.0);
        }
        g_assert_cmpint(rv_test_harness_stop_daemon(&h), ==, 0);
        if (umount2(h.downloads, MNT_DETACH) < 0)
                g_error("cannot unmount '%s': %s", h.downloads, g_strerror(errno));
        rv_test_harness_teardown(&h);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        rv_test_require_mount_namespace();
        g_test_add_func("/faults/engine/disk-full", test_engine_disk_full);
        return g_test_run();
}
