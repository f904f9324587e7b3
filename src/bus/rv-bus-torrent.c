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

#define RV_TORRENT_PROP_GETTER(fn, sig, expr)                                                                        \
        static int fn(sd_bus *bus, const char *path, const char *interface, const char *property,                   \
                      sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)                                \
        {                                                                                                            \
                const RvTorrent *t = userdata;                                                                       \
                return sd_bus_message_append(reply, sig, (expr));                                                    \
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

static int
rv_bus_prop_labels(sd_bus *bus, const char *path, const char *interface, const char *property,
                   sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        const RvTorrent *t = userdata;

        return sd_bus_message_append_strv(reply, t->labels);
}

static int
rv_bus_prop_globs(sd_bus *bus, const char *path, const char *interface, const char *property,
                  sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        const RvTorrent *t = userdata;
        char *empty[] = { NULL };

        if (t->selection == NULL)
                return sd_bus_message_append_strv(reply, empty);
        return sd_bus_message_append_strv(reply, g_str_equal(property, "Include") ? t->selection->include
                                                                                  : t->selection->exclude);
}

/* writable properties */

static int
rv_bus_set_sequential(sd_bus *bus, const char *path, const char *interface, const char *property,
                      sd_bus_message *value, void *userdata, sd_bus_error *ret_error)
{
        RvTorrent *t = userdata;
        RvBus *self = rv_bus_from_message(value);
        g_autoptr(GError) error = NULL;
        int b = 0;
        int r = sd_bus_message_read(value, "b", &b);

        if (r < 0)
                return r;
        r = rv_bus_check_manage(self, value, ret_error);
        if (r < 0)
                return r;
        if (!rv_manager_set_sequential(self->manager, t, b != 0, &error))
                return rv_bus_set_error(ret_error, error);
        return 1;
}

static int
rv_bus_set_limit(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *value,
                 void *userdata, sd_bus_error *ret_error)
{
        RvTorrent *t = userdata;
        RvBus *self = rv_bus_from_message(value);
        g_autoptr(GError) error = NULL;
        gboolean down = g_str_equal(property, "DownloadLimit");
        int64_t limit = 0;
        int r = sd_bus_message_read(value, "x", &limit);

        if (r < 0)
                return r;
        if (!rv_validate_limit(limit, down ? "DownloadLimit" : "UploadLimit", &error))
                return rv_bus_set_error(ret_error, error);
        r = rv_bus_check_manage(self, value, ret_error);
        if (r < 0)
                return r;
        if (!rv_manager_set_limits(self->manager, t, down ? limit : t->download_limit, down ? t->upload_limit : limit,
                                   &error))
                return rv_bus_set_error(ret_error, error);
        return 1;
}

static int
rv_bus_set_labels(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *value,
                  void *userdata, sd_bus_error *ret_error)
{
        RvTorrent *t = userdata;
        RvBus *self = rv_bus_from_message(value);
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) labels = NULL;
        int r = sd_bus_message_read_strv(value, &labels);

        if (r < 0)
                return r;
        if (!rv_validate_labels((const char *const *)labels, &error))
                return rv_bus_set_error(ret_error, error);
        r = rv_bus_check_manage(self, value, ret_error);
        if (r < 0)
                return r;
        if (!rv_manager_set_labels(self->manager, t, (const char *const *)labels, &error))
                return rv_bus_set_error(ret_error, error);
        return 1;
}

/* methods */

typedef gboolean (*RvTorrentAction)(RvManager *manager, RvTorrent *torrent, GError **error);

static int
rv_bus_run_action(sd_bus_message *m, RvTorrent *t, RvTorrentAction action, sd_bus_error *ret_error)
{
        RvBus *self = rv_bus_from_message(m);
        g_autoptr(GError) error = NULL;
        int r = rv_bus_check_manage(self, m, ret_error);

        if (r < 0)
                return r;
        if (!action(self->manager, t, &error))
                return rv_bus_set_error(ret_error, error);
        /* the caller sees the new state before the reply */
        rv_bus_flush(self);
        return sd_bus_reply_method_return(m, NULL);
}

static int
rv_bus_method_pause(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_run_action(m, userdata, rv_manager_pause, ret_error);
}

static int
rv_bus_method_resume(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_run_action(m, userdata, rv_manager_resume, ret_error);
}

static int
rv_bus_method_recheck(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_run_action(m, userdata, rv_manager_recheck, ret_error);
}

static int
rv_bus_method_reannounce(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_run_action(m, userdata, rv_manager_reannounce, ret_error);
}

static int
rv_bus_method_remove(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = rv_bus_from_message(m);
        g_autoptr(GError) error = NULL;
        int delete_data = 0;
        int r = sd_bus_message_read(m, "b", &delete_data);

        if (r < 0)
                return r;
        r = rv_bus_check_manage(self, m, ret_error);
        if (r < 0)
                return r;
        if (!rv_manager_remove(self->manager, userdata, delete_data != 0, &error))
                return rv_bus_set_error(ret_error, error);
        return sd_bus_reply_method_return(m, NULL);
}

static int
rv_bus_method_set_selection(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = rv_bus_from_message(m);
        g_auto(GStrv) include = NULL;
        g_auto(GStrv) exclude = NULL;
        g_autoptr(RvSelection) selection = NULL;
        g_autoptr(GError) error = NULL;
        int skip_fluff = 0;
        int r;

        r = sd_bus_message_read_strv(m, &include);
        if (r >= 0)
                r = sd_bus_message_read_strv(m, &exclude);
        if (r >= 0)
                r = sd_bus_message_read(m, "b", &skip_fluff);
        if (r < 0)
                return r;
        selection = rv_selection_new((const char *const *)include, (const char *const *)exclude, skip_fluff != 0,
                                     &error);
        if (selection == NULL)
                return rv_bus_set_error(ret_error, error);
        r = rv_bus_check_manage(self, m, ret_error);
        if (r < 0)
                return r;
        if (!rv_manager_set_selection(self->manager, userdata, selection, &error))
                return rv_bus_set_error(ret_error, error);
        rv_bus_flush(self);
        return sd_bus_reply_method_return(m, NULL);
}

static int
rv_bus_method_set_file_priorities(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = rv_bus_from_message(m);
        g_autoptr(GArray) indexes = g_array_new(FALSE, FALSE, sizeof(guint32));
        g_autoptr(GByteArray) prios = g_byte_array_new();
        g_autoptr(GError) error = NULL;
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
                g_array_append_val(indexes, index);
                g_byte_array_append(prios, &prio, 1);
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        r = rv_bus_check_manage(self, m, ret_error);
        if (r < 0)
                return r;
        if (!rv_manager_set_file_priorities(self->manager, userdata, (const guint32 *)(gpointer)indexes->data,
                                            prios->data, indexes->len, &error))
                return rv_bus_set_error(ret_error, error);
        return sd_bus_reply_method_return(m, NULL);
}

static int
rv_bus_method_move_storage(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = rv_bus_from_message(m);
        g_autoptr(GError) error = NULL;
        const char *save_path = NULL;
        int r = sd_bus_message_read(m, "s", &save_path);

        if (r < 0)
                return r;
        if (!rv_validate_save_path(save_path, "save_path", &error))
                return rv_bus_set_error(ret_error, error);
        r = rv_bus_check_manage(self, m, ret_error);
        if (r < 0)
                return r;
        if (!rv_manager_move_storage(self->manager, userdata, save_path, &error))
                return rv_bus_set_error(ret_error, error);
        return sd_bus_reply_method_return(m, NULL);
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
        RvBus *self = rv_bus_from_message(m);

        rv_manager_list_files_async(self->manager, userdata, NULL, rv_bus_list_files_cb, sd_bus_message_ref(m));
        return 1;
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
        SD_BUS_WRITABLE_PROPERTY("Sequential", "b", rv_bus_prop_sequential, rv_bus_set_sequential, 0,
                                 SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_WRITABLE_PROPERTY("DownloadLimit", "x", rv_bus_prop_download_limit, rv_bus_set_limit, 0,
                                 SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_WRITABLE_PROPERTY("UploadLimit", "x", rv_bus_prop_upload_limit, rv_bus_set_limit, 0,
                                 SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_WRITABLE_PROPERTY("Labels", "as", rv_bus_prop_labels, rv_bus_set_labels, 0,
                                 SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
        RV_PROP("Include", "as", rv_bus_prop_globs),
        RV_PROP("Exclude", "as", rv_bus_prop_globs),
        RV_PROP("SkipFluff", "b", rv_bus_prop_skip_fluff),
        SD_BUS_PROPERTY("AddedTime", "t", rv_bus_prop_added_time, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        RV_PROP("CompletedTime", "t", rv_bus_prop_completed_time),
        RV_PROP("Error", "s", rv_bus_prop_error),
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
        SD_BUS_VTABLE_END,
};
