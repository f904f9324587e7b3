/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-add-options.h"
#include "rv-torrent-fields.h"
#include "rv-torrent-query.h"
#include "rv-validate.h"
#include "rv-test-data.h"

/* pages of the registry and the add options decoder, over the fake engine and the embedded store */

typedef struct {
        char *dir;
        RvHealth *health;
        RvStore *store;
        RvEventBus *events;
        RvEngine *engine;
        RvManager *manager;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        RvManagerConfig mc;
        RvEngineSettings settings;
        g_autofree char *state = NULL;

        f->dir = g_dir_make_tmp("rv-test-query-XXXXXX", NULL);
        state = g_build_filename(f->dir, "state", NULL);
        f->health = rv_health_new();
        f->store = rv_store_embedded_new(state, f->health, NULL);
        f->events = rv_event_bus_new(256, 1, NULL, NULL);
        rv_engine_settings_init(&settings);
        f->engine = rv_engine_new_fake(&settings);
        rv_engine_settings_clear(&settings);
        rv_manager_config_init(&mc);
        g_free(mc.download_dir);
        mc.download_dir = g_build_filename(f->dir, "data", NULL);
        f->manager = rv_manager_new(f->engine, f->store, f->health, f->events, &mc);
        rv_manager_config_clear(&mc);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        g_clear_object(&f->manager);
        g_clear_pointer(&f->engine, rv_engine_free);
        g_clear_pointer(&f->store, rv_store_free);
        g_clear_pointer(&f->events, rv_event_bus_free);
        g_clear_pointer(&f->health, rv_health_free);
        rv_test_data_remove_tree(f->dir);
        g_free(f->dir);
}

typedef struct {
        gboolean done;
        RvTorrent *torrent;
        GError *error;
} AddCall;

static void
added_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        AddCall *call = user_data;

        call->torrent = rv_manager_add_finish(RV_MANAGER(source), result, &call->error);
        call->done = TRUE;
}

static RvTorrent *
add(Fixture *f, guint i, gboolean paused, const char *label)
{
        g_autofree char *magnet = g_strdup_printf("magnet:?xt=urn:btih:%040x&dn=t%u", i * 7919u + 1, i);
        const char *labels[] = { label, NULL };
        RvAddRequest request = { 0 };
        AddCall call = { 0 };

        request.magnet = magnet;
        request.paused = paused;
        request.sequential = -1;
        request.labels = label != NULL ? labels : NULL;
        /* the add completes once its records are stored */
        rv_manager_add_async(f->manager, &request, added_cb, &call);
        while (!call.done)
                g_main_context_iteration(NULL, TRUE);
        g_assert_no_error(call.error);
        return call.torrent;
}

static gboolean
hash_seen(GHashTable *seen, const RvTorrent *t)
{
        return g_hash_table_contains(seen, t->hash.hex);
}

static void
test_query_pages(Fixture *f, gconstpointer data)
{
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autofree char *cursor = NULL;
        g_auto(RvTorrentQuery) q = { 0 };
        RvTorrent *gone = NULL;
        guint pages = 0;
        gboolean more = TRUE;

        for (guint i = 0; i < 25; i++)
                add(f, i, FALSE, NULL);
        /* pages of 10 while torrents come and go: everything present throughout is seen exactly once */
        while (more) {
                g_auto(RvTorrentQuery) page = { 0 };
                g_autoptr(GPtrArray) rows = NULL;
                g_autoptr(GError) error = NULL;
                rv_torrent_query_init(&page);
                page.limit = 10;
                if (cursor != NULL)
                        g_assert_true(rv_torrent_query_set_cursor(&page, cursor, "cursor", &error));
                g_assert_no_error(error);
                rows = rv_manager_query(f->manager, &page, &more);
                for (guint i = 0; i < rows->len; i++) {
                        RvTorrent *t = g_ptr_array_index(rows, i);
                        g_assert_false(hash_seen(seen, t));
                        g_hash_table_add(seen, g_strdup(t->hash.hex));
                }
                g_clear_pointer(&cursor, g_free);
                if (rows->len > 0)
                        cursor = rv_torrent_query_cursor(g_ptr_array_index(rows, rows->len - 1));
                if (pages == 0) {
                        /* one added after the first page comes last; one removed that was not yet seen is not */
                        add(f, 100, FALSE, NULL);
                        g_autoptr(GPtrArray) all = rv_manager_query(f->manager, &(RvTorrentQuery){ 0 }, NULL);
                        gone = g_ptr_array_index(all, all->len - 2);
                        g_assert_true(rv_manager_remove(f->manager, gone, FALSE, NULL));
                }
                pages++;
        }
        g_assert_cmpuint(pages, ==, 3);
        g_assert_cmpuint(g_hash_table_size(seen), ==, 25);
        rv_torrent_query_init(&q);
        g_assert_false(rv_torrent_query_set_cursor(&q, "not a cursor!", "cursor", NULL));
        g_assert_false(rv_torrent_query_set_cursor(&q, "Zm9vYmFy", "cursor", NULL));
}

static void
test_query_filters(Fixture *f, gconstpointer data)
{
        g_auto(RvTorrentQuery) q = { 0 };
        g_autoptr(GPtrArray) paused = NULL;
        g_autoptr(GPtrArray) labelled = NULL;
        g_autoptr(GError) error = NULL;

        for (guint i = 0; i < 6; i++)
                add(f, i, i % 2 == 0, i % 3 == 0 ? "tv" : "film");
        rv_torrent_query_init(&q);
        g_assert_true(rv_torrent_query_set_states(&q, "paused", "state", &error));
        paused = rv_manager_query(f->manager, &q, NULL);
        g_assert_cmpuint(paused->len, ==, 3);
        g_assert_true(rv_torrent_query_set_labels(&q, "tv", "label", &error));
        labelled = rv_manager_query(f->manager, &q, NULL);
        /* paused (0, 2, 4) and tv (0, 3): only 0 */
        g_assert_cmpuint(labelled->len, ==, 1);
        g_assert_false(rv_torrent_query_set_states(&q, "sleeping", "state", &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "state: 'sleeping'"));
        g_clear_error(&error);
        g_assert_false(rv_torrent_query_set_labels(&q, "a,,b", "label", &error));
        g_assert_true(g_str_has_prefix(error->message, "label: "));
}

static JsonObject *
parse_object(const char *text)
{
        g_autoptr(JsonParser) parser = json_parser_new();

        g_assert_true(json_parser_load_from_data(parser, text, -1, NULL));
        return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

static void
test_add_options(void)
{
        g_autoptr(RvAddOptions) options = rv_add_options_new();
        g_autoptr(JsonObject) good =
                parse_object("{\"magnet\": \"m\", \"paused\": true, \"labels\": [\"a\", \"b\"], "
                             "\"download_limit\": 5000, \"exclude\": [\"*.nfo\"], \"skip_checking\": true}");
        g_autoptr(JsonObject) wrong = parse_object("{\"paused\": \"yes\"}");
        g_autoptr(JsonObject) unknown = parse_object("{\"colour\": \"red\"}");
        g_autoptr(JsonObject) element = parse_object("{\"labels\": [\"a\", 5]}");
        const char *const skip[] = { "magnet", NULL };
        g_autoptr(GError) error = NULL;
        const RvAddRequest *r;

        g_assert_true(rv_add_options_set_json_object(options, good, skip, NULL, &error));
        g_assert_no_error(error);
        rv_add_options_set_magnet(options, "magnet:?xt=urn:btih:0000000000000000000000000000000000000001");
        r = rv_add_options_get_request(options, &error);
        g_assert_nonnull(r);
        g_assert_true(r->paused);
        g_assert_true(r->skip_checking);
        g_assert_cmpint(r->sequential, ==, -1);
        g_assert_cmpint(r->download_limit, ==, 5000);
        g_assert_cmpstr(r->labels[1], ==, "b");
        g_assert_nonnull(r->selection);
        g_assert_cmpstr(r->selection->exclude[0], ==, "*.nfo");

        g_assert_false(rv_add_options_set_json_object(options, wrong, NULL, "options.", &error));
        g_assert_cmpstr(error->message, ==, "options.paused: expected a boolean, got a string");
        g_clear_error(&error);
        g_assert_false(rv_add_options_set_json_object(options, unknown, NULL, NULL, &error));
        g_assert_cmpstr(error->message, ==, "colour: unknown option");
        g_clear_error(&error);
        g_assert_false(rv_add_options_set_json_object(options, element, NULL, NULL, &error));
        g_assert_cmpstr(error->message, ==, "labels[1]: expected a string, got an integer");
        g_assert_cmpuint(g_strv_length((GStrv)rv_add_options_names()), ==, 14);
        g_clear_error(&error);
        /* the layout's value is the core's to check, for every transport alike */
        g_assert_false(rv_validate_content_layout("flat", "content_layout", NULL, &error));
        g_assert_cmpstr(error->message, ==,
                        "content_layout: unknown layout 'flat' (one of original, subfolder, no_subfolder)");
}

/* one parser of field names for the HTTP list and the D-Bus columns */
static void
test_fields_select(void)
{
        const char *names[] = { "name", "info_hash", "name", "state", NULL };
        const char *bad[] = { "name", "colour", NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) some = rv_torrent_fields_select(names, TRUE, "hint", &error);
        g_autoptr(GPtrArray) list = rv_torrent_fields_select(NULL, TRUE, "hint", &error);
        g_autoptr(GPtrArray) all = rv_torrent_fields_select(NULL, FALSE, "hint", &error);
        g_autoptr(GPtrArray) none = NULL;

        g_assert_no_error(error);
        g_assert_cmpuint(some->len, ==, 3);
        g_assert_cmpstr(((const RvTorrentField *)some->pdata[0])->json, ==, "info_hash");
        g_assert_cmpstr(((const RvTorrentField *)some->pdata[1])->json, ==, "name");
        g_assert_cmpstr(((const RvTorrentField *)some->pdata[2])->json, ==, "state");
        /* the list view's eleven, the info hash first; all of them */
        g_assert_cmpuint(list->len, ==, 11);
        g_assert_cmpstr(((const RvTorrentField *)list->pdata[0])->json, ==, "info_hash");
        g_assert_cmpuint(all->len, ==, rv_torrent_fields_count());
        none = rv_torrent_fields_select(bad, TRUE, "hint", &error);
        g_assert_null(none);
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_cmpstr(error->message, ==, "fields: 'colour' is not a torrent field (hint)");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add("/query/pages", Fixture, NULL, fixture_setup, test_query_pages, fixture_teardown);
        g_test_add("/query/filters", Fixture, NULL, fixture_setup, test_query_filters, fixture_teardown);
        g_test_add_func("/query/add-options", test_add_options);
        g_test_add_func("/query/fields-select", test_fields_select);
        return g_test_run();
}
