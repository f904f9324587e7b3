/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

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
