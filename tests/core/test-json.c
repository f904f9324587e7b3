/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-json.h"

/*
 * rv_json_parse_simple either declines a text or makes of it the nodes
 * json-glib makes: compared as json-glib writes both, which shows types
 * (1 and 1.0 differ), member order and every string. TRUE when it took it
 */
static gboolean
check_same(const char *text, gboolean expect_simple)
{
        g_autoptr(JsonNode) simple = rv_json_parse_simple(text, strlen(text));
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;
        gboolean glib_ok = json_parser_load_from_data(parser, text, -1, &error);

        if (expect_simple)
                g_assert_nonnull(simple);
        if (simple == NULL)
                return FALSE;
        if (!glib_ok)
                g_error("taken by the fast way, refused by json-glib (%s): %s", error->message, text);
        {
                g_autofree char *a = json_to_string(simple, FALSE);
                g_autofree char *b = json_to_string(json_parser_get_root(parser), FALSE);
                if (g_strcmp0(a, b) != 0)
                        g_error("%s\n  fast: %s\n  json-glib: %s", text, a, b);
        }
        return TRUE;
}

static void
test_json_simple_cases(void)
{
        const char *taken[] = {
                "{}",
                "[]",
                " \t\r\n{ \"a\" : 1 , \"b\":[true,false,null,-0,0.5,-12.25,\"x\"]}\n",
                "{\"name\":\"a \\\"quoted\\\" \\\\ \\/ \\b\\f\\n\\r\\t name\",\"n\":123456789012345678}",
                "[[[[{\"deep\":[{}]}]]]]",
                NULL,
        };
        const char *declined[] = {
                "",
                "5",
                "\"top\"",
                "{\"a\":1,\"a\":2}",
                "{\"u\":\"\\u00e9\"}",
                "{\"e\":1e5}",
                "{\"big\":1234567890123456789}",
                "{\"lead\":01}",
                "{\"frac\":1.}",
                "[1,]",
                "{\"a\":1,}",
                "[tru]",
                "[nul]",
                "{\"utf8\":\"\xc3\xa9\"}",
                "{\"ctl\":\"a\tb\"}",
                "[1] x",
                "{\"a\" 1}",
                "[/* comment */ 1]",
                NULL,
        };

        for (guint i = 0; taken[i] != NULL; i++)
                check_same(taken[i], TRUE);
        for (guint i = 0; declined[i] != NULL; i++) {
                g_autoptr(JsonNode) node = rv_json_parse_simple(declined[i], strlen(declined[i]));
                if (node != NULL)
                        g_error("the fast way took %s", declined[i]);
        }
}

/* random texts from JSON's pieces and some that are not: whatever the fast way takes, json-glib agrees */
static void
test_json_simple_random(void)
{
        static const char *const pieces[] = {
                "{",
                "}",
                "[",
                "]",
                ",",
                ":",
                " ",
                "\n",
                "\r",
                "\t",
                "\"a\"",
                "\"b\"",
                "\"k\\n\"",
                "\"\\u0041\"",
                "\"x\\\"y\"",
                "\"\\/\"",
                "0",
                "-0",
                "7",
                "-42",
                "3.25",
                "-0.5",
                "1e3",
                "01",
                "1.",
                "true",
                "false",
                "null",
                "nul",
                "\"\"",
                "\"\xc3\xa9\"",
                "9223372036854775807",
                "123456789012345678",
                "0.1",
        };
        g_autoptr(GRand) rand = g_rand_new_with_seed(29);
        guint taken = 0;

        for (guint round = 0; round < 200000; round++) {
                g_autoptr(GString) text = g_string_new(g_rand_boolean(rand) ? "{" : "[");
                guint n = (guint)g_rand_int_range(rand, 0, 14);
                for (guint i = 0; i < n; i++)
                        g_string_append(text, pieces[g_rand_int_range(rand, 0, G_N_ELEMENTS(pieces))]);
                g_string_append(text, text->str[0] == '{' ? "}" : "]");
                if (check_same(text->str, FALSE))
                        taken++;
        }
        /* the comparison above ran on texts the fast way takes, not only on ones it declines */
        g_assert_cmpuint(taken, >, 1000);
}

/* what rv_json_parse answers does not depend on the way it took: values, errors, sealing */
static void
test_json_parse_both_ways(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) fast = rv_json_parse("{\"a\":[1,2.5,\"s\"]}", -1, TRUE, &error);
        g_autoptr(JsonNode) slow = rv_json_parse("{\"a\":[1,2.5,\"\\u0073\"]}", -1, TRUE, &error);
        JsonNode *bad;

        g_assert_no_error(error);
        g_assert_true(json_node_is_immutable(fast));
        g_assert_true(json_node_is_immutable(
                json_array_get_element(json_object_get_array_member(json_node_get_object(fast), "a"), 0)));
        g_assert_true(json_node_equal(fast, slow));
        bad = rv_json_parse("{\"a\":}", -1, FALSE, &error);
        g_assert_null(bad);
        g_assert_error(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/json/simple/cases", test_json_simple_cases);
        g_test_add_func("/json/simple/random", test_json_simple_random);
        g_test_add_func("/json/parse/both-ways", test_json_parse_both_ways);
        return g_test_run();
}
