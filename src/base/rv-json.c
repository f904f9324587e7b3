/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-json.h"

JsonNode *
rv_json_deep_copy(JsonNode *node)
{
        if (node == NULL)
                return NULL;
        if (JSON_NODE_HOLDS_OBJECT(node)) {
                JsonObject *in = json_node_get_object(node);
                JsonObject *out = json_object_new();
                JsonObjectIter iter;
                const char *name;
                JsonNode *member;
                json_object_iter_init(&iter, in);
                while (json_object_iter_next(&iter, &name, &member))
                        json_object_set_member(out, name, rv_json_deep_copy(member));
                return rv_json_node_take_object(out);
        }
        if (JSON_NODE_HOLDS_ARRAY(node)) {
                JsonArray *in = json_node_get_array(node);
                JsonArray *out = json_array_sized_new(json_array_get_length(in));
                JsonNode *copy = json_node_new(JSON_NODE_ARRAY);
                for (guint i = 0; i < json_array_get_length(in); i++)
                        json_array_add_element(out, rv_json_deep_copy(json_array_get_element(in, i)));
                json_node_take_array(copy, out);
                return copy;
        }
        return json_node_copy(node);
}

static gboolean
rv_json_is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* where the first value of text ends; len when that cannot be told (the parser then says what is wrong) */
static gsize
rv_json_value_end(const char *text, gsize len)
{
        gsize i = 0;
        guint depth = 0;
        gboolean in_string = FALSE;

        while (i < len && rv_json_is_space(text[i]))
                i++;
        if (i < len && text[i] != '{' && text[i] != '[' && text[i] != '"') {
                /* a number, true, false or null: up to the first character none of them holds */
                while (i < len && text[i] != '\0' && strchr(" \t\r\n{}[]\",:", text[i]) == NULL)
                        i++;
                return i;
        }
        for (; i < len; i++) {
                char c = text[i];
                if (in_string && c == '\\') {
                        i++;
                } else if (in_string && c == '"') {
                        in_string = FALSE;
                        if (depth == 0)
                                return i + 1;
                } else if (!in_string && c == '"') {
                        in_string = TRUE;
                } else if (!in_string && (c == '{' || c == '[')) {
                        depth++;
                } else if (!in_string && (c == '}' || c == ']') && depth > 0 && --depth == 0) {
                        return i + 1;
                }
        }
        return len;
}

JsonNode *
rv_json_parse(const char *text, gssize length, gboolean immutable, GError **error)
{
        g_autoptr(JsonParser) parser = immutable ? json_parser_new_immutable() : json_parser_new();
        gsize len = length < 0 ? strlen(text) : (gsize)length;
        JsonNode *root;

        for (gsize i = rv_json_value_end(text, len); i < len; i++) {
                if (!rv_json_is_space(text[i])) {
                        g_set_error(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
                                    "more after the JSON value, at byte %" G_GSIZE_FORMAT, i);
                        return NULL;
                }
        }
        if (!json_parser_load_from_data(parser, text, (gssize)len, error))
                return NULL;
        root = json_parser_get_root(parser);
        if (root == NULL) {
                g_set_error_literal(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE, "no JSON value");
                return NULL;
        }
        return json_node_ref(root);
}
