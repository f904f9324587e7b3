/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-json.h"
#include "rv-torrent.h"

/* the metadata is written as text by hand: it must read back as the torrent it came from */
static RvTorrent *
make_torrent(void)
{
        RvInfoHash hash;
        RvTorrent *t;
        const char *include[] = { "*.mkv", "Show \"S1\"/**", NULL };
        const char *exclude[] = { "@skip_fluff", NULL };

        g_assert_true(rv_info_hash_parse("0123456789abcdef0123456789abcdef01234567", &hash));
        t = rv_torrent_new(&hash);
        /* quotes, a backslash, control characters, non-ASCII and a byte that is not UTF-8 */
        t->name = g_strdup("a \"quoted\" \\ name\n\twith\x01 caf\xc3\xa9 and \xff");
        t->magnet = g_strdup("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x");
        t->save_path = g_strdup("/srv/dl/é");
        g_strfreev(t->labels);
        t->labels = g_strdupv((GStrv)(const char *const[]){ "tv", "", "a,b", NULL });
        t->peers = g_strdupv((GStrv)(const char *const[]){ "127.0.0.1:6881", NULL });
        t->selection = rv_selection_new(include, exclude, TRUE, NULL);
        t->priority_overrides = g_hash_table_new(NULL, NULL);
        g_hash_table_insert(t->priority_overrides, GUINT_TO_POINTER(0), GUINT_TO_POINTER(7));
        g_hash_table_insert(t->priority_overrides, GUINT_TO_POINTER(12), GUINT_TO_POINTER(0));
        t->sequential = TRUE;
        t->user_paused = TRUE;
        t->first_last_piece = TRUE;
        t->download_limit = 1048576;
        t->upload_limit = 0;
        t->ratio_limit = 2.0;
        t->seeding_time_limit = 90;
        t->added_time = 1733500000;
        t->completed = TRUE;
        t->completed_time = 1733509999;
        t->fs_state = g_strdup("done");
        t->library_path = g_strdup("/srv/library/x");
        t->fs_overrides =
                rv_json_parse("{\"move_to\": \"/srv/\\\"lib\\\"\", \"chmod\": [1, 2.5, null, true]}", -1, FALSE, NULL);
        return t;
}

static void
test_meta_round_trip(void)
{
        g_autoptr(RvTorrent) t = make_torrent();
        g_autoptr(RvTorrent) back = rv_torrent_new(&t->hash);
        g_autoptr(JsonNode) node = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        g_autofree char *again = NULL;
        gsize len = 0;

        text = rv_torrent_meta_to_text(t, &len);
        g_assert_cmpuint(len, ==, strlen(text));
        node = rv_json_parse(text, (gssize)len, FALSE, &error);
        g_assert_no_error(error);
        g_assert_true(rv_torrent_meta_from_json(back, node, &error));
        g_assert_no_error(error);
        /* the byte that was not UTF-8 is replaced, the rest is as it was */
        g_assert_true(g_str_has_prefix(back->name, "a \"quoted\" \\ name\n\twith\x01 caf\xc3\xa9 and "));
        g_assert_true(g_utf8_validate(back->name, -1, NULL));
        g_assert_cmpstr(back->magnet, ==, t->magnet);
        g_assert_cmpstr(back->save_path, ==, t->save_path);
        g_assert_cmpstrv(back->labels, t->labels);
        g_assert_cmpstrv(back->peers, t->peers);
        g_assert_nonnull(back->selection);
        g_assert_cmpstrv(back->selection->include, t->selection->include);
        g_assert_true(back->selection->skip_fluff);
        g_assert_nonnull(back->priority_overrides);
        g_assert_cmpuint(g_hash_table_size(back->priority_overrides), ==, 2);
        g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(back->priority_overrides, GUINT_TO_POINTER(0))), ==, 7);
        g_assert_true(back->sequential && back->user_paused && back->first_last_piece && back->completed);
        g_assert_false(back->force_start || back->super_seeding || back->name_given);
        g_assert_cmpint(back->download_limit, ==, 1048576);
        g_assert_cmpint(back->upload_limit, ==, 0);
        g_assert_cmpfloat(back->ratio_limit, ==, 2.0);
        g_assert_cmpint(back->seeding_time_limit, ==, 90);
        g_assert_cmpint(back->added_time, ==, 1733500000);
        g_assert_cmpint(back->completed_time, ==, 1733509999);
        g_assert_cmpstr(back->fs_state, ==, "done");
        g_assert_null(back->fs_error);
        g_assert_cmpstr(back->library_path, ==, "/srv/library/x");
        g_assert_true(json_node_equal(back->fs_overrides, t->fs_overrides));
        /* written again, the same text: nothing is lost or changed on the way */
        g_hash_table_remove(t->priority_overrides, GUINT_TO_POINTER(12));
        g_hash_table_remove(back->priority_overrides, GUINT_TO_POINTER(12));
        g_free(text);
        text = rv_torrent_meta_to_text(t, NULL);
        again = rv_torrent_meta_to_text(back, NULL);
        g_assert_true(g_str_has_prefix(again, "{\n  \"version\" : "));
        /* the byte that is not UTF-8 was replaced on the first write already */
        g_assert_cmpstr(again, ==, text);
}

static void
test_writer_shapes(void)
{
        RvJsonWriter w;
        g_autofree char *text = NULL;
        g_autoptr(JsonNode) node = NULL;
        JsonObject *obj;

        rv_json_writer_init(&w, 0);
        rv_json_writer_begin_object(&w);
        rv_json_writer_name(&w, "empty");
        rv_json_writer_begin_object(&w);
        rv_json_writer_end_object(&w);
        rv_json_writer_name(&w, "list");
        rv_json_writer_begin_array(&w);
        rv_json_writer_int(&w, -3);
        rv_json_writer_double(&w, 0.5);
        rv_json_writer_double(&w, 3.0);
        rv_json_writer_double(&w, 1.0 / 0.0);
        rv_json_writer_begin_object(&w);
        rv_json_writer_name(&w, "k");
        rv_json_writer_strv(&w, NULL);
        rv_json_writer_end_object(&w);
        rv_json_writer_end_array(&w);
        rv_json_writer_name(&w, "s");
        rv_json_writer_string(&w, NULL);
        rv_json_writer_end_object(&w);
        text = rv_json_writer_finish(&w, NULL);
        g_assert_cmpstr(text, ==,
                        "{\n  \"empty\" : {},\n  \"list\" : [-3, 0.5, 3.0, null, {\n      \"k\" : []\n    }],\n"
                        "  \"s\" : null\n}");
        node = rv_json_parse(text, -1, FALSE, NULL);
        g_assert_nonnull(node);
        obj = json_node_get_object(node);
        /* 3.0 reads back as a double, not as an integer */
        g_assert_cmpint(json_node_get_value_type(json_array_get_element(json_object_get_array_member(obj, "list"), 2)),
                        ==, G_TYPE_DOUBLE);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/torrent/meta/round-trip", test_meta_round_trip);
        g_test_add_func("/torrent/meta/writer-shapes", test_writer_shapes);
        return g_test_run();
}
