/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-bus"

#include "config.h"

#include <errno.h>

#include "rv-bus-private.h"

/* the fallback vtable's userdata is the RvTorrent found by the find callback */

static RvBus *
rv_bus_from_message(sd_bus_message *m)
{
        return sd_bus_slot_get_userdata(sd_bus_get_current_slot(sd_bus_message_get_bus(m)));
}

#define RV_TORRENT_PROP_GETTER(fn, sig, expr)                                                     \
        static int fn(sd_bus *bus, const char *path, const char *interface, const char *property, \
                      sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)             \
        {                                                                                         \
                const RvTorrent *t = userdata;                                                    \
                return sd_bus_message_append(reply, sig, (expr));                                 \
        }

RV_TORRENT_PROP_GETTER(rv_bus_prop_info_hash, "s", t->hash.hex)
RV_TORRENT_PROP_GETTER(rv_bus_prop_name, "s", t->name != NULL ? t->name : "")
RV_TORRENT_PROP_GETTER(rv_bus_prop_state, "s", rv_torrent_state_to_string(t->state))
RV_TORRENT_PROP_GETTER(rv_bus_prop_completed, "b", t->completed)
RV_TORRENT_PROP_GETTER(rv_bus_prop_progress, "d", t->progress)
RV_TORRENT_PROP_GETTER(rv_bus_prop_size, "t", (uint64_t)t->total_size)
RV_TORRENT_PROP_GETTER(rv_bus_prop_wanted, "t", (uint64_t)t->wanted_size)
RV_TORRENT_PROP_GETTER(rv_bus_prop_done, "t", (uint64_t)t->wanted_done)
RV_TORRENT_PROP_GETTER(rv_bus_prop_download_rate, "t", (uint64_t)t->download_rate)
RV_TORRENT_PROP_GETTER(rv_bus_prop_upload_rate, "t", (uint64_t)t->upload_rate)
RV_TORRENT_PROP_GETTER(rv_bus_prop_downloaded, "t", (uint64_t)t->downloaded)
RV_TORRENT_PROP_GETTER(rv_bus_prop_uploaded, "t", (uint64_t)t->uploaded)
RV_TORRENT_PROP_GETTER(rv_bus_prop_eta, "x", (int64_t)rv_torrent_get_eta(t))
RV_TORRENT_PROP_GETTER(rv_bus_prop_peers, "u", (uint32_t)t->num_peers)
RV_TORRENT_PROP_GETTER(rv_bus_prop_seeds, "u", (uint32_t)t->num_seeds)
RV_TORRENT_PROP_GETTER(rv_bus_prop_save_path, "s", t->save_path != NULL ? t->save_path : "")
RV_TORRENT_PROP_GETTER(rv_bus_prop_sequential, "b", t->sequential)
RV_TORRENT_PROP_GETTER(rv_bus_prop_download_limit, "x", (int64_t)t->download_limit)
RV_TORRENT_PROP_GETTER(rv_bus_prop_upload_limit, "x", (int64_t)t->upload_limit)
RV_TORRENT_PROP_GETTER(rv_bus_prop_added_time, "t", (uint64_t)t->added_time)
RV_TORRENT_PROP_GETTER(rv_bus_prop_completed_time, "t", (uint64_t)t->completed_time)
RV_TORRENT_PROP_GETTER(rv_bus_prop_error, "s", t->error != NULL ? t->error : "")
RV_TORRENT_PROP_GETTER(rv_bus_prop_skip_fluff, "b", t->selection != NULL && t->selection->skip_fluff)
RV_TORRENT_PROP_GETTER(rv_bus_prop_fs_state, "s", t->fs_state != NULL ? t->fs_state : "idle")
RV_TORRENT_PROP_GETTER(rv_bus_prop_fs_error, "s", t->fs_error != NULL ? t->fs_error : "")
RV_TORRENT_PROP_GETTER(rv_bus_prop_library_path, "s", t->library_path != NULL ? t->library_path : "")

static int
rv_bus_prop_labels(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                   void *userdata, sd_bus_error *ret_error)
{
        const RvTorrent *t = userdata;

        return sd_bus_message_append_strv(reply, t->labels);
}

static int
rv_bus_prop_globs(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                  void *userdata, sd_bus_error *ret_error)
{
        const RvTorrent *t = userdata;
        char *empty[] = { NULL };

        if (t->selection == NULL)
                return sd_bus_message_append_strv(reply, empty);
        return sd_bus_message_append_strv(reply, g_str_equal(property, "Include") ? t->selection->include
                                                                                  : t->selection->exclude);
}

/*
 * every call that changes a torrent is parsed and validated into an
 * RvBusTorrentCall, authorized, and then applied by rv_bus_torrent_apply()
 * after looking the torrent up again: it may have gone while polkit thought
 */
typedef enum {
        RV_BUS_OP_PAUSE,
        RV_BUS_OP_RESUME,
        RV_BUS_OP_REMOVE,
        RV_BUS_OP_RECHECK,
        RV_BUS_OP_REANNOUNCE,
        RV_BUS_OP_SET_SELECTION,
        RV_BUS_OP_SET_PRIORITIES,
        RV_BUS_OP_MOVE_STORAGE,
        RV_BUS_OP_LIST_FILES,
        RV_BUS_OP_SET_SEQUENTIAL,
        RV_BUS_OP_SET_DOWNLOAD_LIMIT,
        RV_BUS_OP_SET_UPLOAD_LIMIT,
        RV_BUS_OP_SET_LABELS,
        RV_BUS_OP_RETRY,
} RvBusOp;

typedef struct {
        RvBusOp op;
        RvInfoHash hash;
        gboolean flag;
        gint64 limit;
        char *path;
        GStrv labels;
        RvSelection *selection;
        GArray *indexes;
        GByteArray *priorities;
} RvBusTorrentCall;

static void
rv_bus_torrent_call_free(RvBusTorrentCall *call)
{
        g_free(call->path);
        g_strfreev(call->labels);
        rv_selection_free(call->selection);
        if (call->indexes != NULL)
                g_array_unref(call->indexes);
        if (call->priorities != NULL)
                g_byte_array_unref(call->priorities);
        g_free(call);
}

static RvBusTorrentCall *
rv_bus_torrent_call_new(RvBusOp op, const RvTorrent *torrent)
{
        RvBusTorrentCall *call = g_new0(RvBusTorrentCall, 1);

        call->op = op;
        call->hash = torrent->hash;
        return call;
}

static void rv_bus_list_files_cb(GObject *source, GAsyncResult *result, gpointer user_data);

static gboolean
rv_bus_torrent_apply(RvBus *self, RvTorrent *t, RvBusTorrentCall *call, sd_bus_message *m, GError **error)
{
        switch (call->op) {
        case RV_BUS_OP_PAUSE:
                return rv_manager_pause(self->manager, t, error);
        case RV_BUS_OP_RESUME:
                return rv_manager_resume(self->manager, t, error);
        case RV_BUS_OP_REMOVE:
                return rv_manager_remove(self->manager, t, call->flag, error);
        case RV_BUS_OP_RECHECK:
                return rv_manager_recheck(self->manager, t, error);
        case RV_BUS_OP_REANNOUNCE:
                return rv_manager_reannounce(self->manager, t, error);
        case RV_BUS_OP_SET_SELECTION:
                return rv_manager_set_selection(self->manager, t, call->selection, error);
        case RV_BUS_OP_SET_PRIORITIES:
                return rv_manager_set_file_priorities(self->manager, t, (const guint32 *)(gpointer)call->indexes->data,
                                                      call->priorities->data, call->indexes->len, error);
        case RV_BUS_OP_MOVE_STORAGE:
                return rv_manager_move_storage(self->manager, t, call->path, error);
        case RV_BUS_OP_SET_SEQUENTIAL:
                return rv_manager_set_sequential(self->manager, t, call->flag, error);
        case RV_BUS_OP_SET_DOWNLOAD_LIMIT:
                return rv_manager_set_limits(self->manager, t, call->limit, t->upload_limit, error);
        case RV_BUS_OP_SET_UPLOAD_LIMIT:
                return rv_manager_set_limits(self->manager, t, t->download_limit, call->limit, error);
        case RV_BUS_OP_SET_LABELS:
                return rv_manager_set_labels(self->manager, t, (const char *const *)call->labels, error);
        case RV_BUS_OP_RETRY:
                return rv_manager_fs_retry(self->manager, t, error);
        case RV_BUS_OP_LIST_FILES:
        default:
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INTERNAL, "unknown operation");
                return FALSE;
        }
}

static int
rv_bus_torrent_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        RvBusTorrentCall *call = data;
        g_autoptr(GError) error = NULL;
        RvTorrent *t = rv_manager_lookup(self->manager, &call->hash);

        if (t == NULL || t->removing) {
                g_set_error(&error, RV_ERROR, RV_ERROR_NOT_FOUND, "torrent %s is gone", call->hash.hex);
                return rv_bus_set_error(ret_error, error);
        }
        if (call->op == RV_BUS_OP_LIST_FILES) {
                rv_manager_list_files_async(self->manager, t, NULL, rv_bus_list_files_cb, sd_bus_message_ref(m));
                return 1;
        }
        if (!rv_bus_torrent_apply(self, t, call, m, &error))
                return rv_bus_set_error(ret_error, error);
        /* the caller sees the new state before the reply */
        rv_bus_flush(self);
        return sd_bus_reply_method_return(m, NULL);
}

static int
rv_bus_torrent_run(sd_bus_message *m, RvTorrent *t, RvBusTorrentCall *call, sd_bus_error *ret_error)
{
        RvBus *self = rv_bus_from_message(m);
        const char *details[] = { "info_hash", t->hash.hex, "name", t->name != NULL ? t->name : "", NULL };

        return rv_bus_authorize_message(self, m, details, rv_bus_torrent_authorized, call,
                                        (GDestroyNotify)rv_bus_torrent_call_free, ret_error);
}

static int
rv_bus_method_pause(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_torrent_run(m, userdata, rv_bus_torrent_call_new(RV_BUS_OP_PAUSE, userdata), ret_error);
}

static int
rv_bus_method_resume(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_torrent_run(m, userdata, rv_bus_torrent_call_new(RV_BUS_OP_RESUME, userdata), ret_error);
}

static int
rv_bus_method_recheck(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_torrent_run(m, userdata, rv_bus_torrent_call_new(RV_BUS_OP_RECHECK, userdata), ret_error);
}

static int
rv_bus_method_reannounce(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_torrent_run(m, userdata, rv_bus_torrent_call_new(RV_BUS_OP_REANNOUNCE, userdata), ret_error);
}

static int
rv_bus_method_retry(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_torrent_run(m, userdata, rv_bus_torrent_call_new(RV_BUS_OP_RETRY, userdata), ret_error);
}

static int
rv_bus_method_remove(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBusTorrentCall *call;
        int delete_data = 0;
        int r = sd_bus_message_read(m, "b", &delete_data);

        if (r < 0)
                return r;
        call = rv_bus_torrent_call_new(RV_BUS_OP_REMOVE, userdata);
        call->flag = delete_data != 0;
        return rv_bus_torrent_run(m, userdata, call, ret_error);
}

static int
rv_bus_method_set_selection(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        g_auto(GStrv) include = NULL;
        g_auto(GStrv) exclude = NULL;
        g_autoptr(GError) error = NULL;
        RvSelection *selection;
        RvBusTorrentCall *call;
        int skip_fluff = 0;
        int r;

        r = sd_bus_message_read_strv(m, &include);
        if (r >= 0)
                r = sd_bus_message_read_strv(m, &exclude);
        if (r >= 0)
                r = sd_bus_message_read(m, "b", &skip_fluff);
        if (r < 0)
                return r;
        selection =
                rv_selection_new((const char *const *)include, (const char *const *)exclude, skip_fluff != 0, &error);
        if (selection == NULL)
                return rv_bus_set_error(ret_error, error);
        call = rv_bus_torrent_call_new(RV_BUS_OP_SET_SELECTION, userdata);
        call->selection = selection;
        return rv_bus_torrent_run(m, userdata, call, ret_error);
}

static int
rv_bus_method_set_file_priorities(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvTorrent *t = userdata;
        g_autoptr(GArray) indexes = g_array_new(FALSE, FALSE, sizeof(guint32));
        g_autoptr(GByteArray) prios = g_byte_array_new();
        RvBusTorrentCall *call;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(uy)");
        if (r < 0)
                return r;
        for (;;) {
                uint32_t index = 0;
                uint8_t prio = 0;
                r = sd_bus_message_read(m, "(uy)", &index, &prio);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (t->files != NULL && index >= t->files->len)
                        return sd_bus_error_setf(ret_error, rv_error_to_dbus_name(RV_ERROR_INVALID_ARGUMENT),
                                                 "priorities[%u]: file index %u is out of range (%u files)",
                                                 indexes->len, index, t->files->len);
                if (prio > 7)
                        return sd_bus_error_setf(ret_error, rv_error_to_dbus_name(RV_ERROR_INVALID_ARGUMENT),
                                                 "priorities[%u]: priority %u is out of range (0..7)", indexes->len,
                                                 prio);
                g_array_append_val(indexes, index);
                g_byte_array_append(prios, &prio, 1);
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        call = rv_bus_torrent_call_new(RV_BUS_OP_SET_PRIORITIES, userdata);
        call->indexes = g_steal_pointer(&indexes);
        call->priorities = g_steal_pointer(&prios);
        return rv_bus_torrent_run(m, userdata, call, ret_error);
}

static int
rv_bus_method_move_storage(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        g_autoptr(GError) error = NULL;
        const char *save_path = NULL;
        RvBusTorrentCall *call;
        int r = sd_bus_message_read(m, "s", &save_path);

        if (r < 0)
                return r;
        if (!rv_validate_save_path(save_path, "save_path", &error))
                return rv_bus_set_error(ret_error, error);
        call = rv_bus_torrent_call_new(RV_BUS_OP_MOVE_STORAGE, userdata);
        call->path = g_strdup(save_path);
        return rv_bus_torrent_run(m, userdata, call, ret_error);
}

static void
rv_bus_list_files_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(sd_bus_message) m = user_data;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) files = rv_manager_list_files_finish(RV_MANAGER(source), result, &error);
        int r;

        if (files == NULL) {
                (void)rv_bus_reply_error(m, error);
                return;
        }
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(usttyb)");
        for (guint i = 0; r >= 0 && i < files->len; i++) {
                RvFileInfo *fi = &g_array_index(files, RvFileInfo, i);
                r = sd_bus_message_append(reply, "(usttyb)", fi->index, fi->path, (uint64_t)fi->size,
                                          (uint64_t)fi->done, fi->priority, fi->wanted);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                g_debug("ListFiles reply failed: %s", g_strerror(-r));
}

static int
rv_bus_method_list_files(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_torrent_run(m, userdata, rv_bus_torrent_call_new(RV_BUS_OP_LIST_FILES, userdata), ret_error);
}

/*
 * writable properties: Properties.Set is intercepted before sd-bus handles it
 * (see rv_bus_torrent_filter_cb), parsed and validated here, then authorized
 * like a method; the vtable setters below only serve callers that reach sd-bus
 * directly, and refuse
 */
int
rv_bus_torrent_set_property(RvBus *self, sd_bus_message *m, const char *property, sd_bus_error *ret_error)
{
        RvTorrent *t = rv_bus_torrent_from_path(self, sd_bus_message_get_path(m));
        g_autoptr(GError) error = NULL;
        RvBusTorrentCall *call;
        char type = 0;
        const char *contents = NULL;
        const char *want;
        int r;

        if (t == NULL || t->removing)
                return 0;
        if (g_str_equal(property, "Sequential"))
                want = "b";
        else if (g_str_equal(property, "DownloadLimit") || g_str_equal(property, "UploadLimit"))
                want = "x";
        else if (g_str_equal(property, "Labels"))
                want = "as";
        else
                return 0;
        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0 || type != 'v' || g_strcmp0(contents, want) != 0)
                return sd_bus_error_setf(ret_error, rv_error_to_dbus_name(RV_ERROR_INVALID_ARGUMENT),
                                         "%s: expected a value of type '%s'", property, want);
        r = sd_bus_message_enter_container(m, 'v', want);
        if (r < 0)
                return r;
        if (g_str_equal(want, "b")) {
                int b = 0;
                r = sd_bus_message_read(m, "b", &b);
                if (r < 0)
                        return r;
                call = rv_bus_torrent_call_new(RV_BUS_OP_SET_SEQUENTIAL, t);
                call->flag = b != 0;
        } else if (g_str_equal(want, "x")) {
                int64_t limit = 0;
                r = sd_bus_message_read(m, "x", &limit);
                if (r < 0)
                        return r;
                if (!rv_validate_limit(limit, property, &error))
                        return rv_bus_set_error(ret_error, error);
                call = rv_bus_torrent_call_new(g_str_equal(property, "DownloadLimit") ? RV_BUS_OP_SET_DOWNLOAD_LIMIT
                                                                                      : RV_BUS_OP_SET_UPLOAD_LIMIT,
                                               t);
                call->limit = limit;
        } else {
                g_auto(GStrv) labels = NULL;
                r = sd_bus_message_read_strv(m, &labels);
                if (r < 0)
                        return r;
                if (!rv_validate_labels((const char *const *)labels, &error))
                        return rv_bus_set_error(ret_error, error);
                call = rv_bus_torrent_call_new(RV_BUS_OP_SET_LABELS, t);
                call->labels = g_steal_pointer(&labels);
        }
        {
                const char *details[] = { "info_hash", t->hash.hex, "name", t->name != NULL ? t->name : "",
                                          "property",  property,    NULL };
                const char *action = rv_bus_action_for(RV_BUS_TORRENT_IFACE, property);
                return rv_bus_authorize(self, m, action != NULL ? action : RV_ACTION_MANAGE, details,
                                        rv_bus_torrent_authorized, call, (GDestroyNotify)rv_bus_torrent_call_free,
                                        ret_error);
        }
}

static int
rv_bus_set_refused(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *value,
                   void *userdata, sd_bus_error *ret_error)
{
        return sd_bus_error_set(ret_error, SD_BUS_ERROR_ACCESS_DENIED, "property writes go through authorization");
}

#define RV_PROP(name, sig, getter) SD_BUS_PROPERTY(name, sig, getter, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

const sd_bus_vtable rv_bus_torrent_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("InfoHash", "s", rv_bus_prop_info_hash, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        RV_PROP("Name", "s", rv_bus_prop_name),
        RV_PROP("State", "s", rv_bus_prop_state),
        RV_PROP("Completed", "b", rv_bus_prop_completed),
        RV_PROP("Progress", "d", rv_bus_prop_progress),
        RV_PROP("Size", "t", rv_bus_prop_size),
        RV_PROP("WantedSize", "t", rv_bus_prop_wanted),
        RV_PROP("Done", "t", rv_bus_prop_done),
        RV_PROP("DownloadRate", "t", rv_bus_prop_download_rate),
        RV_PROP("UploadRate", "t", rv_bus_prop_upload_rate),
        RV_PROP("Downloaded", "t", rv_bus_prop_downloaded),
        RV_PROP("Uploaded", "t", rv_bus_prop_uploaded),
        RV_PROP("Eta", "x", rv_bus_prop_eta),
        RV_PROP("Peers", "u", rv_bus_prop_peers),
        RV_PROP("Seeds", "u", rv_bus_prop_seeds),
        RV_PROP("SavePath", "s", rv_bus_prop_save_path),
        SD_BUS_WRITABLE_PROPERTY("Sequential", "b", rv_bus_prop_sequential, rv_bus_set_refused, 0,
                                 SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_WRITABLE_PROPERTY("DownloadLimit", "x", rv_bus_prop_download_limit, rv_bus_set_refused, 0,
                                 SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_WRITABLE_PROPERTY("UploadLimit", "x", rv_bus_prop_upload_limit, rv_bus_set_refused, 0,
                                 SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_WRITABLE_PROPERTY("Labels", "as", rv_bus_prop_labels, rv_bus_set_refused, 0,
                                 SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
        RV_PROP("Include", "as", rv_bus_prop_globs),
        RV_PROP("Exclude", "as", rv_bus_prop_globs),
        RV_PROP("SkipFluff", "b", rv_bus_prop_skip_fluff),
        SD_BUS_PROPERTY("AddedTime", "t", rv_bus_prop_added_time, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        RV_PROP("CompletedTime", "t", rv_bus_prop_completed_time),
        RV_PROP("Error", "s", rv_bus_prop_error),
        RV_PROP("FsState", "s", rv_bus_prop_fs_state),
        RV_PROP("FsError", "s", rv_bus_prop_fs_error),
        RV_PROP("LibraryPath", "s", rv_bus_prop_library_path),
        SD_BUS_METHOD_WITH_ARGS("Pause", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, rv_bus_method_pause,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Resume", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, rv_bus_method_resume,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Remove", SD_BUS_ARGS("b", delete_data), SD_BUS_NO_RESULT, rv_bus_method_remove,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Recheck", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, rv_bus_method_recheck,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reannounce", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, rv_bus_method_reannounce,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetSelection", SD_BUS_ARGS("as", include, "as", exclude, "b", skip_fluff),
                                SD_BUS_NO_RESULT, rv_bus_method_set_selection, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListFiles", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(usttyb)", files),
                                rv_bus_method_list_files, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetFilePriorities", SD_BUS_ARGS("a(uy)", priorities), SD_BUS_NO_RESULT,
                                rv_bus_method_set_file_priorities, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MoveStorage", SD_BUS_ARGS("s", save_path), SD_BUS_NO_RESULT,
                                rv_bus_method_move_storage, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Retry", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, rv_bus_method_retry,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
