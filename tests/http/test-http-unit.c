/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-http-private.h"
#include "rv-json.h"

/* the route table, docs/openapi.yaml, routing and the problem text, without a daemon */

static const char *const methods[] = { "get", "post", "put", "patch", "delete", NULL };

/* "GET /v1/torrents" for every operation docs/openapi.yaml describes */
static GPtrArray *
openapi_operations(void)
{
        g_autofree char *path = g_build_filename(g_getenv("REVAER_SOURCE_ROOT"), "docs", "openapi.yaml", NULL);
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;
        GPtrArray *ops = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *current = NULL;
        gboolean in_paths = FALSE;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i] != NULL; i++) {
                const char *l = lines[i];
                if (l[0] != ' ' && l[0] != '#' && l[0] != '\0')
                        in_paths = g_str_equal(l, "paths:");
                if (!in_paths)
                        continue;
                if (g_str_has_prefix(l, "  /") && g_str_has_suffix(l, ":")) {
                        g_free(current);
                        current = g_strndup(l + 2, strlen(l) - 3);
                        continue;
                }
                for (guint m = 0; methods[m] != NULL && current != NULL; m++) {
                        g_autofree char *key = g_strdup_printf("    %s:", methods[m]);
                        if (g_str_equal(l, key)) {
                                g_autofree char *upper = g_ascii_strup(methods[m], -1);
                                g_ptr_array_add(ops, g_strdup_printf("%s %s", upper, current));
                        }
                }
        }
        return ops;
}

static gboolean
contains(GPtrArray *list, const char *item)
{
        for (guint i = 0; i < list->len; i++) {
                if (g_str_equal(g_ptr_array_index(list, i), item))
                        return TRUE;
        }
        return FALSE;
}

/* the qBittorrent WebAPI's routes: documented in docs/qbittorrent.md, not in the OpenAPI of /v1 */
static gboolean
is_qbt(const RvHttpRoute *r)
{
        return r->auth == RV_HTTP_AUTH_QBT;
}

/* every route of the table is in docs/openapi.yaml, and nothing else is */
static void
test_openapi_matches_routes(void)
{
        g_autoptr(GPtrArray) documented = openapi_operations();
        g_autoptr(GPtrArray) routes = g_ptr_array_new_with_free_func(g_free);

        for (const RvHttpRoute *r = rv_http_routes(); r->method != NULL; r++)
                if (!is_qbt(r))
                        g_ptr_array_add(routes, g_strdup_printf("%s %s", r->method, r->pattern));
        for (guint i = 0; i < routes->len; i++) {
                if (!contains(documented, g_ptr_array_index(routes, i)))
                        g_error("route %s is not in docs/openapi.yaml", (char *)g_ptr_array_index(routes, i));
        }
        for (guint i = 0; i < documented->len; i++) {
                if (!contains(routes, g_ptr_array_index(documented, i)))
                        g_error("docs/openapi.yaml has %s, which is no route",
                                (char *)g_ptr_array_index(documented, i));
        }
        g_assert_cmpuint(routes->len, ==, documented->len);
}

/* each route is a core operation; only reads need no more than read; only health and setup go without a key */
static void
test_route_table(void)
{
        for (const RvHttpRoute *r = rv_http_routes(); r->method != NULL; r++) {
                RvScope scope = rv_op_scope(r->op);
                if (is_qbt(r))
                        continue;
                g_assert_nonnull(rv_op_to_string(r->op));
                g_assert_nonnull(r->handler);
                g_assert_nonnull(r->summary);
                if (!g_str_equal(r->method, "GET"))
                        g_assert_cmpint(scope, >=, RV_SCOPE_MANAGE);
                if (r->auth != RV_HTTP_AUTH_KEY)
                        g_assert_true(r->op == RV_OP_HEALTH || r->op == RV_OP_SETUP_START ||
                                      r->op == RV_OP_SETUP_COMPLETE);
                if (g_str_equal(r->method, "GET"))
                        g_assert_cmpint(r->body, ==, RV_HTTP_BODY_NONE);
        }
}

/*
 * the WebAPI's routes: all under /api/v2, each named in docs/qbittorrent.md;
 * reads answer GET and a POSTed form with the same handler and read scope,
 * every other route is a POST that needs at least manage (the login aside)
 */
static void
test_qbt_routes(void)
{
        g_autofree char *path = g_build_filename(g_getenv("REVAER_SOURCE_ROOT"), "docs", "qbittorrent.md", NULL);
        g_autofree char *doc = NULL;
        guint n = 0;

        g_assert_true(g_file_get_contents(path, &doc, NULL, NULL));
        for (const RvHttpRoute *r = rv_http_routes(); r->method != NULL; r++) {
                const char *name;
                g_autofree char *quoted = NULL;
                if (!is_qbt(r))
                        continue;
                n++;
                g_assert_true(g_str_has_prefix(r->pattern, "/api/v2/"));
                g_assert_nonnull(r->handler);
                g_assert_null(strchr(r->pattern, '{'));
                name = strrchr(r->pattern, '/') + 1;
                quoted = g_strdup_printf("`%s`", name);
                if (strstr(doc, quoted) == NULL && strstr(doc, r->pattern + strlen("/api/v2/")) == NULL)
                        g_error("%s is not in docs/qbittorrent.md", r->pattern);
                if (g_str_equal(r->method, "GET")) {
                        const RvHttpRoute *post = r + 1;
                        g_assert_cmpstr(post->method, ==, "POST");
                        g_assert_cmpstr(post->pattern, ==, r->pattern);
                        g_assert_true(post->handler == r->handler);
                        g_assert_cmpint(post->body, ==, RV_HTTP_BODY_FORM);
                        g_assert_cmpint(r->body, ==, RV_HTTP_BODY_NONE);
                        g_assert_cmpint(rv_op_scope(r->op), <=, RV_SCOPE_READ);
                        r++;
                        n++;
                } else if (r->op != RV_OP_LOGIN) {
                        g_assert_cmpstr(r->method, ==, "POST");
                        g_assert_cmpint(rv_op_scope(r->op), >=, RV_SCOPE_MANAGE);
                }
        }
        g_assert_cmpuint(n, >=, 50);
        /* an unknown endpoint under /api/v2 is no route (404) */
        g_assert_null(rv_http_route_match("GET", "/api/v2/torrents/frobnicate", NULL, NULL));
        g_assert_nonnull(rv_http_route_match("POST", "/api/v2/torrents/info", NULL, NULL));
}

static void
test_route_match(void)
{
        char *params[2] = { NULL, NULL };
        g_autofree char *allow = NULL;
        const RvHttpRoute *r;

        r = rv_http_route_match("POST", "/v1/torrents/pause", params, &allow);
        g_assert_nonnull(r);
        g_assert_cmpint(r->op, ==, RV_OP_PAUSE_ALL);
        g_assert_null(params[0]);
        r = rv_http_route_match("POST", "/v1/torrents/abc/pause", params, &allow);
        g_assert_cmpint(r->op, ==, RV_OP_PAUSE);
        g_assert_cmpstr(params[0], ==, "abc");
        g_clear_pointer(&params[0], g_free);
        r = rv_http_route_match("HEAD", "/v1/torrents/abc", params, &allow);
        g_assert_cmpint(r->op, ==, RV_OP_GET);
        g_clear_pointer(&params[0], g_free);
        r = rv_http_route_match("PUT", "/v1/torrents", params, &allow);
        g_assert_null(r);
        g_assert_cmpstr(allow, ==, "GET, HEAD, POST");
        g_clear_pointer(&allow, g_free);
        r = rv_http_route_match("GET", "/v1/torrents/", params, &allow);
        g_assert_null(r);
        g_assert_null(allow);
        r = rv_http_route_match("GET", "/v1/settings/engine/history", params, &allow);
        g_assert_cmpint(r->op, ==, RV_OP_SETTINGS_HISTORY);
        g_assert_cmpstr(params[0], ==, "engine");
        g_clear_pointer(&params[0], g_free);
}

static void
test_problem_text(void)
{
        g_autofree char *text =
                rv_http_problem_text(400, "bad-request", "label: \"x\"\n\x01", "label", "/v1/keys", "r1");
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonObject *obj;

        g_assert_true(json_parser_load_from_data(parser, text, -1, NULL));
        obj = json_node_get_object(json_parser_get_root(parser));
        g_assert_cmpstr(json_object_get_string_member(obj, "type"), ==, "https://revaer.dev/problems/bad-request");
        g_assert_cmpstr(json_object_get_string_member(obj, "title"), ==, "Invalid request");
        g_assert_cmpint(json_object_get_int_member(obj, "status"), ==, 400);
        g_assert_cmpstr(json_object_get_string_member(obj, "detail"), ==, "label: \"x\"\n\x01");
        g_assert_cmpstr(json_object_get_string_member(obj, "field"), ==, "label");
        g_assert_cmpstr(json_object_get_string_member(obj, "instance"), ==, "/v1/keys");
        /* every slug of the one error table has a title */
        for (guint code = 0; code < RV_ERROR_LAST; code++)
                g_assert_cmpstr(rv_http_problem_title(rv_error_to_problem_slug(code)), !=, "Error");
}

static void
test_error_field(void)
{
        g_autofree char *a = rv_http_error_field("save_path: must be absolute");
        g_autofree char *b = rv_http_error_field("/engine/download_limit: -5 is out of range");
        g_autofree char *c = rv_http_error_field("labels[1]: expected a string");
        g_autofree char *d = rv_http_error_field("torrent 123 is gone: no");
        g_autofree char *e = rv_http_error_field("no colon here");

        g_assert_cmpstr(a, ==, "save_path");
        g_assert_cmpstr(b, ==, "/engine/download_limit");
        g_assert_cmpstr(c, ==, "labels[1]");
        g_assert_null(d);
        g_assert_null(e);
}

static void
test_json_numbers(void)
{
        g_autoptr(GString) out = g_string_new(NULL);

        rv_json_append_int(out, 0);
        g_string_append_c(out, ' ');
        rv_json_append_int(out, -1);
        g_string_append_c(out, ' ');
        rv_json_append_int(out, 1234567890123);
        g_string_append_c(out, ' ');
        rv_json_append_int(out, G_MININT64);
        g_string_append_c(out, ' ');
        rv_json_append_string(out, "a\"b\\c\x1f d\u00e9");
        g_assert_cmpstr(out->str, ==, "0 -1 1234567890123 -9223372036854775808 \"a\\\"b\\\\c\\u001f d\u00e9\"");
}

static void
test_json_depth(void)
{
        const char *ok = "{\"a\": [1, {\"b\": \"[[[[[[\"}]}";
        g_autofree char *deep = g_strnfill(40, '[');

        g_assert_false(rv_http_json_too_deep(ok, strlen(ok), 3));
        g_assert_true(rv_http_json_too_deep(ok, strlen(ok), 2));
        g_assert_true(rv_http_json_too_deep(deep, strlen(deep), 32));
        g_assert_false(rv_http_json_too_deep("\"\\\"[[[[\"", 8, 1));
}

/* one JSON value and nothing after it: json-glib alone takes "{}{}" as its first value (and leaks the second) */
static void
test_json_one_value(void)
{
        const char *ok[] = { "{\"a\": 1}", " [1, {\"b\": \"}]\"}] \n", "\"x\\\"\"", "12", "null", NULL };
        const char *bad[] = { "{\"a\": 1}{\"b\": 2}", "[1] 2", "12 13", "\"a\"\"b\"", "{}x", "", "   ", NULL };
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) body = NULL;

        for (guint i = 0; ok[i] != NULL; i++) {
                g_autoptr(JsonNode) node = rv_json_parse(ok[i], -1, i % 2 == 0, &error);
                g_assert_no_error(error);
                g_assert_nonnull(node);
        }
        for (guint i = 0; bad[i] != NULL; i++) {
                g_autoptr(JsonNode) node = rv_json_parse(bad[i], -1, FALSE, &error);
                g_assert_null(node);
                g_assert_error(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE);
                g_clear_error(&error);
        }
        body = rv_http_json_body_parse("application/json", "{}{}", 4, &error);
        g_assert_null(body);
        g_assert_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT);
}

/* Last-Event-ID: decimal digits and nothing else (GLib's parser alone took a leading vertical tab) */
static void
test_event_id(void)
{
        const char *bad[] = { "", "\v1", " 1", "1 ", "+1", "-1", "0x10", "18446744073709551616", NULL };
        guint64 id = 0;

        g_assert_true(rv_http_event_id_parse("42", &id));
        g_assert_cmpuint(id, ==, 42);
        g_assert_true(rv_http_event_id_parse("18446744073709551615", &id));
        for (guint i = 0; bad[i] != NULL; i++)
                g_assert_false(rv_http_event_id_parse(bad[i], &id));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/http/openapi", test_openapi_matches_routes);
        g_test_add_func("/http/route-table", test_route_table);
        g_test_add_func("/http/route-match", test_route_match);
        g_test_add_func("/http/qbt-routes", test_qbt_routes);
        g_test_add_func("/http/problem", test_problem_text);
        g_test_add_func("/http/error-field", test_error_field);
        g_test_add_func("/http/json-depth", test_json_depth);
        g_test_add_func("/http/json-numbers", test_json_numbers);
        g_test_add_func("/http/event-id", test_event_id);
        g_test_add_func("/http/json-one-value", test_json_one_value);
        return g_test_run();
}
