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

/* a property's value, as the core's field table has it */
static int
rv_bus_append_field(sd_bus_message *reply, const RvTorrentField *field, const RvTorrent *t)
{
        RvFieldValue v;

        field->get(t, &v);
        /* append_basic, not append: no format to parse, which GetManagedObjects did 110,000 times with 10,000 */
        switch (v.type) {
        case RV_FIELD_STRING:
                return sd_bus_message_append_basic(reply, 's', v.s);
        case RV_FIELD_BOOL: {
                int b = v.b != FALSE;
                return sd_bus_message_append_basic(reply, 'b', &b);
        }
        case RV_FIELD_DOUBLE:
                return sd_bus_message_append_basic(reply, 'd', &v.d);
        case RV_FIELD_UINT64: {
                uint64_t u64 = (uint64_t)MAX(v.i, 0);
                return sd_bus_message_append_basic(reply, 't', &u64);
        }
        case RV_FIELD_INT64: {
                int64_t x = v.i;
                return sd_bus_message_append_basic(reply, 'x', &x);
        }
        case RV_FIELD_UINT32: {
                uint32_t u = (uint32_t)MAX(v.i, 0);
                return sd_bus_message_append_basic(reply, 'u', &u);
        }
        case RV_FIELD_STRV:
                return sd_bus_message_append_strv(reply, (char **)v.strv);
        default:
                return -EINVAL;
        }
}

/* one getter per property, each finding its field once */
#define RV_FIELD_PROP(fn, prop)                                                                   \
        static int fn(sd_bus *bus, const char *path, const char *interface, const char *property, \
                      sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)             \
        {                                                                                         \
                static const RvTorrentField *field;                                               \
                if (field == NULL)                                                                \
                        field = rv_torrent_field_by_property(prop);                               \
                return rv_bus_append_field(reply, field, userdata);                               \
        }

RV_FIELD_PROP(rv_bus_prop_info_hash, "InfoHash")
RV_FIELD_PROP(rv_bus_prop_name, "Name")
RV_FIELD_PROP(rv_bus_prop_state, "State")
RV_FIELD_PROP(rv_bus_prop_completed, "Completed")
RV_FIELD_PROP(rv_bus_prop_progress, "Progress")
RV_FIELD_PROP(rv_bus_prop_size, "Size")
RV_FIELD_PROP(rv_bus_prop_wanted, "WantedSize")
RV_FIELD_PROP(rv_bus_prop_done, "Done")
RV_FIELD_PROP(rv_bus_prop_download_rate, "DownloadRate")
RV_FIELD_PROP(rv_bus_prop_upload_rate, "UploadRate")
RV_FIELD_PROP(rv_bus_prop_downloaded, "Downloaded")
RV_FIELD_PROP(rv_bus_prop_uploaded, "Uploaded")
RV_FIELD_PROP(rv_bus_prop_eta, "Eta")
RV_FIELD_PROP(rv_bus_prop_peers, "Peers")
RV_FIELD_PROP(rv_bus_prop_seeds, "Seeds")
RV_FIELD_PROP(rv_bus_prop_save_path, "SavePath")
RV_FIELD_PROP(rv_bus_prop_sequential, "Sequential")
RV_FIELD_PROP(rv_bus_prop_force_start, "ForceStart")
RV_FIELD_PROP(rv_bus_prop_super_seeding, "SuperSeeding")
RV_FIELD_PROP(rv_bus_prop_first_last_piece, "FirstLastPiece")
RV_FIELD_PROP(rv_bus_prop_download_limit, "DownloadLimit")
RV_FIELD_PROP(rv_bus_prop_upload_limit, "UploadLimit")
RV_FIELD_PROP(rv_bus_prop_ratio_limit, "RatioLimit")
RV_FIELD_PROP(rv_bus_prop_seeding_time_limit, "SeedingTimeLimit")
RV_FIELD_PROP(rv_bus_prop_inactive_limit, "InactiveSeedingTimeLimit")
RV_FIELD_PROP(rv_bus_prop_labels, "Labels")
RV_FIELD_PROP(rv_bus_prop_skip_fluff, "SkipFluff")
RV_FIELD_PROP(rv_bus_prop_added_time, "AddedTime")
RV_FIELD_PROP(rv_bus_prop_completed_time, "CompletedTime")
RV_FIELD_PROP(rv_bus_prop_error, "Error")
RV_FIELD_PROP(rv_bus_prop_include, "Include")
RV_FIELD_PROP(rv_bus_prop_exclude, "Exclude")
RV_FIELD_PROP(rv_bus_prop_fs_state, "FsState")
RV_FIELD_PROP(rv_bus_prop_fs_error, "FsError")
RV_FIELD_PROP(rv_bus_prop_library_path, "LibraryPath")
RV_FIELD_PROP(rv_bus_prop_tracker, "Tracker")
RV_FIELD_PROP(rv_bus_prop_trackers_count, "TrackersCount")

/*
 * every call on a torrent is decoded into an RvCommand, validated by the core
 * (rv_command_validate), authorized for the operation's scope, and run by
 * the core (rv_command_run) after the torrent is looked up again: it may have
 * gone while polkit thought
 */

static void rv_bus_list_files_cb(GObject *source, GAsyncResult *result, gpointer user_data);
static void rv_bus_get_trackers_cb(GObject *source, GAsyncResult *result, gpointer user_data);

static int
rv_bus_torrent_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        RvCommand *command = data;
        g_autoptr(GError) error = NULL;
        RvTorrent *t = rv_manager_lookup(self->manager, &command->hash);

        if (command->op == RV_OP_LIST_FILES && t != NULL && !t->removing) {
                rv_manager_list_files_async(self->manager, t, NULL, rv_bus_list_files_cb, sd_bus_message_ref(m));
                return 1;
        }
        if (command->op == RV_OP_LIST_TRACKERS && t != NULL && !t->removing) {
                rv_manager_list_trackers_async(self->manager, t, NULL, rv_bus_get_trackers_cb, sd_bus_message_ref(m));
                return 1;
        }
        if (!rv_command_run(self->manager, command, &error))
                return rv_bus_set_error(ret_error, error);
        /* the caller sees the new state before the reply (a state change went out already, progress may wait) */
        rv_event_bus_flush_torrent(rv_manager_get_events(self->manager), &command->hash);
        return sd_bus_reply_method_return(m, NULL);
}

/* validate, then authorize for the operation's scope, then run; command is taken */
static int
rv_bus_torrent_submit(RvBus *self, sd_bus_message *m, RvTorrent *t, RvCommand *command, const char *property,
                      sd_bus_error *ret_error)
{
        g_autoptr(GError) error = NULL;
        const char *details[] = {
                "info_hash", t->hash.hex, "name", t->name != NULL ? t->name : "", property != NULL ? "property" : NULL,
                property,    NULL
        };

        if (property != NULL)
                command->field = property;
        if (!rv_command_validate(command, t, &error)) {
                rv_command_free(command);
                return rv_bus_set_error(ret_error, error);
        }
        return rv_bus_authorize(self, m, rv_scope_to_polkit_action(rv_op_scope(command->op)), details,
                                rv_bus_torrent_authorized, command, (GDestroyNotify)rv_command_free, ret_error);
}

static int
rv_bus_torrent_run(sd_bus_message *m, RvTorrent *t, RvCommand *command, sd_bus_error *ret_error)
{
        return rv_bus_torrent_submit(rv_bus_from_message(m), m, t, command, NULL, ret_error);
}

static int
rv_bus_method_pause(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_torrent_run(m, userdata, rv_command_new(RV_OP_PAUSE, &((RvTorrent *)userdata)->hash), ret_error);
}

static int
rv_bus_method_resume(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_torrent_run(m, userdata, rv_command_new(RV_OP_RESUME, &((RvTorrent *)userdata)->hash), ret_error);
}

static int
rv_bus_method_recheck(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_torrent_run(m, userdata, rv_command_new(RV_OP_RECHECK, &((RvTorrent *)userdata)->hash),
                                  ret_error);
}

static int
rv_bus_method_reannounce(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_torrent_run(m, userdata, rv_command_new(RV_OP_REANNOUNCE, &((RvTorrent *)userdata)->hash),
                                  ret_error);
}

static int
rv_bus_method_retry(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_torrent_run(m, userdata, rv_command_new(RV_OP_FS_RETRY, &((RvTorrent *)userdata)->hash),
                                  ret_error);
}

static int
rv_bus_method_remove(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvCommand *command;
        int delete_data = 0;
        int r = sd_bus_message_read(m, "b", &delete_data);

        if (r < 0)
                return r;
        command = rv_command_new(RV_OP_REMOVE, &((RvTorrent *)userdata)->hash);
        command->flag = delete_data != 0;
        return rv_bus_torrent_run(m, userdata, command, ret_error);
}

static int
rv_bus_method_set_share_limits(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvCommand *command;
        double ratio = 0;
        int64_t minutes = 0;
        int64_t inactive = 0;
        int r = sd_bus_message_read(m, "dxx", &ratio, &minutes, &inactive);

        if (r < 0)
                return r;
        command = rv_command_new(RV_OP_SET_SHARE_LIMITS, &((RvTorrent *)userdata)->hash);
        command->ratio = ratio;
        command->limit = minutes;
        command->inactive_minutes = inactive;
        return rv_bus_torrent_run(m, userdata, command, ret_error);
}

static int
rv_bus_method_set_selection(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        g_auto(GStrv) include = NULL;
        g_auto(GStrv) exclude = NULL;
        g_autoptr(GError) error = NULL;
        RvSelection *selection;
        RvCommand *command;
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
        command = rv_command_new(RV_OP_SET_SELECTION, &((RvTorrent *)userdata)->hash);
        command->selection = selection;
        return rv_bus_torrent_run(m, userdata, command, ret_error);
}

static int
rv_bus_method_set_file_priorities(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        g_autoptr(RvCommand) command = rv_command_new(RV_OP_SET_FILE_PRIORITIES, &((RvTorrent *)userdata)->hash);
        int r;

        command->indexes = g_array_new(FALSE, FALSE, sizeof(guint32));
        command->priorities = g_byte_array_new();
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
                g_array_append_val(command->indexes, index);
                g_byte_array_append(command->priorities, &prio, 1);
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return rv_bus_torrent_run(m, userdata, g_steal_pointer(&command), ret_error);
}

static int
rv_bus_method_move_storage(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        const char *save_path = NULL;
        RvCommand *command;
        int r = sd_bus_message_read(m, "s", &save_path);

        if (r < 0)
                return r;
        command = rv_command_new(RV_OP_MOVE_STORAGE, &((RvTorrent *)userdata)->hash);
        command->path = g_strdup(save_path);
        return rv_bus_torrent_run(m, userdata, command, ret_error);
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

static void
rv_bus_get_trackers_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(sd_bus_message) m = user_data;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) trackers = rv_manager_list_trackers_finish(RV_MANAGER(source), result, &error);
        int r;

        if (trackers == NULL) {
                (void)rv_bus_reply_error(m, error);
                return;
        }
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sissiiii)");
        for (guint i = 0; r >= 0 && i < trackers->len; i++) {
                const RvEngineTracker *tr = g_ptr_array_index(trackers, i);
                r = sd_bus_message_append(reply, "(sissiiii)", tr->url, tr->tier,
                                          rv_tracker_status_to_string(tr->status), tr->message, tr->num_peers,
                                          tr->num_seeds, tr->num_leeches, tr->num_downloaded);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                g_debug("GetTrackers reply failed: %s", g_strerror(-r));
}

static int
rv_bus_method_get_trackers(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_torrent_run(m, userdata, rv_command_new(RV_OP_LIST_TRACKERS, &((RvTorrent *)userdata)->hash),
                                  ret_error);
}

static int
rv_bus_method_list_files(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_torrent_run(m, userdata, rv_command_new(RV_OP_LIST_FILES, &((RvTorrent *)userdata)->hash),
                                  ret_error);
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
        const RvTorrentField *field = rv_torrent_field_by_property(property);
        RvCommand *command;
        RvOp flag_op = RV_OP_LAST;
        char type = 0;
        const char *contents = NULL;
        const char *want;
        int r;

        if (t == NULL || t->removing)
                return 0;
        if (field != NULL && rv_op_for_bool_field(field->json, &flag_op))
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
                command = rv_command_new(flag_op, &t->hash);
                command->flag = b != 0;
        } else if (g_str_equal(want, "x")) {
                int64_t limit = 0;
                r = sd_bus_message_read(m, "x", &limit);
                if (r < 0)
                        return r;
                command = rv_command_new(g_str_equal(property, "DownloadLimit") ? RV_OP_SET_DOWNLOAD_LIMIT
                                                                                : RV_OP_SET_UPLOAD_LIMIT,
                                         &t->hash);
                command->limit = limit;
        } else {
                g_auto(GStrv) labels = NULL;
                r = sd_bus_message_read_strv(m, &labels);
                if (r < 0)
                        return r;
                command = rv_command_new(RV_OP_SET_LABELS, &t->hash);
                command->labels = g_steal_pointer(&labels);
        }
        return rv_bus_torrent_submit(self, m, t, command, property, ret_error);
}

static int
rv_bus_set_refused(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *value,
                   void *userdata, sd_bus_error *ret_error)
{
        return sd_bus_error_set(ret_error, SD_BUS_ERROR_ACCESS_DENIED, "property writes go through authorization");
}

/*
 * A list view draws a row from the properties of the core's list fields
 * (RvTorrentField.in_list); those are what GetAll and GetManagedObjects carry
 * and what PropertiesChanged sends with their values. The others are
 * explicit: read with Get, and only named as invalidated when they change.
 * With 10,000 torrents that halves GetManagedObjects (a client decodes every
 * value as an object of its own), and rate signals stop carrying byte counts
 * nobody draws. test-bus-actions keeps these flags and in_list in step.
 */
#define RV_PROP(name, sig, getter) SD_BUS_PROPERTY(name, sig, getter, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)
#define RV_EXPLICIT (SD_BUS_VTABLE_PROPERTY_EXPLICIT | SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION)
#define RV_PROP_EXPLICIT(name, sig, getter) SD_BUS_PROPERTY(name, sig, getter, 0, RV_EXPLICIT)
#define RV_PROP_WRITABLE(name, sig, getter) \
        SD_BUS_WRITABLE_PROPERTY(name, sig, getter, rv_bus_set_refused, 0, RV_EXPLICIT | SD_BUS_VTABLE_UNPRIVILEGED)

const sd_bus_vtable rv_bus_torrent_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("InfoHash", "s", rv_bus_prop_info_hash, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        RV_PROP("Name", "s", rv_bus_prop_name),
        RV_PROP("State", "s", rv_bus_prop_state),
        RV_PROP("Completed", "b", rv_bus_prop_completed),
        RV_PROP("Progress", "d", rv_bus_prop_progress),
        RV_PROP("Size", "t", rv_bus_prop_size),
        RV_PROP_EXPLICIT("WantedSize", "t", rv_bus_prop_wanted),
        RV_PROP("Done", "t", rv_bus_prop_done),
        RV_PROP("DownloadRate", "t", rv_bus_prop_download_rate),
        RV_PROP("UploadRate", "t", rv_bus_prop_upload_rate),
        RV_PROP_EXPLICIT("Downloaded", "t", rv_bus_prop_downloaded),
        RV_PROP_EXPLICIT("Uploaded", "t", rv_bus_prop_uploaded),
        RV_PROP("Eta", "x", rv_bus_prop_eta),
        RV_PROP_EXPLICIT("Peers", "u", rv_bus_prop_peers),
        RV_PROP_EXPLICIT("Seeds", "u", rv_bus_prop_seeds),
        RV_PROP_EXPLICIT("SavePath", "s", rv_bus_prop_save_path),
        RV_PROP_WRITABLE("Sequential", "b", rv_bus_prop_sequential),
        RV_PROP_WRITABLE("ForceStart", "b", rv_bus_prop_force_start),
        RV_PROP_WRITABLE("SuperSeeding", "b", rv_bus_prop_super_seeding),
        RV_PROP_WRITABLE("FirstLastPiece", "b", rv_bus_prop_first_last_piece),
        RV_PROP_WRITABLE("DownloadLimit", "x", rv_bus_prop_download_limit),
        RV_PROP_WRITABLE("UploadLimit", "x", rv_bus_prop_upload_limit),
        RV_PROP_EXPLICIT("RatioLimit", "d", rv_bus_prop_ratio_limit),
        RV_PROP_EXPLICIT("SeedingTimeLimit", "x", rv_bus_prop_seeding_time_limit),
        RV_PROP_EXPLICIT("InactiveSeedingTimeLimit", "x", rv_bus_prop_inactive_limit),
        SD_BUS_WRITABLE_PROPERTY("Labels", "as", rv_bus_prop_labels, rv_bus_set_refused, 0,
                                 SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
        RV_PROP_EXPLICIT("Include", "as", rv_bus_prop_include),
        RV_PROP_EXPLICIT("Exclude", "as", rv_bus_prop_exclude),
        RV_PROP_EXPLICIT("SkipFluff", "b", rv_bus_prop_skip_fluff),
        SD_BUS_PROPERTY("AddedTime", "t", rv_bus_prop_added_time, 0,
                        SD_BUS_VTABLE_PROPERTY_CONST | SD_BUS_VTABLE_PROPERTY_EXPLICIT),
        RV_PROP_EXPLICIT("CompletedTime", "t", rv_bus_prop_completed_time),
        RV_PROP_EXPLICIT("Error", "s", rv_bus_prop_error),
        RV_PROP_EXPLICIT("FsState", "s", rv_bus_prop_fs_state),
        RV_PROP_EXPLICIT("FsError", "s", rv_bus_prop_fs_error),
        RV_PROP_EXPLICIT("LibraryPath", "s", rv_bus_prop_library_path),
        RV_PROP_EXPLICIT("Tracker", "s", rv_bus_prop_tracker),
        RV_PROP_EXPLICIT("TrackersCount", "u", rv_bus_prop_trackers_count),
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
        SD_BUS_METHOD_WITH_ARGS("GetTrackers", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sissiiii)", trackers),
                                rv_bus_method_get_trackers, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetFilePriorities", SD_BUS_ARGS("a(uy)", priorities), SD_BUS_NO_RESULT,
                                rv_bus_method_set_file_priorities, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MoveStorage", SD_BUS_ARGS("s", save_path), SD_BUS_NO_RESULT,
                                rv_bus_method_move_storage, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                "SetShareLimits",
                SD_BUS_ARGS("d", ratio_limit, "x", seeding_time_limit, "x", inactive_seeding_time_limit),
                SD_BUS_NO_RESULT, rv_bus_method_set_share_limits, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Retry", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, rv_bus_method_retry,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
