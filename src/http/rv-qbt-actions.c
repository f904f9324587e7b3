/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-http"

#include "config.h"

#include <string.h>

#include "rv-qbt.h"
#include "rv-validate.h"

/*
 * The torrent commands of the WebAPI: each endpoint decodes its parameters
 * into one core command per torrent named by "hashes" (unknown hashes are
 * left out, as qBittorrent does); all are validated before any runs, so a
 * bad parameter changes nothing.
 */

typedef struct {
        RvHttpRequest *req;
        JsonNode *settings;
        /* the labels a category or tag endpoint works with */
        GStrv names;
        gboolean flag;
        gint64 limit;
        gint64 inactive_minutes;
        double ratio;
        const char *path;
} RvQbtArgs;

/* builds the command of one torrent; NULL with no error: nothing to do for it */
typedef RvCommand *(*RvQbtBuild)(const RvQbtArgs *args, const RvTorrent *t, GError **error);
/* reads the endpoint's parameters into args: FALSE after a response */
typedef gboolean (*RvQbtParse)(RvQbtArgs *args);

static void
rv_qbt_forwarded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GError) error = NULL;
        /* the owner's view of the torrent: not part of this answer */
        JsonNode *torrent = rv_command_forward_finish(RV_MANAGER(source), result, &error);

        if (torrent != NULL)
                json_node_unref(torrent);

        if (error != NULL)
                g_message("a qBittorrent WebAPI command carried to another node failed: %s", error->message);
}

static RvCommand *
rv_qbt_op(RvOp op, const RvTorrent *t)
{
        return rv_command_new(op, &t->hash);
}

static RvCommand *
rv_qbt_build_remove(const RvQbtArgs *args, const RvTorrent *t, GError **error)
{
        RvCommand *c = rv_qbt_op(RV_OP_REMOVE, t);

        c->flag = args->flag;
        return c;
}

#define RV_QBT_SIMPLE(fn, op)                                                           \
        static RvCommand *fn(const RvQbtArgs *args, const RvTorrent *t, GError **error) \
        {                                                                               \
                return rv_qbt_op(op, t);                                                \
        }
RV_QBT_SIMPLE(rv_qbt_build_pause, RV_OP_PAUSE)
RV_QBT_SIMPLE(rv_qbt_build_resume, RV_OP_RESUME)
RV_QBT_SIMPLE(rv_qbt_build_recheck, RV_OP_RECHECK)
RV_QBT_SIMPLE(rv_qbt_build_reannounce, RV_OP_REANNOUNCE)
#undef RV_QBT_SIMPLE

/* force start: past libtorrent's queue (value=true), or back in it */
static RvCommand *
rv_qbt_build_force(const RvQbtArgs *args, const RvTorrent *t, GError **error)
{
        RvCommand *c = rv_qbt_op(RV_OP_SET_FORCE_START, t);

        c->flag = args->flag;
        return c;
}

static RvCommand *
rv_qbt_build_super_seeding(const RvQbtArgs *args, const RvTorrent *t, GError **error)
{
        RvCommand *c = rv_qbt_op(RV_OP_SET_SUPER_SEEDING, t);

        c->flag = args->flag;
        return c;
}

static RvCommand *
rv_qbt_build_nothing(const RvQbtArgs *args, const RvTorrent *t, GError **error)
{
        return NULL;
}

/* the toggle endpoints: the opposite of the torrent's value */
#define RV_QBT_TOGGLE(fn, op, member)                                                   \
        static RvCommand *fn(const RvQbtArgs *args, const RvTorrent *t, GError **error) \
        {                                                                               \
                RvCommand *c = rv_qbt_op(op, t);                                        \
                c->flag = !t->member;                                                   \
                return c;                                                               \
        }
RV_QBT_TOGGLE(rv_qbt_build_sequential, RV_OP_SET_SEQUENTIAL, sequential)
RV_QBT_TOGGLE(rv_qbt_build_first_last, RV_OP_SET_FIRST_LAST_PIECE, first_last_piece)
#undef RV_QBT_TOGGLE

static RvCommand *
rv_qbt_build_dl_limit(const RvQbtArgs *args, const RvTorrent *t, GError **error)
{
        RvCommand *c = rv_qbt_op(RV_OP_SET_DOWNLOAD_LIMIT, t);

        c->limit = args->limit;
        c->field = "limit";
        return c;
}

static RvCommand *
rv_qbt_build_ul_limit(const RvQbtArgs *args, const RvTorrent *t, GError **error)
{
        RvCommand *c = rv_qbt_op(RV_OP_SET_UPLOAD_LIMIT, t);

        c->limit = args->limit;
        c->field = "limit";
        return c;
}

static RvCommand *
rv_qbt_build_share(const RvQbtArgs *args, const RvTorrent *t, GError **error)
{
        RvCommand *c = rv_qbt_op(RV_OP_SET_SHARE_LIMITS, t);

        c->ratio = args->ratio;
        c->limit = args->limit;
        c->inactive_minutes = args->inactive_minutes;
        return c;
}

static RvCommand *
rv_qbt_build_move(const RvQbtArgs *args, const RvTorrent *t, GError **error)
{
        RvCommand *c = rv_qbt_op(RV_OP_MOVE_STORAGE, t);

        c->path = g_strdup(args->path);
        c->field = "location";
        return c;
}

/* labels: the torrent's, with what the endpoint adds or takes away */
static RvCommand *
rv_qbt_labels_command(const RvTorrent *t, GStrvBuilder *b)
{
        RvCommand *c = rv_qbt_op(RV_OP_SET_LABELS, t);

        c->labels = g_strv_builder_end(b);
        return c;
}

/* setCategory: the torrent's category label replaced (names empty: taken off) */
static RvCommand *
rv_qbt_build_category(const RvQbtArgs *args, const RvTorrent *t, GError **error)
{
        const char *old = rv_qbt_category(t, rv_qbt_categories_of(args->settings));
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();

        for (guint i = 0; t->labels != NULL && t->labels[i] != NULL; i++) {
                if (g_strcmp0(t->labels[i], old) != 0 &&
                    !g_strv_contains((const char *const *)args->names, t->labels[i]))
                        g_strv_builder_add(b, t->labels[i]);
        }
        g_strv_builder_addv(b, (const char **)args->names);
        return rv_qbt_labels_command(t, b);
}

static RvCommand *
rv_qbt_build_add_tags(const RvQbtArgs *args, const RvTorrent *t, GError **error)
{
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();

        g_strv_builder_addv(b, (const char **)(t->labels != NULL ? t->labels : (GStrv)(const char *[]){ NULL }));
        for (guint i = 0; args->names[i] != NULL; i++) {
                if (t->labels == NULL || !g_strv_contains((const char *const *)t->labels, args->names[i]))
                        g_strv_builder_add(b, args->names[i]);
        }
        return rv_qbt_labels_command(t, b);
}

/* removeTags: the named tags, or every tag when none is named; the category stays */
static RvCommand *
rv_qbt_build_remove_tags(const RvQbtArgs *args, const RvTorrent *t, GError **error)
{
        const char *category = rv_qbt_category(t, rv_qbt_categories_of(args->settings));
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();

        for (guint i = 0; t->labels != NULL && t->labels[i] != NULL; i++) {
                gboolean named = g_strv_contains((const char *const *)args->names, t->labels[i]);
                if (g_strcmp0(t->labels[i], category) == 0 || (args->names[0] != NULL && !named))
                        g_strv_builder_add(b, t->labels[i]);
        }
        return rv_qbt_labels_command(t, b);
}

/* parameters */

static gboolean
rv_qbt_parse_none(RvQbtArgs *args)
{
        return TRUE;
}

static gboolean
rv_qbt_parse_delete(RvQbtArgs *args)
{
        args->flag = rv_qbt_param_bool(args->req, "deleteFiles", FALSE);
        return TRUE;
}

static gboolean
rv_qbt_parse_value(RvQbtArgs *args)
{
        const char *value = rv_qbt_require(args->req, "value");

        args->flag = value != NULL && g_ascii_strcasecmp(value, "true") == 0;
        return value != NULL;
}

static gboolean
rv_qbt_bad(RvHttpRequest *req, const char *text)
{
        rv_qbt_respond_text(req, SOUP_STATUS_BAD_REQUEST, text);
        return FALSE;
}

static gboolean
rv_qbt_parse_int(const char *text, gint64 *ret)
{
        return text != NULL && g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, ret, NULL);
}

/* limit=: bytes/s, 0 or -1 for none */
static gboolean
rv_qbt_parse_limit(RvQbtArgs *args)
{
        const char *text = rv_qbt_require(args->req, "limit");

        if (text == NULL)
                return FALSE;
        if (!rv_qbt_parse_int(text, &args->limit))
                return rv_qbt_bad(args->req, "limit: expected an integer");
        args->limit = MAX(args->limit, 0);
        return TRUE;
}

static gboolean
rv_qbt_parse_share(RvQbtArgs *args)
{
        const char *ratio = rv_qbt_require(args->req, "ratioLimit");
        const char *minutes = ratio != NULL ? rv_qbt_require(args->req, "seedingTimeLimit") : NULL;
        /* qBittorrent 4.6 requires it; clients written before it do not send it: the global goal */
        const char *inactive = rv_qbt_param(args->req, "inactiveSeedingTimeLimit");
        char *end = NULL;

        if (ratio == NULL || minutes == NULL)
                return FALSE;
        args->inactive_minutes = RV_SHARE_LIMIT_GLOBAL;
        if (inactive != NULL && !rv_qbt_parse_int(inactive, &args->inactive_minutes))
                return rv_qbt_bad(args->req, "inactiveSeedingTimeLimit: expected an integer");
        args->ratio = g_ascii_strtod(ratio, &end);
        if (end == ratio || *end != '\0')
                return rv_qbt_bad(args->req, "ratioLimit: expected a number");
        if (!rv_qbt_parse_int(minutes, &args->limit))
                return rv_qbt_bad(args->req, "seedingTimeLimit: expected an integer");
        return TRUE;
}

static gboolean
rv_qbt_parse_location(RvQbtArgs *args)
{
        args->path = rv_qbt_require(args->req, "location");
        if (args->path != NULL && args->path[0] == '\0')
                return rv_qbt_bad(args->req, "Save path cannot be empty");
        return args->path != NULL;
}

/* category=: "" takes it off; otherwise it must exist (409, as qBittorrent) */
static gboolean
rv_qbt_parse_category(RvQbtArgs *args)
{
        const char *name = rv_qbt_require(args->req, "category");

        if (name == NULL)
                return FALSE;
        if (name[0] != '\0' && !rv_settings_get_category(args->settings, name, NULL)) {
                rv_qbt_respond_text(args->req, SOUP_STATUS_CONFLICT, "Incorrect category name");
                return FALSE;
        }
        args->names = name[0] != '\0' ? g_strsplit(name, "\n", 1) : g_new0(char *, 1);
        return TRUE;
}

/* tags=a,b (removeTags: may be empty) */
static gboolean
rv_qbt_parse_tags(RvQbtArgs *args)
{
        const char *text = rv_qbt_require(args->req, "tags");
        g_auto(GStrv) parts = NULL;
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();

        if (text == NULL)
                return FALSE;
        parts = g_strsplit(text, ",", RV_MANAGER_MAX_LABELS + 1);
        for (guint i = 0; parts[i] != NULL; i++) {
                g_autoptr(GError) error = NULL;
                char *tag = g_strstrip(parts[i]);
                if (tag[0] == '\0')
                        continue;
                if (!rv_validate_category(tag, "tags", &error))
                        return rv_qbt_bad(args->req, error->message);
                g_strv_builder_add(b, tag);
        }
        args->names = g_strv_builder_end(b);
        return TRUE;
}

static gboolean
rv_qbt_parse_queue(RvQbtArgs *args)
{
        /* Revaer keeps no queue positions: as qBittorrent with queueing off */
        rv_qbt_respond_text(args->req, SOUP_STATUS_CONFLICT, "Torrent queueing must be enabled");
        return FALSE;
}

static const struct {
        const char *name;
        RvQbtParse parse;
        RvQbtBuild build;
} rv_qbt_commands[] = {
        { "delete", rv_qbt_parse_delete, rv_qbt_build_remove },
        { "pause", rv_qbt_parse_none, rv_qbt_build_pause },
        { "stop", rv_qbt_parse_none, rv_qbt_build_pause },
        { "resume", rv_qbt_parse_none, rv_qbt_build_resume },
        { "start", rv_qbt_parse_none, rv_qbt_build_resume },
        { "recheck", rv_qbt_parse_none, rv_qbt_build_recheck },
        { "reannounce", rv_qbt_parse_none, rv_qbt_build_reannounce },
        { "setForceStart", rv_qbt_parse_value, rv_qbt_build_force },
        { "setSuperSeeding", rv_qbt_parse_value, rv_qbt_build_super_seeding },
        { "toggleSequentialDownload", rv_qbt_parse_none, rv_qbt_build_sequential },
        { "toggleFirstLastPiecePrio", rv_qbt_parse_none, rv_qbt_build_first_last },
        { "setDownloadLimit", rv_qbt_parse_limit, rv_qbt_build_dl_limit },
        { "setUploadLimit", rv_qbt_parse_limit, rv_qbt_build_ul_limit },
        { "setShareLimits", rv_qbt_parse_share, rv_qbt_build_share },
        { "setLocation", rv_qbt_parse_location, rv_qbt_build_move },
        { "setCategory", rv_qbt_parse_category, rv_qbt_build_category },
        { "addTags", rv_qbt_parse_tags, rv_qbt_build_add_tags },
        { "removeTags", rv_qbt_parse_tags, rv_qbt_build_remove_tags },
        { "topPrio", rv_qbt_parse_queue, rv_qbt_build_nothing },
        { "bottomPrio", rv_qbt_parse_queue, rv_qbt_build_nothing },
        { "increasePrio", rv_qbt_parse_queue, rv_qbt_build_nothing },
        { "decreasePrio", rv_qbt_parse_queue, rv_qbt_build_nothing },
};

/* every command built and validated first: one bad one, and nothing runs */
static GPtrArray *
rv_qbt_build_all(RvHttpRequest *req, RvQbtBuild build, const RvQbtArgs *args, GPtrArray *targets, GError **error)
{
        g_autoptr(GPtrArray) commands = g_ptr_array_new_with_free_func((GDestroyNotify)rv_command_free);

        for (guint i = 0; i < targets->len; i++) {
                RvTorrent *t = g_ptr_array_index(targets, i);
                RvCommand *c = build(args, t, error);
                if (c == NULL) {
                        if (error != NULL && *error != NULL)
                                return NULL;
                        continue;
                }
                g_ptr_array_add(commands, c);
                if (!rv_command_validate(c, t, error) || !rv_http_request_allows(req, c->op, error))
                        return NULL;
        }
        return g_steal_pointer(&commands);
}

void
rv_qbt_torrents_command(RvHttpRequest *req)
{
        const char *name = strrchr(req->route->pattern, '/') + 1;
        RvQbtArgs args = { .req = req, .settings = rv_qbt_settings(req) };
        g_autoptr(GPtrArray) targets = NULL;
        g_autoptr(GPtrArray) commands = NULL;
        g_autoptr(GError) error = NULL;
        guint i;

        for (i = 0; i < G_N_ELEMENTS(rv_qbt_commands) && !g_str_equal(rv_qbt_commands[i].name, name); i++)
                ;
        if (i == G_N_ELEMENTS(rv_qbt_commands)) {
                rv_qbt_respond_text(req, SOUP_STATUS_NOT_FOUND, "Not Found");
                return;
        }
        targets = rv_qbt_hashes(req, "hashes");
        if (targets == NULL || !rv_qbt_commands[i].parse(&args)) {
                g_strfreev(args.names);
                return;
        }
        commands = rv_qbt_build_all(req, rv_qbt_commands[i].build, &args, targets, &error);
        g_strfreev(args.names);
        if (commands == NULL) {
                rv_qbt_respond_error(req, error);
                return;
        }
        for (guint j = 0; j < commands->len; j++) {
                RvCommand *c = g_ptr_array_index(commands, j);
                const RvTorrent *t = rv_manager_lookup_listed(req->http->manager, &c->hash);
                /* another node's: carried there; qBittorrent answers such calls without a word per torrent */
                if (t != NULL && t->node != NULL) {
                        rv_command_forward_async(req->http->manager, c, rv_qbt_forwarded_cb, NULL);
                        continue;
                }
                if (!rv_command_run(req->http->manager, c, &error)) {
                        rv_qbt_respond_error(req, error);
                        return;
                }
                rv_event_bus_flush_torrent(rv_manager_get_events(req->http->manager), &c->hash);
        }
        rv_qbt_respond_ok(req);
}

/* qBittorrent's file priorities 0 (skip), 1 (normal), 6 (high), 7 (maximal) as Revaer's 0..7 */
static gboolean
rv_qbt_priority_from(const char *text, guint8 *ret)
{
        gint64 v = -1;

        if (!rv_qbt_parse_int(text, &v) || (v != 0 && v != 1 && v != 6 && v != 7))
                return FALSE;
        *ret = v == 1 ? RV_FILE_PRIORITY_NORMAL : (guint8)v;
        return TRUE;
}

/* filePrio: hash, id (indexes separated by '|'), priority */
void
rv_qbt_torrents_file_prio(RvHttpRequest *req)
{
        const char *hash_text = rv_qbt_require(req, "hash");
        const char *ids = hash_text != NULL ? rv_qbt_require(req, "id") : NULL;
        const char *prio = ids != NULL ? rv_qbt_require(req, "priority") : NULL;
        g_autoptr(RvCommand) c = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) parts = NULL;
        RvInfoHash hash;
        RvTorrent *t;
        guint8 priority = 0;

        if (prio == NULL)
                return;
        if (!rv_qbt_priority_from(prio, &priority)) {
                rv_qbt_respond_text(req, SOUP_STATUS_BAD_REQUEST, "Priority is not valid");
                return;
        }
        t = rv_info_hash_parse(hash_text, &hash) ? rv_manager_lookup(req->http->manager, &hash) : NULL;
        if (t == NULL || t->removing) {
                rv_qbt_respond_text(req, SOUP_STATUS_NOT_FOUND, "Not Found");
                return;
        }
        if (!t->has_metadata) {
                rv_qbt_respond_text(req, SOUP_STATUS_CONFLICT, "Torrent's metadata has not yet downloaded");
                return;
        }
        c = rv_command_new(RV_OP_SET_FILE_PRIORITIES, &t->hash);
        c->indexes = g_array_new(FALSE, FALSE, sizeof(guint32));
        c->priorities = g_byte_array_new();
        parts = g_strsplit(ids, "|", 100000);
        for (guint i = 0; parts[i] != NULL; i++) {
                gint64 index = -1;
                guint32 idx;
                if (!rv_qbt_parse_int(parts[i], &index) || index < 0 || index > G_MAXUINT32) {
                        rv_qbt_respond_text(req, SOUP_STATUS_BAD_REQUEST, "File IDs are not valid");
                        return;
                }
                idx = (guint32)index;
                g_array_append_val(c->indexes, idx);
                g_byte_array_append(c->priorities, &priority, 1);
        }
        if (!rv_command_validate(c, t, &error)) {
                /* an index past the files: qBittorrent says 409 */
                rv_qbt_respond_text(req, SOUP_STATUS_CONFLICT, error->message);
                return;
        }
        if (!rv_http_request_allows(req, c->op, &error) || !rv_command_run(req->http->manager, c, &error)) {
                rv_qbt_respond_error(req, error);
                return;
        }
        rv_qbt_respond_ok(req);
}
