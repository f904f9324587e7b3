/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * a settings change until libtorrent reports the new value, in one process
 * wired the way revaerd is (RvStore -> RvLiveSettings "changed" ->
 * rv_settings_to_engine -> rv_engine_apply_settings): many changes of
 * /engine/download_limit through rv_live_settings_update_async(), each timed from
 * the call until rv_engine_get_settings() returns the new value; the engine
 * is polled from the main loop, so the store's replies and notifications are
 * handled as they come
 *
 *   embedded          the store in a temp dir
 *   postgres          one node changes and applies
 *   postgres-other    node A changes, node B (a store, config and engine of
 *                     its own on the same database) applies
 *
 *   rv-bench-reload [--changes 500] [--poll-us 200] [--database-url CONNINFO]
 *
 * without --database-url only the embedded store is measured; bench/reload
 * starts a throwaway cluster and passes its conninfo
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "rv-live-settings.h"
#include "rv-engine.h"
#include "rv-health.h"
#include "rv-json.h"
#include "rv-settings.h"
#include "rv-store.h"

typedef struct {
        const char *name;
        RvHealth *health;
        RvStore *store;
        RvLiveSettings *config;
        RvEngine *engine;
        /* g_get_monotonic_time() of the last "changed" */
        gint64 applied_at;
} Node;

typedef struct {
        RvStore *store;
        gboolean done;
        GError *error;
        guint64 revision;
} Wait;

static void
die(const char *what, const GError *error)
{
        g_printerr("rv-bench-reload: %s: %s\n", what, error != NULL ? error->message : "failed");
        exit(1);
}

static void
wait_done(Wait *w, const char *what)
{
        while (!w->done)
                g_main_context_iteration(NULL, TRUE);
        if (w->error != NULL)
                die(what, w->error);
}

static void
open_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Wait *w = user_data;

        (void)rv_store_open_finish(w->store, result, &w->error);
        w->done = TRUE;
}

static void
load_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Wait *w = user_data;

        (void)rv_live_settings_load_finish(RV_LIVE_SETTINGS(source), result, &w->error);
        w->done = TRUE;
}

static void
update_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Wait *w = user_data;

        w->revision = rv_live_settings_update_finish(RV_LIVE_SETTINGS(source), result, &w->error);
        w->done = TRUE;
}

/* loopback only, nothing announced: what every node's settings start from */
static JsonNode *
initial_settings(void)
{
        JsonObject *patch = json_object_new();

        json_object_set_string_member(patch, "/engine/listen_interfaces", "127.0.0.1");
        json_object_set_int_member(patch, "/engine/listen_port", 0);
        json_object_set_boolean_member(patch, "/engine/dht", FALSE);
        json_object_set_boolean_member(patch, "/engine/lsd", FALSE);
        json_object_set_boolean_member(patch, "/engine/utp", FALSE);
        json_object_set_boolean_member(patch, "/engine/upnp", FALSE);
        json_object_set_boolean_member(patch, "/engine/natpmp", FALSE);
        return rv_json_node_take_object(patch);
}

/* as revaerd's rv_daemon_apply_settings(): the whole document to the engine */
static void
changed_cb(RvLiveSettings *config, guint64 revision, JsonNode *changes, const char *actor, gpointer user_data)
{
        Node *node = user_data;
        RvEngineSettings es;
        g_autoptr(GError) error = NULL;

        rv_engine_settings_init(&es);
        rv_settings_to_engine(rv_live_settings_get_document(config), &es);
        if (!rv_engine_apply_settings(node->engine, &es, &error))
                g_printerr("rv-bench-reload: %s: revision %" G_GUINT64_FORMAT " refused: %s\n", node->name, revision,
                           error->message);
        rv_engine_settings_clear(&es);
        node->applied_at = g_get_monotonic_time();
}

static void
node_open(Node *node, const char *name, const char *state_dir, const char *conninfo, const char *node_id)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) initial = initial_settings();
        RvEngineSettings es;
        Wait w = { 0 };

        node->name = name;
        node->health = rv_health_new();
        node->store = conninfo != NULL ? rv_store_postgres_new(conninfo, node_id, node->health, &error)
                                       : rv_store_embedded_new(state_dir, node->health, &error);
        if (node->store == NULL)
                die(name, error);
        w.store = node->store;
        rv_store_open_async(node->store, NULL, open_cb, &w);
        wait_done(&w, "opening the store");

        node->config = rv_live_settings_new(node->store);
        memset(&w, 0, sizeof(w));
        rv_live_settings_load_async(node->config, initial, NULL, load_cb, &w);
        wait_done(&w, "loading the settings");

        rv_engine_settings_init(&es);
        rv_settings_to_engine(rv_live_settings_get_document(node->config), &es);
        node->engine = rv_engine_new_libtorrent(&es, &error);
        rv_engine_settings_clear(&es);
        if (node->engine == NULL)
                die(name, error);
        g_signal_connect(node->config, "changed", G_CALLBACK(changed_cb), node);
}

static void
node_close(Node *node)
{
        if (node->config != NULL)
                g_signal_handlers_disconnect_by_data(node->config, node);
        g_clear_object(&node->config);
        g_clear_pointer(&node->engine, rv_engine_free);
        /* drains the store's queue */
        g_clear_pointer(&node->store, rv_store_free);
        g_clear_pointer(&node->health, rv_health_free);
}

static gint64
engine_limit(Node *node)
{
        RvEngineSettings es;
        gint64 limit;

        rv_engine_get_settings(node->engine, &es);
        limit = es.download_rate_limit;
        rv_engine_settings_clear(&es);
        return limit;
}

static gint
cmp_gint64(gconstpointer a, gconstpointer b)
{
        gint64 x = *(const gint64 *)a;
        gint64 y = *(const gint64 *)b;

        return x < y ? -1 : x > y;
}

/* nearest rank over sorted samples */
static double
percentile_ms(GArray *sorted, double p)
{
        guint rank = (guint)(p / 100.0 * sorted->len + 0.999999);

        rank = CLAMP(rank, 1, sorted->len);
        return (double)g_array_index(sorted, gint64, rank - 1) / 1000.0;
}

typedef struct {
        const char *label;
        /* until the receiving node's "changed": stored, (heard,) and handed to the engine */
        GArray *applied;
        /* until the receiving engine reports the value */
        GArray *reported;
} Result;

/*
 * n changes through from, each timed until to's engine reports it; the engine
 * is asked every poll_us while the main context is run without blocking, so a
 * reply from the store is handled at once
 */
static void
measure(Result *r, Node *from, Node *to, guint n, guint poll_us, gint64 base)
{
        r->applied = g_array_new(FALSE, FALSE, sizeof(gint64));
        r->reported = g_array_new(FALSE, FALSE, sizeof(gint64));
        for (guint i = 0; i < n; i++) {
                /* a value no earlier change used, within the field's range */
                gint64 value = base + (gint64)i + 1;
                g_autoptr(JsonNode) patch = NULL;
                JsonObject *obj = json_object_new();
                Wait w = { 0 };
                gint64 start;
                gint64 next_poll;
                gint64 applied;
                gint64 reported;

                json_object_set_int_member(obj, "/engine/download_limit", value);
                patch = rv_json_node_take_object(obj);
                to->applied_at = 0;
                start = g_get_monotonic_time();
                next_poll = start;
                rv_live_settings_update_async(from->config, patch, "bench", NULL, NULL, update_cb, &w);
                for (;;) {
                        gint64 now;
                        gboolean busy = FALSE;
                        while (g_main_context_iteration(NULL, FALSE))
                                busy = TRUE;
                        now = g_get_monotonic_time();
                        if (now < next_poll) {
                                /* yield the CPU to the server and libtorrent's threads, briefly */
                                if (!busy)
                                        g_usleep(20);
                                continue;
                        }
                        next_poll = now + poll_us;
                        if (engine_limit(to) == value)
                                break;
                        if (now - start > 10 * G_USEC_PER_SEC) {
                                g_printerr("rv-bench-reload: %s: change %u not reported within 10 s\n", r->label, i);
                                exit(1);
                        }
                }
                reported = g_get_monotonic_time() - start;
                applied = to->applied_at > 0 ? to->applied_at - start : reported;
                g_array_append_val(r->reported, reported);
                g_array_append_val(r->applied, applied);
                /* the update's own reply (the changing node) may come after the other node applied */
                while (!w.done)
                        g_main_context_iteration(NULL, TRUE);
                if (w.error != NULL)
                        die(r->label, w.error);
        }
        g_array_sort(r->applied, cmp_gint64);
        g_array_sort(r->reported, cmp_gint64);
}

static void
print_result(const Result *r)
{
        g_print("%-16s %6u %9.3f %9.3f %9.3f   %9.3f %9.3f\n", r->label, r->reported->len,
                percentile_ms(r->reported, 50), percentile_ms(r->reported, 99), percentile_ms(r->reported, 100),
                percentile_ms(r->applied, 50), percentile_ms(r->applied, 99));
}

static void
result_clear(Result *r)
{
        g_clear_pointer(&r->applied, g_array_unref);
        g_clear_pointer(&r->reported, g_array_unref);
}

static void
rm_rf(const char *path)
{
        g_autoptr(GFile) file = g_file_new_for_path(path);
        g_autoptr(GFileEnumerator) children = g_file_enumerate_children(
                file, G_FILE_ATTRIBUTE_STANDARD_NAME, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
        GFileInfo *info;

        while (children != NULL && (info = g_file_enumerator_next_file(children, NULL, NULL)) != NULL) {
                g_autofree char *child = g_build_filename(path, g_file_info_get_name(info), NULL);
                if (g_file_info_get_file_type(info) == G_FILE_TYPE_DIRECTORY)
                        rm_rf(child);
                else
                        (void)g_unlink(child);
                g_object_unref(info);
        }
        (void)g_rmdir(path);
}

int
main(int argc, char **argv)
{
        gint changes = 500;
        gint poll_us = 200;
        g_autofree char *database_url = NULL;
        GOptionEntry entries[] = {
                { "changes", 'n', 0, G_OPTION_ARG_INT, &changes, "changes per case (default 500)", "N" },
                { "poll-us", 0, 0, G_OPTION_ARG_INT, &poll_us, "how often the engine is asked (default 200 µs)", "US" },
                { "database-url", 0, 0, G_OPTION_ARG_STRING, &database_url,
                  "PostgreSQL conninfo for the postgres cases (an empty database)", "CONNINFO" },
                { NULL },
        };
        g_autoptr(GOptionContext) context = g_option_context_new("- settings change to libtorrent, per store");
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = NULL;
        Result results[3] = { { "embedded", NULL, NULL },
                              { "postgres", NULL, NULL },
                              { "postgres-other", NULL, NULL } };
        guint n_results = 0;

        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error) || changes < 1 || poll_us < 0) {
                g_printerr("rv-bench-reload: %s\n", error != NULL ? error->message : "bad arguments");
                return 2;
        }

        {
                Node node = { 0 };
                dir = g_dir_make_tmp("rv-bench-reload-XXXXXX", &error);
                if (dir == NULL)
                        die("temp dir", error);
                node_open(&node, "embedded", dir, NULL, NULL);
                measure(&results[n_results++], &node, &node, (guint)changes, (guint)poll_us, 1000000);
                node_close(&node);
                rm_rf(dir);
        }
        if (database_url != NULL) {
                Node a = { 0 };
                Node b = { 0 };
                node_open(&a, "node-a", NULL, database_url, "bench-a");
                measure(&results[n_results++], &a, &a, (guint)changes, (guint)poll_us, 2000000);
                node_open(&b, "node-b", NULL, database_url, "bench-b");
                measure(&results[n_results++], &a, &b, (guint)changes, (guint)poll_us, 3000000);
                /* both engines hold the last value */
                if (engine_limit(&a) != engine_limit(&b)) {
                        g_printerr("rv-bench-reload: the nodes disagree at the end\n");
                        return 1;
                }
                node_close(&b);
                node_close(&a);
        }

        g_print("settings change -> libtorrent reports it, %d changes each, engine polled every %d us (ms)\n", changes,
                poll_us);
        g_print("%-16s %6s %9s %9s %9s   %9s %9s\n", "store", "n", "median", "p99", "max", "applied50", "applied99");
        for (guint i = 0; i < n_results; i++) {
                print_result(&results[i]);
                result_clear(&results[i]);
        }
        return 0;
}
