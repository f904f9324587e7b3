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

/*
 * a member's value, or if_missing when it is missing, null, an object or an
 * array: json-glib's _with_default getters are critical about the last two,
 * and stored records and requests may hold anything
 */
static inline const char *
rv_json_object_get_string_or(JsonObject *obj, const char *member, const char *if_missing)
{
        JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;

        return node != NULL && JSON_NODE_HOLDS_VALUE(node) ? json_node_get_string(node) : if_missing;
}

static inline gint64
rv_json_object_get_int_or(JsonObject *obj, const char *member, gint64 if_missing)
{
        JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;

        return node != NULL && JSON_NODE_HOLDS_VALUE(node) ? json_node_get_int(node) : if_missing;
}

static inline gboolean
rv_json_object_get_boolean_or(JsonObject *obj, const char *member, gboolean if_missing)
{
        JsonNode *node = obj != NULL ? json_object_get_member(obj, member) : NULL;

        return node != NULL && JSON_NODE_HOLDS_VALUE(node) ? json_node_get_boolean(node) : if_missing;
}

/* a copy that shares nothing (json_node_copy() shares objects and arrays) */
JsonNode *rv_json_deep_copy(JsonNode *node);

/*
 * one JSON value from text (length -1: up to its NUL) and nothing after it
 * but whitespace; NULL and a JSON_PARSER_ERROR otherwise. json-glib takes
 * "{...}{...}" as its first value and loses the second; outside input goes
 * through this instead. immutable: sealed nodes, for reading only.
 */
JsonNode *rv_json_parse(const char *text, gssize length, gboolean immutable, GError **error);

G_END_DECLS
