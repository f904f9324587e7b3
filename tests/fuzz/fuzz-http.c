/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * an HTTP request as the /v1 API reads it, without the socket: the first
 * line is "METHOD TARGET", the second the Content-Type, the third the
 * Last-Event-ID, the rest the body. The target goes through the route table;
 * the body through the JSON body checks and, for the routes that take one,
 * the reader of that route's members (PATCH /v1/torrents/{hash}, POST
 * /v1/torrents, PATCH /v1/settings/{section}); the Last-Event-ID through the
 * event stream's parser.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rv-add-options.h"
#include "rv-fuzz.h"
#include "rv-http-private.h"
#include "rv-settings.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        rv_fuzz_init();
        return 0;
}

static guint
captures(const char *pattern)
{
        guint n = 0;

        for (const char *p = pattern; *p != '\0'; p++)
                n += *p == '{';
        return n;
}

/* the route found is one for this method, with one non-empty capture per "{...}" */
static const RvHttpRoute *
check_route(const char *method, const char *path, char **params)
{
        g_autofree char *allow = NULL;
        const RvHttpRoute *route = rv_http_route_match(method, path, params, &allow);

        if (route == NULL) {
                if (allow != NULL && allow[0] == '\0')
                        abort();
                return NULL;
        }
        if (allow != NULL)
                abort();
        if (!g_str_equal(route->method, method) && !(g_str_equal(method, "HEAD") && g_str_equal(route->method, "GET")))
                abort();
        for (guint i = 0; i < 2; i++) {
                gboolean want = i < captures(route->pattern);
                if ((params[i] != NULL) != want || (params[i] != NULL && params[i][0] == '\0'))
                        abort();
        }
        return route;
}

/* an error about a member names it first */
static void
check_names(const GError *error, const char *name)
{
        g_autofree char *prefix = g_strndup(name, 64);

        if (error == NULL || !g_str_has_prefix(error->message, prefix))
                abort();
}

static void
check_update(JsonObject *obj)
{
        RvInfoHash hash;
        JsonObjectIter iter;
        const char *name;
        JsonNode *value;

        (void)rv_info_hash_parse("0123456789abcdef0123456789abcdef01234567", &hash);
        json_object_iter_init(&iter, obj);
        while (json_object_iter_next(&iter, &name, &value)) {
                g_autoptr(GError) error = NULL;
                g_autoptr(RvCommand) command = rv_http_torrent_update_command(&hash, name, value, &error);
                if (command == NULL)
                        check_names(error, name);
                else if (error != NULL || g_strcmp0(command->field, name) != 0)
                        abort();
        }
}

static void
check_add(JsonObject *obj)
{
        static const char *const sources[] = { "magnet", "metainfo", NULL };
        g_autoptr(RvAddOptions) options = rv_add_options_new();
        g_autoptr(GError) error = NULL;

        if (!rv_add_options_set_json_object(options, obj, sources, NULL, &error) && error == NULL)
                abort();
}

static void
check_settings(const char *section, JsonObject *obj)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) patch = rv_http_settings_patch_from(section, obj, &error);
        g_autoptr(JsonNode) defaults = NULL;
        g_autoptr(JsonNode) patched = NULL;
        g_autoptr(JsonNode) normalized = NULL;

        if (patch == NULL) {
                if (error == NULL)
                        abort();
                return;
        }
        defaults = rv_settings_defaults();
        patched = rv_settings_apply_patch(defaults, patch, NULL, NULL);
        /* what a patch makes is a valid document */
        if (patched != NULL) {
                normalized = rv_settings_normalize(patched, NULL);
                if (normalized == NULL || !json_node_equal(normalized, patched))
                        abort();
        }
}

static void
check_body(const RvHttpRoute *route, char **params, const char *content_type, const char *body, gsize len)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) node = rv_http_json_body_parse(content_type, body, len, &error);
        JsonObject *obj;

        if (node == NULL) {
                if (error == NULL)
                        abort();
                return;
        }
        /* accepted: an object, not too deep, UTF-8 */
        if (!JSON_NODE_HOLDS_OBJECT(node) || rv_http_json_too_deep(body, len, RV_HTTP_MAX_JSON_DEPTH) ||
            !g_utf8_validate(body, (gssize)len, NULL))
                abort();
        obj = json_node_get_object(node);
        if (route == NULL)
                return;
        if (route->handler == rv_http_torrents_update)
                check_update(obj);
        else if (route->handler == rv_http_torrents_add)
                check_add(obj);
        else if (route->handler == rv_http_settings_patch)
                check_settings(params[0], obj);
}

static void
check_event_id(const char *text)
{
        guint64 id = 0;
        guint64 again = 0;
        g_autofree char *printed = NULL;

        if (!rv_http_event_id_parse(text, &id))
                return;
        /* an accepted id is the number the text says */
        printed = g_strdup_printf("%" G_GUINT64_FORMAT, id);
        if (text[0] == '\0' || !rv_http_event_id_parse(printed, &again) || again != id ||
            strspn(text, "0123456789") != strlen(text))
                abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autofree char *input = g_strndup((const char *)data, size);
        const char *end = input + size;
        char *lines[3] = { NULL, NULL, NULL };
        char *p = input;
        char *params[2] = { NULL, NULL };
        const RvHttpRoute *route;
        char *space;
        char *query;

        for (guint i = 0; i < 3; i++) {
                char *nl = memchr(p, '\n', (gsize)(end - p));
                lines[i] = p;
                if (nl == NULL) {
                        p = (char *)end;
                        break;
                }
                *nl = '\0';
                p = nl + 1;
        }
        space = strchr(lines[0], ' ');
        if (space == NULL)
                return 0;
        *space = '\0';
        query = strchr(space + 1, '?');
        if (query != NULL)
                *query = '\0';
        route = check_route(lines[0], space + 1, params);
        check_event_id(lines[2] != NULL ? lines[2] : "");
        /* the body may hold NULs: its length is what is left of the input */
        check_body(route, params, lines[1] != NULL && lines[1][0] != '\0' ? lines[1] : NULL, p, (gsize)(end - p));
        g_free(params[0]);
        g_free(params[1]);
        return 0;
}
