/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <locale.h>

#include "rv-cli.h"
#include "rv-settings.h"

/* the parts of revaerctl that need no bus: argument parsing and formatting */

static void
test_cli_parse_rate(void)
{
        static const struct {
                const char *text;
                gint64 value;
        } good[] = {
                { "0", 0 },
                { "unlimited", 0 },
                { "1000", 1000 },
                { "500K", 500 * 1024 },
                { "500k", 500 * 1024 },
                { "5M", 5 * 1024 * 1024 },
                { "5MiB", 5 * 1024 * 1024 },
                { "5 MB/s", 5 * 1024 * 1024 },
                { "1.5M", 3 * 512 * 1024 },
                { "2G", G_GINT64_CONSTANT(2) * 1024 * 1024 * 1024 },
        };
        static const char *const bad[] = { "", "-1", "5X", "inf", "nan", "M", "0x10", "1e400", "5 M B", NULL };

        for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(GError) error = NULL;
                gint64 value = -1;
                g_assert_true(rv_cli_parse_rate(good[i].text, &value, &error));
                g_assert_no_error(error);
                g_assert_cmpint(value, ==, good[i].value);
        }
        for (guint i = 0; bad[i] != NULL; i++) {
                g_autoptr(GError) error = NULL;
                gint64 value = -1;
                g_assert_false(rv_cli_parse_rate(bad[i], &value, &error));
                g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
                /* out-parameters are not written on failure */
                g_assert_cmpint(value, ==, -1);
        }
}

static void
test_cli_parse_bool(void)
{
        g_autoptr(GError) error = NULL;
        gboolean value = FALSE;

        g_assert_true(rv_cli_parse_bool("ON", &value, NULL));
        g_assert_true(value);
        g_assert_true(rv_cli_parse_bool("off", &value, NULL));
        g_assert_false(value);
        g_assert_true(rv_cli_parse_bool("yes", &value, NULL));
        g_assert_true(value);
        g_assert_false(rv_cli_parse_bool("maybe", &value, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
}

static void
test_cli_parse_priority(void)
{
        g_autoptr(GArray) indexes = g_array_new(FALSE, FALSE, sizeof(guint32));
        g_autoptr(GByteArray) prios = g_byte_array_new();
        static const char *const bad[] = { "3", "=high", "3=urgent", "3=8", "a=high", "4-2=low", "1,,2=low", NULL };
        guint8 p = 0;

        g_assert_true(rv_cli_parse_priority("skip", &p, NULL));
        g_assert_cmpuint(p, ==, 0);
        g_assert_true(rv_cli_parse_priority("HIGH", &p, NULL));
        g_assert_cmpuint(p, ==, 7);
        g_assert_true(rv_cli_parse_priority("5", &p, NULL));
        g_assert_cmpuint(p, ==, 5);

        g_assert_true(rv_cli_parse_priority_spec("0,2-4=skip", indexes, prios, NULL));
        g_assert_true(rv_cli_parse_priority_spec("7=normal", indexes, prios, NULL));
        g_assert_cmpuint(indexes->len, ==, 5);
        g_assert_cmpuint(g_array_index(indexes, guint32, 0), ==, 0);
        g_assert_cmpuint(g_array_index(indexes, guint32, 1), ==, 2);
        g_assert_cmpuint(g_array_index(indexes, guint32, 3), ==, 4);
        g_assert_cmpuint(g_array_index(indexes, guint32, 4), ==, 7);
        g_assert_cmpuint(prios->data[0], ==, 0);
        g_assert_cmpuint(prios->data[4], ==, 4);
        for (guint i = 0; bad[i] != NULL; i++) {
                g_autoptr(GError) error = NULL;
                g_assert_false(rv_cli_parse_priority_spec(bad[i], indexes, prios, &error));
                g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        }
}

static void
test_cli_check_args(void)
{
        char *none[] = { NULL };
        char *two[] = { (char *)"a", (char *)"b", NULL };
        g_autoptr(GError) error = NULL;

        g_assert_true(rv_cli_check_args(none, 0, 0, NULL));
        g_assert_true(rv_cli_check_args(two, 1, 2, NULL));
        g_assert_false(rv_cli_check_args(none, 1, 1, &error));
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_false(rv_cli_check_args(two, 1, 1, &error));
        g_assert_nonnull(strstr(error->message, "'b'"));
}

static void
test_cli_truncate(void)
{
        g_autofree char *same = rv_cli_truncate("short", 10, FALSE);
        g_autofree char *head = rv_cli_truncate("a-rather-long-name.iso", 10, FALSE);
        g_autofree char *tail = rv_cli_truncate("folder/sub/file.mkv", 10, TRUE);
        g_autofree char *wide = rv_cli_truncate("日本語のファイル名", 7, FALSE);
        g_autofree char *unlimited = rv_cli_truncate("anything at all", 0, FALSE);

        g_assert_cmpstr(same, ==, "short");
        g_assert_cmpstr(head, ==, "a-rather-…");
        g_assert_cmpstr(tail, ==, "…/file.mkv");
        /* wide characters take two columns each */
        g_assert_cmpstr(wide, ==, "日本語…");
        g_assert_cmpuint(rv_cli_display_width(wide), ==, 7);
        g_assert_cmpstr(unlimited, ==, "anything at all");
}

static void
test_cli_format(void)
{
        static const struct {
                gint64 seconds;
                const char *text;
        } etas[] = {
                { -1, "-" }, { 0, "0s" }, { 59, "59s" }, { 61, "1m 01s" }, { 3725, "1h 02m" }, { 90061, "1d 01h" },
        };
        g_autofree char *half = rv_cli_format_percent(0.5);
        g_autofree char *almost = rv_cli_format_percent(0.99999);
        g_autofree char *over = rv_cli_format_percent(1.5);
        g_autofree char *size = rv_cli_format_size(5 * 1024 * 1024);
        g_autofree char *rate = rv_cli_format_rate(1536);
        g_autofree char *zero = rv_cli_format_rate(0);
        g_autofree char *small = rv_cli_format_size(1023);
        g_autofree char *unlimited = rv_cli_format_limit(0);
        g_autofree char *key = rv_cli_json_key("DownloadLimit");
        g_autofree char *key2 = rv_cli_json_key("Eta");
        g_autofree char *never = rv_cli_format_time(0);

        for (guint i = 0; i < G_N_ELEMENTS(etas); i++) {
                g_autofree char *text = rv_cli_format_eta(etas[i].seconds);
                g_assert_cmpstr(text, ==, etas[i].text);
        }
        g_assert_cmpstr(half, ==, "50.0%");
        /* never 100% before it is done */
        g_assert_cmpstr(almost, ==, "99.9%");
        g_assert_cmpstr(over, ==, "100.0%");
        g_assert_cmpstr(size, ==, "5.0 MiB");
        g_assert_cmpstr(rate, ==, "1.5 KiB/s");
        g_assert_cmpstr(zero, ==, "0 B/s");
        g_assert_cmpstr(small, ==, "1023 B");
        g_assert_cmpstr(unlimited, ==, "unlimited");
        g_assert_cmpstr(key, ==, "download_limit");
        g_assert_cmpstr(key2, ==, "eta");
        g_assert_cmpstr(never, ==, "never");
        g_assert_cmpstr(rv_cli_priority_to_string(7), ==, "high");
        g_assert_null(rv_cli_priority_to_string(3));
}

static void
test_cli_table(void)
{
        g_autoptr(RvCliTable) table = rv_cli_table_new(3);
        g_autofree char *text = NULL;
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);

        rv_cli_table_set_column(table, 0, "ID", RV_CLI_ALIGN_LEFT, FALSE, FALSE);
        rv_cli_table_set_column(table, 1, "NAME", RV_CLI_ALIGN_LEFT, TRUE, FALSE);
        rv_cli_table_set_column(table, 2, "SIZE", RV_CLI_ALIGN_RIGHT, FALSE, FALSE);
        rv_cli_table_add_row(table, g_strdup("ab12"), g_strdup("a-very-long-torrent-name-that-goes-on"),
                             g_strdup("1 B"));
        rv_cli_table_add_row(table, g_strdup("cd34"), g_strdup("short"), g_strdup("10.0 MiB"));
        /* an empty last cell leaves no trailing blanks */
        rv_cli_table_add_row(table, g_strdup("ef56"), g_strdup(""), g_strdup(""));
        rv_cli_table_print(table, out, 30);
        fclose(out);
        text = buf;
        g_assert_cmpstr(text, ==,
                        "ID    NAME                SIZE\n"
                        "ab12  a-very-long-t…       1 B\n"
                        "cd34  short           10.0 MiB\n"
                        "ef56\n");
}

static void
test_cli_setting_key(void)
{
        static const char *const bad[] = {
                "",           "engine",      "engine.",      ".dht",          "/engine",     "/engine/",
                "engine/dht", "/engine.dht", "engine.dht.x", "/engine/dht/x", "en gine.dht", NULL
        };
        g_autofree char *section = NULL;
        g_autofree char *name = NULL;

        g_assert_true(rv_cli_parse_setting_key("engine.download_limit", &section, &name, NULL));
        g_assert_cmpstr(section, ==, "engine");
        g_assert_cmpstr(name, ==, "download_limit");
        g_clear_pointer(&section, g_free);
        g_clear_pointer(&name, g_free);
        g_assert_true(rv_cli_parse_setting_key("/fs/MoveMode", &section, &name, NULL));
        g_assert_cmpstr(section, ==, "fs");
        g_assert_cmpstr(name, ==, "MoveMode");
        for (guint i = 0; bad[i] != NULL; i++) {
                g_autoptr(GError) error = NULL;
                char *s = NULL;
                char *n = NULL;
                g_assert_false(rv_cli_parse_setting_key(bad[i], &s, &n, &error));
                g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
                g_assert_null(s);
                g_assert_null(n);
        }
}

static GVariant *
parse_value(const char *text, const char *type, gboolean rate)
{
        g_autoptr(GError) error = NULL;
        GVariant *value = rv_cli_parse_setting_value(text, G_VARIANT_TYPE(type), rate, "/x/y", &error);

        g_assert_no_error(error);
        g_assert_nonnull(value);
        g_assert_cmpstr(g_variant_get_type_string(value), ==, type);
        return value;
}

static void
parse_value_fails(const char *text, const char *type, gboolean rate)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) value = rv_cli_parse_setting_value(text, G_VARIANT_TYPE(type), rate, "/x/y", &error);

        g_assert_null(value);
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
        /* the error names the setting */
        g_assert_true(g_str_has_prefix(error->message, "/x/y: "));
}

static void
test_cli_setting_value(void)
{
        g_autoptr(GVariant) yes = parse_value("yes", "b", FALSE);
        g_autoptr(GVariant) off = parse_value("OFF", "b", FALSE);
        g_autoptr(GVariant) minus = parse_value("-1", "x", FALSE);
        g_autoptr(GVariant) rate = parse_value("5M", "x", TRUE);
        g_autoptr(GVariant) plain_rate = parse_value("1000", "x", TRUE);
        g_autoptr(GVariant) unlimited = parse_value("unlimited", "x", TRUE);
        g_autoptr(GVariant) ratio = parse_value("1.5", "d", FALSE);
        g_autoptr(GVariant) text = parse_value("revaer two", "s", FALSE);
        g_autoptr(GVariant) null = parse_value("null", "s", FALSE);
        g_autoptr(GVariant) empty = parse_value("", "s", FALSE);
        g_autoptr(GVariant) list = parse_value("mon, tue,,sun", "as", FALSE);
        g_autoptr(GVariant) none = parse_value("", "as", FALSE);
        g_autoptr(GVariant) u = parse_value("42", "u", FALSE);

        g_assert_true(g_variant_get_boolean(yes));
        g_assert_false(g_variant_get_boolean(off));
        g_assert_cmpint(g_variant_get_int64(minus), ==, -1);
        g_assert_cmpint(g_variant_get_int64(rate), ==, 5 * 1024 * 1024);
        g_assert_cmpint(g_variant_get_int64(plain_rate), ==, 1000);
        g_assert_cmpint(g_variant_get_int64(unlimited), ==, 0);
        g_assert_cmpfloat(g_variant_get_double(ratio), ==, 1.5);
        g_assert_cmpstr(g_variant_get_string(text, NULL), ==, "revaer two");
        /* the service clears a nullable setting on "" */
        g_assert_cmpstr(g_variant_get_string(null, NULL), ==, "");
        g_assert_cmpstr(g_variant_get_string(empty, NULL), ==, "");
        {
                g_autofree const char **strv = g_variant_get_strv(list, NULL);
                g_assert_cmpuint(g_strv_length((char **)strv), ==, 3);
                g_assert_cmpstr(strv[1], ==, "tue");
                g_assert_cmpstr(strv[2], ==, "sun");
        }
        g_assert_cmpuint(g_variant_n_children(none), ==, 0);
        g_assert_cmpuint(g_variant_get_uint32(u), ==, 42);

        parse_value_fails("maybe", "b", FALSE);
        parse_value_fails("5M", "x", FALSE);
        parse_value_fails("1.5", "x", FALSE);
        parse_value_fails("", "x", FALSE);
        parse_value_fails("5X", "x", TRUE);
        parse_value_fails("-1", "u", FALSE);
        parse_value_fails("4294967296", "u", FALSE);
        parse_value_fails("inf", "d", FALSE);
        parse_value_fails("nan", "d", FALSE);
        parse_value_fails("0x10", "d", FALSE);
        parse_value_fails("1,5", "d", FALSE);
        parse_value_fails("x", "a{sv}", FALSE);
}

static void
test_cli_setting_format(void)
{
        g_autoptr(GVariant) b = g_variant_ref_sink(g_variant_new_boolean(TRUE));
        g_autoptr(GVariant) x = g_variant_ref_sink(g_variant_new_int64(-1));
        g_autoptr(GVariant) d = g_variant_ref_sink(g_variant_new_double(0.1));
        g_autoptr(GVariant) as = g_variant_ref_sink(g_variant_new_strv((const char *[]){ "a", "b", NULL }, -1));
        g_autofree char *b_text = rv_cli_format_setting(b);
        g_autofree char *x_text = rv_cli_format_setting(x);
        g_autofree char *d_text = rv_cli_format_setting(d);
        g_autofree char *as_text = rv_cli_format_setting(as);

        g_assert_cmpstr(b_text, ==, "true");
        g_assert_cmpstr(x_text, ==, "-1");
        g_assert_cmpstr(d_text, ==, "0.1");
        g_assert_cmpstr(as_text, ==, "a,b");
        /* what config show prints, config set reads back */
        {
                g_autoptr(GVariant) again = parse_value(as_text, "as", FALSE);
                g_assert_true(g_variant_equal(again, as));
        }
}

/*
 * config show and get name a setting by its property's snake_case form;
 * that must be the daemon's field name for every setting there is
 */
static void
test_cli_setting_names(void)
{
        for (const RvSettingDesc *d = rv_settings_fields(); d->name != NULL; d++) {
                g_autofree char *name = rv_cli_json_key(d->property);
                g_assert_cmpstr(name, ==, d->name);
        }
}

int
main(int argc, char **argv)
{
        setlocale(LC_ALL, "");
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/cli/parse-rate", test_cli_parse_rate);
        g_test_add_func("/cli/parse-bool", test_cli_parse_bool);
        g_test_add_func("/cli/parse-priority", test_cli_parse_priority);
        g_test_add_func("/cli/check-args", test_cli_check_args);
        g_test_add_func("/cli/truncate", test_cli_truncate);
        g_test_add_func("/cli/format", test_cli_format);
        g_test_add_func("/cli/table", test_cli_table);
        g_test_add_func("/cli/setting-key", test_cli_setting_key);
        g_test_add_func("/cli/setting-value", test_cli_setting_value);
        g_test_add_func("/cli/setting-format", test_cli_setting_format);
        g_test_add_func("/cli/setting-names", test_cli_setting_names);
        return g_test_run();
}
