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

/* a member that is an object (or array), NULL when missing or of another kind, without a critical */
static inline JsonObject *
rv_json_object_get_object(JsonObject *obj, const char *member)
{
        JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;

        return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static inline JsonArray *
rv_json_object_get_array(JsonObject *obj, const char *member)
{
        JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;

        return node != NULL && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

/* a copy that shares nothing (json_node_copy() shares objects and arrays) */
JsonNode *rv_json_deep_copy(JsonNode *node);

G_END_DECLS
