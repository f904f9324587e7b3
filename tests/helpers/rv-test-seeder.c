/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * a seeder for tests, demos and benchmarks, built on the engine API: makes
 * (or reuses) a deterministic payload, or takes an existing file or folder
 * (--path), makes a v1 torrent of it, seeds it on 127.0.0.1 and prints one
 * line when it can be downloaded from:
 *
 *   READY port=<port> hash=<hash> torrent=<path>
 *
 * then runs until SIGTERM or SIGINT. With --connect-from-stdin, each line
 * "host:port" read on stdin afterwards makes it connect to that peer: for a
 * client that will not connect to a loopback address a tracker gave it
 * (Transmission 3.00 drops 127.0.0.0/8 as "martian"), but takes an incoming
 * connection from one
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "rv-engine.h"
#include "rv-test-data.h"

typedef struct {
        GMainLoop *loop;
        RvEngine *engine;
        RvInfoHash hash;
        char *torrent_path;
        char *magnet_out;
        char *name;
        gboolean listening;
        gboolean added;
        gboolean seeding;
        gboolean ready;
        int status;
} RvSeeder;

static void
rv_seeder_maybe_ready(RvSeeder *seeder)
{
        guint16 port = rv_engine_get_listen_port(seeder->engine);

        /* seed mode says FINISHED at once; --verify after its check */
        if (seeder->ready || !seeder->listening || !seeder->added || !seeder->seeding)
                return;
        seeder->ready = TRUE;
        if (seeder->magnet_out != NULL) {
                g_autoptr(GError) error = NULL;
                g_autofree char *dn = g_uri_escape_string(seeder->name, NULL, FALSE);
                g_autofree char *magnet =
                        g_strdup_printf("magnet:?xt=urn:btih:%s&dn=%s&x.pe=127.0.0.1:%u\n", seeder->hash.hex, dn, port);
                if (!g_file_set_contents(seeder->magnet_out, magnet, -1, &error)) {
                        g_printerr("rv-test-seeder: %s\n", error->message);
                        seeder->status = EXIT_FAILURE;
                        g_main_loop_quit(seeder->loop);
                        return;
                }
        }
        g_print("READY port=%u hash=%s torrent=%s\n", port, seeder->hash.hex, seeder->torrent_path);
        fflush(stdout);
}

static void
rv_seeder_event_cb(RvEngine *engine, const RvEngineEvent *event, gpointer user_data)
{
        RvSeeder *seeder = user_data;

        switch (event->kind) {
        case RV_ENGINE_EVENT_LISTEN_SUCCEEDED:
                seeder->listening = TRUE;
                break;
        case RV_ENGINE_EVENT_ADDED:
                seeder->added = TRUE;
                break;
        case RV_ENGINE_EVENT_FINISHED:
                seeder->seeding = TRUE;
                break;
        case RV_ENGINE_EVENT_STATUS:
                if (event->status->is_seeding)
                        seeder->seeding = TRUE;
                break;
        case RV_ENGINE_EVENT_LISTEN_FAILED:
        case RV_ENGINE_EVENT_ADD_FAILED:
        case RV_ENGINE_EVENT_ERROR:
                g_printerr("rv-test-seeder: %s: %s\n", rv_engine_event_kind_to_string(event->kind),
                           event->error != NULL ? event->error->message : "unknown");
                seeder->status = EXIT_FAILURE;
                g_main_loop_quit(seeder->loop);
                return;
        default:
                break;
        }
        rv_seeder_maybe_ready(seeder);
}

/* one "host:port" per line; errors are reported and the seeder goes on */
static gboolean
rv_seeder_stdin_cb(GIOChannel *channel, GIOCondition condition, gpointer user_data)
{
        RvSeeder *seeder = user_data;
        g_autofree char *line = NULL;
        g_autoptr(GError) error = NULL;
        GIOStatus status = g_io_channel_read_line(channel, &line, NULL, NULL, &error);

        (void)condition;
        if (status == G_IO_STATUS_AGAIN)
                return G_SOURCE_CONTINUE;
        if (status != G_IO_STATUS_NORMAL)
                return G_SOURCE_REMOVE;
        g_strstrip(line);
        if (*line != '\0' && !rv_engine_connect_peer(seeder->engine, &seeder->hash, line, &error))
                g_printerr("rv-test-seeder: connecting to %s: %s\n", line, error->message);
        return G_SOURCE_CONTINUE;
}

static gboolean
rv_seeder_signal_cb(gpointer user_data)
{
        RvSeeder *seeder = user_data;
        g_main_loop_quit(seeder->loop);
        return G_SOURCE_CONTINUE;
}

int
main(int argc, char **argv)
{
        g_autofree char *dir = NULL;
        g_autofree char *name = NULL;
        g_autofree char *torrent_out = NULL;
        g_autofree char *magnet_out = NULL;
        g_autofree char *path = NULL;
        gint64 size = 64 * 1024 * 1024;
        gint files = 1;
        gint piece_size = 0;
        gint port = 0;
        gint64 upload_limit = 0;
        gboolean fluff = FALSE;
        gboolean verify = FALSE;
        gboolean connect_from_stdin = FALSE;
        GOptionEntry entries[] = {
                { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Where the data lives", "DIR" },
                { "path", 0, 0, G_OPTION_ARG_FILENAME, &path, "Seed this file or folder as it is (instead of --dir)",
                  "PATH" },
                { "size", 0, 0, G_OPTION_ARG_INT64, &size, "Payload size in bytes (default 64 MiB)", "BYTES" },
                { "files", 0, 0, G_OPTION_ARG_INT, &files, "Number of files (default 1)", "N" },
                { "fluff", 0, 0, G_OPTION_ARG_NONE, &fluff, "Add Sample/sample.mkv, proof.jpg and info.nfo", NULL },
                { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Name of the file or folder", "NAME" },
                { "piece-size", 0, 0, G_OPTION_ARG_INT, &piece_size, "Piece size in bytes (default: chosen)", "BYTES" },
                { "port", 0, 0, G_OPTION_ARG_INT, &port, "TCP port on 127.0.0.1 (default 0: any)", "PORT" },
                { "upload-limit", 0, 0, G_OPTION_ARG_INT64, &upload_limit, "Upload limit in bytes/s", "BPS" },
                { "verify", 0, 0, G_OPTION_ARG_NONE, &verify,
                  "Check the data before READY instead of seed mode (which hashes lazily while uploading)", NULL },
                { "torrent-out", 0, 0, G_OPTION_ARG_FILENAME, &torrent_out, "Where to write the .torrent", "FILE" },
                { "magnet-out", 0, 0, G_OPTION_ARG_FILENAME, &magnet_out, "Where to write a magnet with x.pe", "FILE" },
                { "connect-from-stdin", 0, 0, G_OPTION_ARG_NONE, &connect_from_stdin,
                  "After READY, connect to each host:port read from stdin, one per line", NULL },
                { NULL },
        };
        g_autoptr(GOptionContext) context = g_option_context_new("- seed a generated payload on 127.0.0.1");
        g_autoptr(GError) error = NULL;
        g_autoptr(GMainLoop) loop = NULL;
        g_autoptr(RvEngine) engine = NULL;
        g_autoptr(RvEngineSource) source = NULL;
        g_autoptr(GBytes) torrent = NULL;
        g_autofree char *payload = NULL;
        g_autofree char *base = NULL;
        RvEngineSettings settings;
        RvEngineAddOptions options;
        RvSeeder seeder = { 0 };

        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error)) {
                g_printerr("rv-test-seeder: %s\n", error->message);
                return 2;
        }
        if (path != NULL) {
                /* an existing payload: its folder is the save path */
                g_autofree char *cwd = g_get_current_dir();
                g_autofree char *abs = g_canonicalize_filename(path, cwd);
                g_free(dir);
                dir = g_path_get_dirname(abs);
                g_free(path);
                path = g_steal_pointer(&abs);
        }
        if (dir == NULL) {
                g_printerr("rv-test-seeder: --dir or --path is required\n");
                return 2;
        }
        if (size <= 0 || files <= 0 || port < 0 || port > 65535 || piece_size < 0) {
                g_printerr("rv-test-seeder: --size, --files, --port and --piece-size must be sensible\n");
                return 2;
        }
        if (!g_path_is_absolute(dir)) {
                g_autofree char *cwd = g_get_current_dir();
                g_autofree char *abs = g_build_filename(cwd, dir, NULL);
                g_free(dir);
                dir = g_steal_pointer(&abs);
        }

        payload =
                path != NULL ? g_strdup(path) : rv_test_data_make_payload(dir, name, size, (guint)files, fluff, &error);
        if (payload == NULL) {
                g_printerr("rv-test-seeder: %s\n", error->message);
                return EXIT_FAILURE;
        }
        torrent = rv_engine_create_torrent(payload, (guint)piece_size, NULL, &error);
        if (torrent == NULL) {
                g_printerr("rv-test-seeder: %s\n", error->message);
                return EXIT_FAILURE;
        }
        base = g_path_get_basename(payload);
        if (torrent_out == NULL)
                torrent_out = g_strdup_printf("%s.torrent", payload);
        if (!g_file_set_contents(torrent_out, g_bytes_get_data(torrent, NULL), (gssize)g_bytes_get_size(torrent),
                                 &error)) {
                g_printerr("rv-test-seeder: %s\n", error->message);
                return EXIT_FAILURE;
        }

        rv_engine_settings_init(&settings);
        g_free(settings.listen_interfaces);
        settings.listen_interfaces = g_strdup_printf("127.0.0.1:%d", port);
        settings.enable_dht = FALSE;
        settings.enable_lsd = FALSE;
        settings.enable_upnp = FALSE;
        settings.enable_natpmp = FALSE;
        settings.enable_utp = FALSE;
        settings.allow_multiple_connections_per_ip = TRUE;
        settings.active_downloads = -1;
        settings.active_seeds = -1;
        settings.active_limit = -1;
        settings.upload_rate_limit = upload_limit;
        settings.status_interval_ms = 200;
        engine = rv_engine_new_libtorrent(&settings, &error);
        rv_engine_settings_clear(&settings);
        if (engine == NULL) {
                g_printerr("rv-test-seeder: %s\n", error->message);
                return EXIT_FAILURE;
        }

        source = rv_engine_source_new_torrent(engine, torrent, &error);
        if (source == NULL) {
                g_printerr("rv-test-seeder: %s\n", error->message);
                return EXIT_FAILURE;
        }
        loop = g_main_loop_new(NULL, FALSE);
        seeder.loop = loop;
        seeder.engine = engine;
        seeder.hash = rv_engine_source_get_info(source)->hash;
        seeder.torrent_path = torrent_out;
        seeder.magnet_out = magnet_out;
        seeder.name = base;
        seeder.status = EXIT_SUCCESS;
        rv_engine_set_event_func(engine, rv_seeder_event_cb, &seeder);

        rv_engine_add_options_init(&options);
        options.save_path = dir;
        options.seed_mode = !verify;
        if (!rv_engine_add(engine, g_steal_pointer(&source), &options, &error)) {
                g_printerr("rv-test-seeder: %s\n", error->message);
                return EXIT_FAILURE;
        }

        g_unix_signal_add(SIGTERM, rv_seeder_signal_cb, &seeder);
        g_unix_signal_add(SIGINT, rv_seeder_signal_cb, &seeder);
        if (connect_from_stdin) {
                g_autoptr(GIOChannel) in = g_io_channel_unix_new(STDIN_FILENO);
                g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, rv_seeder_stdin_cb, &seeder);
        }
        g_main_loop_run(loop);
        rv_engine_set_event_func(engine, NULL, NULL);
        return seeder.status;
}
