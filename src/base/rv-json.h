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
/*
 * rv_json_parse's fast way for the common subset of JSON (an object or an
 * array at the top): the same nodes json-glib makes of the text, or NULL
 * when the text holds anything past that subset, an error included
 */
JsonNode *rv_json_parse_simple(const char *text, gsize len);

/* a string quoted and escaped (NULL as ""), and an integer, appended to out */
void rv_json_append_string(GString *out, const char *s);
void rv_json_append_int(GString *out, gint64 v);

/*
 * JSON text written straight from C values, for records written often (a
 * torrent's metadata at every add): building a JsonNode tree and generating
 * it was a sixth of the main loop's time per add. Objects put one member per
 * line, as json-glib's pretty output does; arrays stay on one line.
 */
typedef struct {
        GString *out;
        guint depth;
        /* bit d set: the container at depth d has had a member or element */
        guint64 started;
        gboolean after_name;
} RvJsonWriter;

void rv_json_writer_init(RvJsonWriter *w, gsize reserve);
/* the text, which the caller frees; the writer is done */
char *rv_json_writer_finish(RvJsonWriter *w, gsize *ret_length);
void rv_json_writer_begin_object(RvJsonWriter *w);
void rv_json_writer_end_object(RvJsonWriter *w);
void rv_json_writer_begin_array(RvJsonWriter *w);
void rv_json_writer_end_array(RvJsonWriter *w);
void rv_json_writer_name(RvJsonWriter *w, const char *name);
/* NULL as null; text that is not UTF-8 is made so, as a D-Bus string or json-glib's parser needs */
void rv_json_writer_string(RvJsonWriter *w, const char *value);
void rv_json_writer_int(RvJsonWriter *w, gint64 value);
void rv_json_writer_boolean(RvJsonWriter *w, gboolean value);
/* always with a fraction or an exponent, so it reads back as a double; null when not finite */
void rv_json_writer_double(RvJsonWriter *w, double value);
void rv_json_writer_null(RvJsonWriter *w);
/* an array of strings, [] for NULL */
void rv_json_writer_strv(RvJsonWriter *w, const char *const *strv);
/* a value held as a node (null for NULL), generated compactly */
void rv_json_writer_node(RvJsonWriter *w, JsonNode *node);

G_END_DECLS
