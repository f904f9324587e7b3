/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * what the integration tests share: a private session bus, revaerd as a
 * subprocess in a temp dir of its own, the seeder helper, D-Bus calls through
 * GDBus (a client Revaer did not write)
 */

#include <gio/gio.h>

#include "rv-names.h"

G_BEGIN_DECLS

typedef struct {
        GSubprocess *process;
        char *hash;
        guint16 port;
        char *torrent_path;
        char *magnet;
        char *payload;
} RvTestSeeder;

typedef struct {
        char *dir;
        char *state;
        char *downloads;
        char *config;
        char *log;
        /* a private session bus of the test's own */
        GSubprocess *bus;
        char *bus_address;
        GDBusConnection *conn;
        GSubprocess *daemon;
        RvTestSeeder seeder;
        /* extra environment of the daemon, "NAME=VALUE" */
        GPtrArray *daemon_env;
} RvTestHarness;

/* skips the test (77 outside CI) when a program is missing */
void rv_test_require_program(const char *name);
/* mounts of the test's own, never seen outside it: a mount namespace (root; skips, 77, without one outside CI) */
void rv_test_require_mount_namespace(void);

/*
 * children a failed assertion takes along: the abort would leave them holding
 * the test's output, and meson would wait for its timeout instead of reporting
 * the failure; the harness tracks its bus, daemon and seeder itself
 */
void rv_test_track_child(GSubprocess *proc);

void rv_test_harness_setup(RvTestHarness *h);
void rv_test_harness_teardown(RvTestHarness *h);

/* revaerd.conf with loopback-only engine settings plus extra lines */
void rv_test_harness_write_config(RvTestHarness *h, const char *extra);
void rv_test_harness_start_daemon(RvTestHarness *h);
/* starts revaerd without waiting for its bus name (for a start that is meant to fail) */
void rv_test_harness_spawn_daemon(RvTestHarness *h);
/* waits up to timeout_s for the daemon to exit on its own; returns the exit status, -1 when it was killed */
int rv_test_harness_wait_daemon(RvTestHarness *h, guint timeout_s);
/* sets a variable in the environment of the next daemon started */
void rv_test_harness_set_daemon_env(RvTestHarness *h, const char *name, const char *value);
/* SIGTERM and wait; returns the exit status */
int rv_test_harness_stop_daemon(RvTestHarness *h);
void rv_test_harness_kill_daemon(RvTestHarness *h);
gboolean rv_test_harness_daemon_running(RvTestHarness *h);

/*
 * n torrents ("<prefix>-<i>", one 16 KiB piece each, no data anywhere)
 * written into the embedded store of the state directory, as a daemon that
 * added them would have left them: paused or running
 */
void rv_test_harness_store_torrents(RvTestHarness *h, const char *prefix, guint n, gboolean paused);

/* seeds a generated payload; files 1 = single-file torrent */
void rv_test_harness_start_seeder(RvTestHarness *h, const char *name, gint64 size, guint files, gboolean fluff,
                                  guint piece_size);
/* seeds an existing file or folder as it is (archives a test made) */
void rv_test_harness_start_seeder_path(RvTestHarness *h, const char *path);
void rv_test_harness_stop_seeder(RvTestHarness *h);
GBytes *rv_test_harness_seeder_torrent(RvTestHarness *h);

GVariant *rv_test_call(RvTestHarness *h, const char *path, const char *iface, const char *method, GVariant *params,
                       const GVariantType *reply_type, GError **error);
GVariant *rv_test_get(RvTestHarness *h, const char *path, const char *prop);
/*
 * a string column of ListTorrentColumns(Sparse) as one string per row, whatever its form:
 * as, (asau) (the rows not listed hold ""), or (sasau) (they hold the first member)
 */
GStrv rv_test_column_strings(GVariant *columns, const char *field);
/* the same on an object with several interfaces */
GVariant *rv_test_get_iface(RvTestHarness *h, const char *path, const char *iface, const char *prop);
/* polls prop every 100 ms until pred holds or timeout; returns the last value */
typedef gboolean (*RvTestPred)(GVariant *value, gconstpointer data);
GVariant *rv_test_wait_prop(RvTestHarness *h, const char *path, const char *prop, RvTestPred pred, gconstpointer data,
                            guint timeout_s);
gboolean rv_test_pred_true(GVariant *value, gconstpointer data);
gboolean rv_test_pred_string(GVariant *value, gconstpointer data);
/* Done (t) at least *(guint64 *)data */
gboolean rv_test_pred_at_least(GVariant *value, gconstpointer data);

/* a{sv} with peers set to the seeder plus extra entries (key, GVariant*), NULL-terminated */
GVariant *rv_test_options(RvTestHarness *h, ...) G_GNUC_NULL_TERMINATED;

/* the remote error name of a D-Bus failure */
char *rv_test_error_name(const GError *error);

char *rv_test_read_log(RvTestHarness *h);

G_END_DECLS
