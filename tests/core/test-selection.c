/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-error.h"
#include "rv-selection.h"

static void
test_glob_basics(void)
{
        g_assert_true(rv_glob_match("*.mkv", "Show/Episode.MKV"));
        g_assert_true(rv_glob_match("*.mkv", "a.mkv"));
        g_assert_false(rv_glob_match("*.mkv", "a.mkv.part"));
        g_assert_true(rv_glob_match("ep?.txt", "dir/ep1.txt"));
        g_assert_false(rv_glob_match("ep?.txt", "dir/ep10.txt"));
        g_assert_true(rv_glob_match("[ab]*.nfo", "x/b-info.nfo"));
        g_assert_false(rv_glob_match("[!ab]*.nfo", "x/b-info.nfo"));
        g_assert_true(rv_glob_match("[a-c]x", "Bx"));
        g_assert_true(rv_glob_match("\\*lit", "*lit"));
        g_assert_false(rv_glob_match("\\*lit", "xlit"));
}

static void
test_glob_paths(void)
{
        /* '*' stays within a segment, '**' crosses them */
        g_assert_false(rv_glob_match("Show/*.mkv", "Show/Season1/e.mkv"));
        g_assert_true(rv_glob_match("Show/**/*.mkv", "Show/Season1/e.mkv"));
        g_assert_true(rv_glob_match("Show/**/*.mkv", "Show/e.mkv"));
        g_assert_true(rv_glob_match("**/sample/**", "Movie/Sample/s.mkv"));
        g_assert_false(rv_glob_match("**/sample/**", "Movie/samples.mkv"));
        /* unanchored globs with '/' match at any depth, anchored ones only at the root */
        g_assert_true(rv_glob_match("Extras/*", "Pack/Extras/a.jpg"));
        g_assert_false(rv_glob_match("/Extras/*", "Pack/Extras/a.jpg"));
        g_assert_true(rv_glob_match("/Pack/Extras/*", "Pack/Extras/a.jpg"));
        g_assert_true(rv_glob_match("**", "a/b/c"));
}

static void
test_glob_hostile(void)
{
        g_autoptr(GString) path = g_string_new(NULL);

        /* exponential for a naive matcher, polynomial here */
        for (guint i = 0; i < 200; i++)
                g_string_append(path, "a/");
        g_string_append(path, "b");
        g_assert_false(rv_glob_match("**/a*a*a*a*a*a*a*a*a*a*/**/c", path->str));
}

/*
 * the longest glob a client may send, of stars, on a long file name: each
 * star used to try every later offset again for every offset it was reached
 * at (glob length times path length squared, minutes on the main loop);
 * found by tests/fuzz/fuzz-selection
 */
static void
test_glob_hostile_long(void)
{
        g_autoptr(GString) glob = g_string_new(NULL);
        g_autoptr(GString) path = g_string_new("dir/");

        while (glob->len + 2 < RV_SELECTION_MAX_GLOB_LEN)
                g_string_append(glob, "*a");
        g_string_append(glob, "b");
        g_assert_true(rv_glob_validate(glob->str, NULL));
        for (guint i = 0; i < 4096; i++)
                g_string_append_c(path, 'a');
        g_assert_false(rv_glob_match(glob->str, path->str));
        g_string_prepend(glob, "**/");
        g_assert_false(rv_glob_match(glob->str, path->str));
        g_string_append_c(path, 'b');
        g_assert_true(rv_glob_match(glob->str, path->str));
}

static void
test_glob_validate(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *long_glob = g_strnfill(RV_SELECTION_MAX_GLOB_LEN + 1, 'a');

        g_assert_true(rv_glob_validate("*.mkv", NULL));
        g_assert_false(rv_glob_validate("[abc", &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "unclosed"));
        g_clear_error(&error);
        g_assert_false(rv_glob_validate("abc]", &error));
        g_clear_error(&error);
        g_assert_false(rv_glob_validate("", &error));
        g_clear_error(&error);
        g_assert_false(rv_glob_validate("a\\", &error));
        g_clear_error(&error);
        g_assert_false(rv_glob_validate("***", &error));
        g_clear_error(&error);
        g_assert_false(rv_glob_validate(long_glob, &error));
        g_clear_error(&error);
        g_assert_false(rv_glob_validate("\xff\xfe", &error));
}

static void
test_selection_rules(void)
{
        const char *include[] = { "*.mkv", "*.srt", NULL };
        const char *exclude[] = { "*extra*", RV_SELECTION_SKIP_FLUFF_TOKEN, NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(RvSelection) sel = rv_selection_new(include, exclude, FALSE, &error);

        g_assert_no_error(error);
        g_assert_true(sel->skip_fluff);
        g_assert_cmpuint(g_strv_length(sel->exclude), ==, 1);
        g_assert_true(rv_selection_wants(sel, "Movie/movie.mkv"));
        g_assert_true(rv_selection_wants(sel, "Movie/movie.en.srt"));
        /* a non-empty include list deselects what it does not name */
        g_assert_false(rv_selection_wants(sel, "Movie/readme.txt"));
        g_assert_false(rv_selection_wants(sel, "Movie/movie-extra.mkv"));
        g_assert_false(rv_selection_wants(sel, "Movie/Sample/movie.mkv"));
        g_assert_false(rv_selection_wants(sel, "Movie/movie-sample.mkv"));
        g_assert_true(rv_selection_wants(NULL, "anything"));
}

static void
test_selection_errors(void)
{
        const char *bad[] = { "ok", "[broken", NULL };
        const char *token_in_include[] = { RV_SELECTION_SKIP_FLUFF_TOKEN, NULL };
        g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) error = NULL;
        RvSelection *sel;

        sel = rv_selection_new(NULL, bad, FALSE, &error);
        g_assert_null(sel);
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "exclude[1]"));
        g_clear_error(&error);

        sel = rv_selection_new(token_in_include, NULL, FALSE, &error);
        g_assert_null(sel);
        g_assert_nonnull(strstr(error->message, "include"));
        g_clear_error(&error);

        for (guint i = 0; i <= RV_SELECTION_MAX_GLOBS; i++)
                g_ptr_array_add(many, g_strdup("*.x"));
        g_ptr_array_add(many, NULL);
        sel = rv_selection_new((const char *const *)many->pdata, NULL, FALSE, &error);
        g_assert_null(sel);
        g_assert_nonnull(strstr(error->message, "at most"));
}

static void
test_selection_json(void)
{
        const char *include[] = { "*.mkv", NULL };
        g_autoptr(RvSelection) sel = rv_selection_new(include, NULL, TRUE, NULL);
        g_autoptr(JsonNode) node = rv_selection_to_json(sel);
        g_autoptr(RvSelection) back = rv_selection_from_json(node, NULL);
        g_autoptr(JsonNode) bad = json_from_string("{\"include\": [1]}", NULL);
        g_autoptr(GError) error = NULL;

        g_assert_nonnull(back);
        g_assert_true(rv_selection_equal(sel, back));
        g_assert_null(rv_selection_from_json(bad, &error));
        g_assert_nonnull(strstr(error->message, "include[0]"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/core/selection/glob-basics", test_glob_basics);
        g_test_add_func("/core/selection/glob-paths", test_glob_paths);
        g_test_add_func("/core/selection/glob-hostile", test_glob_hostile);
        g_test_add_func("/core/selection/glob-hostile-long", test_glob_hostile_long);
        g_test_add_func("/core/selection/glob-validate", test_glob_validate);
        g_test_add_func("/core/selection/rules", test_selection_rules);
        g_test_add_func("/core/selection/errors", test_selection_errors);
        g_test_add_func("/core/selection/json", test_selection_json);
        return g_test_run();
}
