/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-add-options.h"
#include "rv-error.h"

struct _RvAddOptions {
        RvAddRequest request;
        char *magnet;
        GBytes *torrent;
        char *save_path;
        char *name;
        char *content_layout;
        GStrv labels;
        GStrv peers;
        GStrv include;
        GStrv exclude;
        gboolean skip_fluff;
        gboolean have_selection;
        RvSelection *selection;
};

typedef enum {
        RV_ADD_OPT_STRING,
        RV_ADD_OPT_BOOL,
        RV_ADD_OPT_INT,
        RV_ADD_OPT_STRV,
} RvAddOptionType;

/* the options once: name and JSON type; the decoder below stores each */
static const struct {
        const char *name;
        RvAddOptionType type;
} rv_add_option_table[] = {
        { "save_path", RV_ADD_OPT_STRING },      { "paused", RV_ADD_OPT_BOOL },
        { "sequential", RV_ADD_OPT_BOOL },       { "labels", RV_ADD_OPT_STRV },
        { "include", RV_ADD_OPT_STRV },          { "exclude", RV_ADD_OPT_STRV },
        { "skip_fluff", RV_ADD_OPT_BOOL },       { "download_limit", RV_ADD_OPT_INT },
        { "upload_limit", RV_ADD_OPT_INT },      { "peers", RV_ADD_OPT_STRV },
        { "skip_checking", RV_ADD_OPT_BOOL },    { "name", RV_ADD_OPT_STRING },
        { "first_last_piece", RV_ADD_OPT_BOOL }, { "content_layout", RV_ADD_OPT_STRING },
};

static const char *const rv_add_option_names[] = {
        "save_path",     "paused",     "sequential",       "labels",         "include",
        "exclude",       "skip_fluff", "download_limit",   "upload_limit",   "peers",
        "skip_checking", "name",       "first_last_piece", "content_layout", NULL,
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_add_option_names) == G_N_ELEMENTS(rv_add_option_table) + 1);

/* more strings than any option takes: labels (32), globs (256), peers (64) */
#define RV_ADD_OPT_MAX_STRV 1024

RvAddOptions *
rv_add_options_new(void)
{
        RvAddOptions *options = g_new0(RvAddOptions, 1);

        options->request.sequential = -1;
        return options;
}

void
rv_add_options_free(RvAddOptions *options)
{
        if (options == NULL)
                return;
        g_free(options->magnet);
        if (options->torrent != NULL)
                g_bytes_unref(options->torrent);
        g_free(options->save_path);
        g_free(options->name);
        g_free(options->content_layout);
        g_strfreev(options->labels);
        g_strfreev(options->peers);
        g_strfreev(options->include);
        g_strfreev(options->exclude);
        rv_selection_free(options->selection);
        g_free(options);
}

const char *const *
rv_add_options_names(void)
{
        return rv_add_option_names;
}

static const char *
rv_add_json_type(JsonNode *value)
{
        GType type;

        if (value == NULL || JSON_NODE_HOLDS_NULL(value))
                return "null";
        if (JSON_NODE_HOLDS_OBJECT(value))
                return "an object";
        if (JSON_NODE_HOLDS_ARRAY(value))
                return "an array";
        type = json_node_get_value_type(value);
        if (type == G_TYPE_STRING)
                return "a string";
        if (type == G_TYPE_BOOLEAN)
                return "a boolean";
        return type == G_TYPE_INT64 ? "an integer" : "a number";
}

static GStrv
rv_add_read_strv(JsonNode *value, const char *prefix, const char *name, GError **error)
{
        JsonArray *array = JSON_NODE_HOLDS_ARRAY(value) ? json_node_get_array(value) : NULL;
        guint n = array != NULL ? json_array_get_length(array) : 0;
        g_autoptr(GPtrArray) out = NULL;

        if (array == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s%s: expected an array of strings, got %s",
                            prefix, name, rv_add_json_type(value));
                return NULL;
        }
        if (n > RV_ADD_OPT_MAX_STRV) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s%s: at most %d entries", prefix, name,
                            RV_ADD_OPT_MAX_STRV);
                return NULL;
        }
        out = g_ptr_array_new_full(n + 1, g_free);
        for (guint i = 0; i < n; i++) {
                JsonNode *element = json_array_get_element(array, i);
                if (!JSON_NODE_HOLDS_VALUE(element) || json_node_get_value_type(element) != G_TYPE_STRING) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s%s[%u]: expected a string, got %s",
                                    prefix, name, i, rv_add_json_type(element));
                        return NULL;
                }
                g_ptr_array_add(out, g_strdup(json_node_get_string(element)));
        }
        g_ptr_array_add(out, NULL);
        return (GStrv)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

static gboolean
rv_add_check_type(JsonNode *value, RvAddOptionType type, const char *prefix, const char *name, GError **error)
{
        GType want = type == RV_ADD_OPT_STRING ? G_TYPE_STRING
                     : type == RV_ADD_OPT_BOOL ? G_TYPE_BOOLEAN
                                               : G_TYPE_INT64;
        const char *want_text = type == RV_ADD_OPT_STRING ? "a string"
                                : type == RV_ADD_OPT_BOOL ? "a boolean"
                                                          : "an integer";

        if (type == RV_ADD_OPT_STRV || (JSON_NODE_HOLDS_VALUE(value) && json_node_get_value_type(value) == want))
                return TRUE;
        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s%s: expected %s, got %s", prefix, name, want_text,
                    rv_add_json_type(value));
        return FALSE;
}

static void
rv_add_take_strv(GStrv *slot, GStrv value)
{
        g_strfreev(*slot);
        *slot = value;
}

gboolean
rv_add_options_set_json(RvAddOptions *options, const char *name, JsonNode *value, const char *prefix, GError **error)
{
        RvAddOptionType type = RV_ADD_OPT_STRING;
        gboolean known = FALSE;
        GStrv strv = NULL;

        prefix = prefix != NULL ? prefix : "";
        for (guint i = 0; i < G_N_ELEMENTS(rv_add_option_table); i++) {
                if (g_strcmp0(rv_add_option_table[i].name, name) == 0) {
                        type = rv_add_option_table[i].type;
                        known = TRUE;
                }
        }
        if (!known) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s%s: unknown option", prefix, name);
                return FALSE;
        }
        if (!rv_add_check_type(value, type, prefix, name, error))
                return FALSE;
        if (type == RV_ADD_OPT_STRV) {
                strv = rv_add_read_strv(value, prefix, name, error);
                if (strv == NULL)
                        return FALSE;
        }
        if (g_str_equal(name, "save_path")) {
                g_free(options->save_path);
                options->save_path = g_strdup(json_node_get_string(value));
        } else if (g_str_equal(name, "paused")) {
                options->request.paused = json_node_get_boolean(value);
        } else if (g_str_equal(name, "sequential")) {
                options->request.sequential = json_node_get_boolean(value) ? 1 : 0;
        } else if (g_str_equal(name, "name")) {
                g_free(options->name);
                options->name = g_strdup(json_node_get_string(value));
        } else if (g_str_equal(name, "content_layout")) {
                g_free(options->content_layout);
                options->content_layout = g_strdup(json_node_get_string(value));
        } else if (g_str_equal(name, "skip_checking")) {
                options->request.skip_checking = json_node_get_boolean(value);
        } else if (g_str_equal(name, "first_last_piece")) {
                options->request.first_last_piece = json_node_get_boolean(value);
        } else if (g_str_equal(name, "skip_fluff")) {
                options->skip_fluff = json_node_get_boolean(value);
                options->have_selection = TRUE;
        } else if (g_str_equal(name, "download_limit")) {
                options->request.download_limit = json_node_get_int(value);
        } else if (g_str_equal(name, "upload_limit")) {
                options->request.upload_limit = json_node_get_int(value);
        } else if (g_str_equal(name, "labels")) {
                rv_add_take_strv(&options->labels, strv);
        } else if (g_str_equal(name, "peers")) {
                rv_add_take_strv(&options->peers, strv);
        } else if (g_str_equal(name, "include")) {
                rv_add_take_strv(&options->include, strv);
                options->have_selection = TRUE;
        } else {
                rv_add_take_strv(&options->exclude, strv);
                options->have_selection = TRUE;
        }
        return TRUE;
}

gboolean
rv_add_options_set_json_object(RvAddOptions *options, JsonObject *obj, const char *const *skip, const char *prefix,
                               GError **error)
{
        JsonObjectIter iter;
        const char *name;
        JsonNode *value;

        json_object_iter_init(&iter, obj);
        while (json_object_iter_next(&iter, &name, &value)) {
                if (skip != NULL && g_strv_contains(skip, name))
                        continue;
                if (!rv_add_options_set_json(options, name, value, prefix, error))
                        return FALSE;
        }
        return TRUE;
}

void
rv_add_options_set_magnet(RvAddOptions *options, const char *magnet)
{
        g_free(options->magnet);
        options->magnet = g_strdup(magnet);
}

void
rv_add_options_set_torrent(RvAddOptions *options, GBytes *data)
{
        if (options->torrent != NULL)
                g_bytes_unref(options->torrent);
        options->torrent = data != NULL ? g_bytes_ref(data) : NULL;
}

void
rv_add_options_set_placeable(RvAddOptions *options, gboolean placeable)
{
        options->request.placeable = placeable;
}

void
rv_add_options_set_share_limits(RvAddOptions *options, double ratio, gint64 minutes, gint64 inactive_minutes)
{
        options->request.share_limits = TRUE;
        options->request.ratio_limit = ratio;
        options->request.seeding_time_limit = minutes;
        options->request.inactive_seeding_time_limit = inactive_minutes;
}

const RvAddRequest *
rv_add_options_get_request(RvAddOptions *options, GError **error)
{
        RvAddRequest *r = &options->request;

        if (options->have_selection && options->selection == NULL) {
                options->selection =
                        rv_selection_new((const char *const *)options->include, (const char *const *)options->exclude,
                                         options->skip_fluff, error);
                if (options->selection == NULL)
                        return NULL;
        }
        r->magnet = options->magnet;
        r->torrent = options->torrent;
        r->save_path = options->save_path;
        r->name = options->name;
        r->content_layout = options->content_layout;
        r->labels = (const char *const *)options->labels;
        r->peers = (const char *const *)options->peers;
        r->selection = options->selection;
        return r;
}

static void
rv_add_json_strv(JsonObject *obj, const char *name, const char *const *strv)
{
        JsonArray *array;

        if (strv == NULL)
                return;
        array = json_array_new();
        for (guint i = 0; strv[i] != NULL; i++)
                json_array_add_string_element(array, strv[i]);
        json_object_set_array_member(obj, name, array);
}

JsonNode *
rv_add_request_to_json(const RvAddRequest *request)
{
        JsonObject *obj = json_object_new();
        JsonNode *node = json_node_new(JSON_NODE_OBJECT);

        if (request->magnet != NULL)
                json_object_set_string_member(obj, "magnet", request->magnet);
        if (request->torrent != NULL) {
                gsize len = 0;
                const guchar *data = g_bytes_get_data(request->torrent, &len);
                g_autofree char *text = g_base64_encode(data, len);
                json_object_set_string_member(obj, "torrent", text);
        }
        if (request->save_path != NULL)
                json_object_set_string_member(obj, "save_path", request->save_path);
        json_object_set_boolean_member(obj, "paused", request->paused);
        if (request->sequential >= 0)
                json_object_set_boolean_member(obj, "sequential", request->sequential != 0);
        json_object_set_boolean_member(obj, "skip_checking", request->skip_checking);
        json_object_set_boolean_member(obj, "first_last_piece", request->first_last_piece);
        if (request->name != NULL)
                json_object_set_string_member(obj, "name", request->name);
        if (request->content_layout != NULL)
                json_object_set_string_member(obj, "content_layout", request->content_layout);
        rv_add_json_strv(obj, "labels", request->labels);
        rv_add_json_strv(obj, "peers", request->peers);
        if (request->selection != NULL) {
                rv_add_json_strv(obj, "include", (const char *const *)request->selection->include);
                rv_add_json_strv(obj, "exclude", (const char *const *)request->selection->exclude);
                json_object_set_boolean_member(obj, "skip_fluff", request->selection->skip_fluff);
        }
        json_object_set_int_member(obj, "download_limit", request->download_limit);
        json_object_set_int_member(obj, "upload_limit", request->upload_limit);
        if (request->share_limits) {
                JsonObject *limits = json_object_new();
                json_object_set_double_member(limits, "ratio", request->ratio_limit);
                json_object_set_int_member(limits, "minutes", request->seeding_time_limit);
                json_object_set_int_member(limits, "inactive_minutes", request->inactive_seeding_time_limit);
                json_object_set_object_member(obj, "share_limits", limits);
        }
        json_node_take_object(node, obj);
        return node;
}
