/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * the engine's share of the 10,000-torrent budget: parse and add N small
 * paused torrents (made in memory, no files), wait for every ADDED, then one
 * status pass; prints adds/s, the time until all are in the session, the
 * status events of an idle pass and RSS
 *
 *   build/bench/rv-bench-adds --count 10000
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "rv-engine.h"

typedef struct {
        GMainLoop *loop;
        guint added;
        guint statuses;
        guint want;
        gboolean failed;
} RvBenchAdds;

static void
rv_bench_event_cb(RvEngine *engine, const RvEngineEvent *event, gpointer user_data)
{
        RvBenchAdds *bench = user_data;

        switch (event->kind) {
        case RV_ENGINE_EVENT_ADDED:
                if (++bench->added == bench->want)
                        g_main_loop_quit(bench->loop);
                break;
        case RV_ENGINE_EVENT_ADD_FAILED:
                g_printerr("rv-bench-adds: %s\n", event->error->message);
                bench->failed = TRUE;
                g_main_loop_quit(bench->loop);
                break;
        case RV_ENGINE_EVENT_STATUS:
                bench->statuses++;
                break;
        default:
                break;
        }
}

static GBytes *
rv_bench_torrent(guint index)
{
        GString *out = g_string_new("d4:infod6:lengthi16384e4:name");
        g_autofree char *name = g_strdup_printf("bench-%08u.bin", index);
        guint32 pieces[5];

        g_string_append_printf(out, "%zu:%s", strlen(name), name);
        g_string_append(out, "12:piece lengthi16384e6:pieces20:");
        for (guint i = 0; i < G_N_ELEMENTS(pieces); i++)
                pieces[i] = g_random_int();
        g_string_append_len(out, (const char *)pieces, sizeof(pieces));
        g_string_append(out, "ee");
        return g_string_free_to_bytes(out);
}

static long
rv_bench_rss_kib(void)
{
        g_autofree char *status = NULL;
        const char *line;

        if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
                return -1;
        line = strstr(status, "VmRSS:");
        return line != NULL ? strtol(line + 6, NULL, 10) : -1;
}

static gboolean
rv_bench_quit_cb(gpointer user_data)
{
        g_main_loop_quit(user_data);
        return G_SOURCE_REMOVE;
}

int
main(int argc, char **argv)
{
        gint count = 10000;
        GOptionEntry entries[] = {
                { "count", 0, 0, G_OPTION_ARG_INT, &count, "Number of torrents (default 10000)", "N" },
                { NULL },
        };
        g_autoptr(GOptionContext) context = g_option_context_new("- add many small paused torrents");
        g_autoptr(GError) error = NULL;
        g_autoptr(GMainLoop) loop = NULL;
        g_autoptr(GPtrArray) torrents = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
        g_autofree char *dir = NULL;
        RvEngine *engine;
        RvEngineSettings settings;
        RvEngineAddOptions options;
        RvBenchAdds bench = { 0 };
        gint64 start;
        gint64 calls_done;
        gint64 all_added;
        gint64 freed;
        long rss_before;

        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error) || count <= 0) {
                g_printerr("rv-bench-adds: %s\n", error != NULL ? error->message : "bad --count");
                return 2;
        }
        dir = g_dir_make_tmp("rv-bench-adds-XXXXXX", &error);
        if (dir == NULL) {
                g_printerr("rv-bench-adds: %s\n", error->message);
                return EXIT_FAILURE;
        }
        for (gint i = 0; i < count; i++)
                g_ptr_array_add(torrents, rv_bench_torrent((guint)i));

        rv_engine_settings_init(&settings);
        g_free(settings.listen_interfaces);
        settings.listen_interfaces = g_strdup("127.0.0.1:0");
        settings.enable_dht = FALSE;
        settings.enable_lsd = FALSE;
        settings.enable_upnp = FALSE;
        settings.enable_natpmp = FALSE;
        settings.enable_utp = FALSE;
        engine = rv_engine_new_libtorrent(&settings, &error);
        rv_engine_settings_clear(&settings);
        if (engine == NULL) {
                g_printerr("rv-bench-adds: %s\n", error->message);
                return EXIT_FAILURE;
        }
        loop = g_main_loop_new(NULL, FALSE);
        bench.loop = loop;
        bench.want = (guint)count;
        rv_engine_set_event_func(engine, rv_bench_event_cb, &bench);
        rss_before = rv_bench_rss_kib();

        rv_engine_add_options_init(&options);
        options.save_path = dir;
        options.paused = TRUE;
        start = g_get_monotonic_time();
        for (guint i = 0; i < torrents->len; i++) {
                RvEngineSource *source = rv_engine_source_new_torrent(engine, g_ptr_array_index(torrents, i), &error);
                if (source == NULL || !rv_engine_add(engine, source, &options, &error)) {
                        g_printerr("rv-bench-adds: %s\n", error->message);
                        return EXIT_FAILURE;
                }
        }
        calls_done = g_get_monotonic_time();
        g_main_loop_run(loop);
        all_added = g_get_monotonic_time();
        if (bench.failed)
                return EXIT_FAILURE;

        /* the first pass reports every new torrent; the second one only what changed since: nothing */
        rv_engine_post_status(engine);
        g_timeout_add(1000, rv_bench_quit_cb, loop);
        g_main_loop_run(loop);
        bench.statuses = 0;
        rv_engine_post_status(engine);
        g_timeout_add(500, rv_bench_quit_cb, loop);
        g_main_loop_run(loop);

        g_print("{\"count\": %d, \"parse_add_calls_s\": %.3f, \"calls_per_s\": %.0f, \"all_added_s\": %.3f, "
                "\"adds_per_s\": %.0f, \"idle_status_events\": %u, \"rss_mib\": %.1f, \"rss_growth_mib\": %.1f",
                count, (double)(calls_done - start) / G_USEC_PER_SEC,
                count / ((double)(calls_done - start) / G_USEC_PER_SEC), (double)(all_added - start) / G_USEC_PER_SEC,
                count / ((double)(all_added - start) / G_USEC_PER_SEC), bench.statuses, rv_bench_rss_kib() / 1024.0,
                (rv_bench_rss_kib() - rss_before) / 1024.0);
        start = g_get_monotonic_time();
        rv_engine_set_event_func(engine, NULL, NULL);
        rv_engine_free(engine);
        freed = g_get_monotonic_time();
        g_print(", \"free_s\": %.3f}\n", (double)(freed - start) / G_USEC_PER_SEC);
        g_rmdir(dir);
        return EXIT_SUCCESS;
}
