/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* a node owning obj (json_node_init_object() would add a reference instead) */
static inline JsonNode *
rv_json_node_take_object(JsonObject *obj)
{
        JsonNode *node = json_node_new(JSON_NODE_OBJECT);

        json_node_take_object(node, obj);
        return node;
}

G_END_DECLS
