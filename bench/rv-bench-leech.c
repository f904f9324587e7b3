/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * one download with Revaer's engine, the way the daemon drives it: engine
 * defaults plus the loopback test network (TCP only), the torrent added with
 * the seeder as its peer, completion from the FINISHED event; prints one JSON
 * line with the timings
 *
 * time to first payload is sampled by asking for status every few ms until
 * bytes show up (the bare leecher samples the same way), then the engine's
 * own status cadence takes over
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "rv-engine.h"

typedef struct {
        GMainLoop *loop;
        RvEngine *engine;
        RvInfoHash hash;
        gint64 added_us;
        gint64 first_payload_us;
        gint64 finished_us;
        gint64 total;
        guint sample_id;
        gboolean listening;
        int status;
} RvBench;

static void
rv_bench_event_cb(RvEngine *engine, const RvEngineEvent *event, gpointer user_data)
{
        RvBench *bench = user_data;
        gint64 now = g_get_monotonic_time();

        switch (event->kind) {
        case RV_ENGINE_EVENT_LISTEN_SUCCEEDED:
                bench->listening = TRUE;
                break;
        case RV_ENGINE_EVENT_STATUS:
                if (bench->first_payload_us == 0 && event->status->total_done > 0)
                        bench->first_payload_us = now;
                break;
        case RV_ENGINE_EVENT_FINISHED:
                bench->finished_us = now;
                if (bench->first_payload_us == 0)
                        bench->first_payload_us = now;
                g_main_loop_quit(bench->loop);
                break;
        case RV_ENGINE_EVENT_ADD_FAILED:
        case RV_ENGINE_EVENT_ERROR:
                g_printerr("rv-bench-leech: %s: %s\n", rv_engine_event_kind_to_string(event->kind),
                           event->error != NULL ? event->error->message : "?");
                bench->status = EXIT_FAILURE;
                g_main_loop_quit(bench->loop);
                break;
        default:
                break;
        }
}

static gboolean
rv_bench_sample_cb(gpointer user_data)
{
        RvBench *bench = user_data;

        if (bench->first_payload_us != 0) {
                bench->sample_id = 0;
                return G_SOURCE_REMOVE;
        }
        rv_engine_post_status(bench->engine);
        return G_SOURCE_CONTINUE;
}

static gboolean
rv_bench_timeout_cb(gpointer user_data)
{
        RvBench *bench = user_data;

        g_printerr("rv-bench-leech: timed out\n");
        bench->status = EXIT_FAILURE;
        g_main_loop_quit(bench->loop);
        return G_SOURCE_REMOVE;
}

int
main(int argc, char **argv)
{
        g_autofree char *torrent_path = NULL;
        g_autofree char *peer = NULL;
        g_autofree char *dir = NULL;
        gint status_ms = 0;
        gint sample_ms = 5;
        gint timeout_s = 600;
        GOptionEntry entries[] = {
                { "torrent", 0, 0, G_OPTION_ARG_FILENAME, &torrent_path, "The .torrent to download", "FILE" },
                { "peer", 0, 0, G_OPTION_ARG_STRING, &peer, "The seeder, host:port", "PEER" },
                { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Save path", "DIR" },
                { "status-ms", 0, 0, G_OPTION_ARG_INT, &status_ms, "Status cadence (default: engine default)", "MS" },
                { "sample-ms", 0, 0, G_OPTION_ARG_INT, &sample_ms, "First-payload sampling period", "MS" },
                { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "Give up after this many seconds", "S" },
                { NULL },
        };
        g_autoptr(GOptionContext) context = g_option_context_new("- download one torrent with Revaer's engine");
        g_autoptr(GError) error = NULL;
        g_autoptr(GMainLoop) loop = NULL;
        g_autoptr(RvEngine) engine = NULL;
        g_autoptr(GBytes) torrent = NULL;
        RvEngineSource *source;
        RvEngineSettings settings;
        RvEngineAddOptions options;
        const char *peers[] = { NULL, NULL };
        RvBench bench = { 0 };
        char *contents = NULL;
        gsize length = 0;

        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error)) {
                g_printerr("rv-bench-leech: %s\n", error->message);
                return 2;
        }
        if (torrent_path == NULL || peer == NULL || dir == NULL) {
                g_printerr("rv-bench-leech: --torrent, --peer and --dir are required\n");
                return 2;
        }
        if (!g_file_get_contents(torrent_path, &contents, &length, &error)) {
                g_printerr("rv-bench-leech: %s\n", error->message);
                return EXIT_FAILURE;
        }
        torrent = g_bytes_new_take(contents, length);

        /* what the daemon would use, with the network of a loopback test: TCP only */
        rv_engine_settings_init(&settings);
        g_free(settings.listen_interfaces);
        settings.listen_interfaces = g_strdup("127.0.0.1:0");
        settings.enable_dht = FALSE;
        settings.enable_lsd = FALSE;
        settings.enable_upnp = FALSE;
        settings.enable_natpmp = FALSE;
        settings.enable_utp = FALSE;
        if (status_ms > 0)
                settings.status_interval_ms = (guint)status_ms;
        engine = rv_engine_new_libtorrent(&settings, &error);
        rv_engine_settings_clear(&settings);
        if (engine == NULL) {
                g_printerr("rv-bench-leech: %s\n", error->message);
                return EXIT_FAILURE;
        }
        loop = g_main_loop_new(NULL, FALSE);
        bench.loop = loop;
        bench.engine = engine;
        bench.status = EXIT_SUCCESS;
        rv_engine_set_event_func(engine, rv_bench_event_cb, &bench);

        source = rv_engine_source_new_torrent(engine, torrent, &error);
        if (source == NULL) {
                g_printerr("rv-bench-leech: %s\n", error->message);
                return EXIT_FAILURE;
        }
        bench.hash = rv_engine_source_get_info(source)->hash;
        bench.total = rv_engine_source_get_info(source)->total_size;
        rv_engine_add_options_init(&options);
        options.save_path = dir;
        peers[0] = peer;
        options.peers = peers;

        bench.added_us = g_get_monotonic_time();
        if (!rv_engine_add(engine, source, &options, &error)) {
                g_printerr("rv-bench-leech: %s\n", error->message);
                return EXIT_FAILURE;
        }
        bench.sample_id = g_timeout_add((guint)sample_ms, rv_bench_sample_cb, &bench);
        g_timeout_add_seconds((guint)timeout_s, rv_bench_timeout_cb, &bench);
        g_main_loop_run(loop);
        if (bench.sample_id != 0)
                g_source_remove(bench.sample_id);
        rv_engine_set_event_func(engine, NULL, NULL);
        if (bench.status != EXIT_SUCCESS)
                return bench.status;

        {
                double seconds = (double)(bench.finished_us - bench.added_us) / G_USEC_PER_SEC;
                double first = (double)(bench.first_payload_us - bench.added_us) / G_USEC_PER_SEC;
                g_print("{\"client\": \"revaer\", \"bytes\": %" G_GINT64_FORMAT ", \"seconds\": %.4f, "
                        "\"first_payload\": %.4f, \"mbps\": %.1f}\n",
                        bench.total, seconds, first, (double)bench.total / 1e6 / seconds);
                fflush(stdout);
        }
        return EXIT_SUCCESS;
}
