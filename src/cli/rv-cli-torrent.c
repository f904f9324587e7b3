/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "rv-cli.h"

/* a removed torrent's object goes away when libtorrent has let go; this long at most */
#define RV_CLI_REMOVE_TIMEOUT_USEC (30 * G_USEC_PER_SEC)

/* every reference is resolved before anything changes, so a typo changes nothing */
static GPtrArray *
rv_cli_resolve_all(RvCli *cli, char **args, GError **error)
{
        g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; args[i] != NULL; i++) {
                char *path = rv_cli_resolve(cli, args[i], error);
                if (path == NULL)
                        return NULL;
                g_ptr_array_add(paths, path);
        }
        return g_steal_pointer(&paths);
}

/* list */

static gboolean opt_list_quiet;

static const GOptionEntry rv_cli_list_entries[] = {
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_list_quiet, N_("Print only the info hashes"), NULL },
        G_OPTION_ENTRY_NULL,
};

static gboolean
rv_cli_list(RvCli *cli, char **args, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) list = NULL;
        g_autoptr(RvCliTable) table = NULL;
        g_autoptr(JsonBuilder) builder = NULL;
        GVariantIter iter;
        const char *hash;
        const char *name;
        const char *state;
        gboolean completed;
        double progress;
        guint64 size;
        guint64 done;
        guint64 down;
        guint64 up;
        gint64 eta;
        GVariant *labels;

        if (!rv_cli_check_args(args, 0, 0, error))
                return FALSE;
        reply = rv_cli_call(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "ListTorrents", error, NULL);
        if (reply == NULL)
                return FALSE;
        if (!rv_cli_reply_is(reply, "(a(sssbdttttxas))", "ListTorrents", error))
                return FALSE;
        list = g_variant_get_child_value(reply, 0);

        builder = json_builder_new();
        json_builder_begin_array(builder);
        table = rv_cli_table_new(9);
        rv_cli_table_set_column(table, 0, _("ID"), RV_CLI_ALIGN_LEFT, FALSE, FALSE);
        rv_cli_table_set_column(table, 1, _("NAME"), RV_CLI_ALIGN_LEFT, TRUE, FALSE);
        rv_cli_table_set_column(table, 2, _("STATE"), RV_CLI_ALIGN_LEFT, FALSE, FALSE);
        rv_cli_table_set_column(table, 3, _("DONE"), RV_CLI_ALIGN_RIGHT, FALSE, FALSE);
        rv_cli_table_set_column(table, 4, _("SIZE"), RV_CLI_ALIGN_RIGHT, FALSE, FALSE);
        rv_cli_table_set_column(table, 5, _("DOWN"), RV_CLI_ALIGN_RIGHT, FALSE, FALSE);
        rv_cli_table_set_column(table, 6, _("UP"), RV_CLI_ALIGN_RIGHT, FALSE, FALSE);
        rv_cli_table_set_column(table, 7, _("ETA"), RV_CLI_ALIGN_RIGHT, FALSE, FALSE);
        rv_cli_table_set_column(table, 8, _("LABELS"), RV_CLI_ALIGN_LEFT, FALSE, FALSE);

        g_variant_iter_init(&iter, list);
        while (g_variant_iter_loop(&iter, "(&s&s&sbdttttx@as)", &hash, &name, &state, &completed, &progress, &size,
                                   &done, &down, &up, &eta, &labels)) {
                g_autofree const char **label_strv = g_variant_get_strv(labels, NULL);

                if (opt_list_quiet) {
                        g_print("%s\n", hash);
                        continue;
                }
                if (cli->json) {
                        json_builder_begin_object(builder);
                        json_builder_set_member_name(builder, "info_hash");
                        json_builder_add_string_value(builder, hash);
                        json_builder_set_member_name(builder, "name");
                        json_builder_add_string_value(builder, name);
                        json_builder_set_member_name(builder, "state");
                        json_builder_add_string_value(builder, state);
                        json_builder_set_member_name(builder, "completed");
                        json_builder_add_boolean_value(builder, completed);
                        json_builder_set_member_name(builder, "progress");
                        json_builder_add_double_value(builder, progress);
                        json_builder_set_member_name(builder, "size");
                        json_builder_add_int_value(builder, (gint64)size);
                        json_builder_set_member_name(builder, "done");
                        json_builder_add_int_value(builder, (gint64)done);
                        json_builder_set_member_name(builder, "download_rate");
                        json_builder_add_int_value(builder, (gint64)down);
                        json_builder_set_member_name(builder, "upload_rate");
                        json_builder_add_int_value(builder, (gint64)up);
                        json_builder_set_member_name(builder, "eta");
                        json_builder_add_int_value(builder, eta);
                        json_builder_set_member_name(builder, "labels");
                        json_builder_begin_array(builder);
                        for (guint i = 0; label_strv[i] != NULL; i++)
                                json_builder_add_string_value(builder, label_strv[i]);
                        json_builder_end_array(builder);
                        json_builder_end_object(builder);
                        continue;
                }
                rv_cli_table_add_row(table, rv_cli_short_hash(hash),
                                     g_strdup(name[0] != '\0' ? name : _("(no metadata yet)")), g_strdup(state),
                                     rv_cli_format_percent(progress), rv_cli_format_size(size),
                                     rv_cli_format_rate(down), rv_cli_format_rate(up), rv_cli_format_eta(eta),
                                     g_strjoinv(",", (char **)label_strv));
        }
        json_builder_end_array(builder);

        if (opt_list_quiet)
                return TRUE;
        if (cli->json) {
                g_autoptr(JsonNode) root = json_builder_get_root(builder);
                rv_cli_print_json(root, TRUE);
                return TRUE;
        }
        if (g_variant_n_children(list) == 0) {
                g_print("%s\n", _("No torrents."));
                return TRUE;
        }
        rv_cli_table_print(table, stdout, rv_cli_output_width());
        return TRUE;
}

/* info */

typedef enum {
        RV_CLI_SHOW_TEXT,
        RV_CLI_SHOW_BOOL,
        RV_CLI_SHOW_SIZE,
        RV_CLI_SHOW_RATE,
        RV_CLI_SHOW_LIMIT,
        RV_CLI_SHOW_ETA,
        RV_CLI_SHOW_PERCENT,
        RV_CLI_SHOW_TIME,
        RV_CLI_SHOW_COUNT,
        RV_CLI_SHOW_LIST,
        RV_CLI_SHOW_NONEMPTY,
} RvCliShow;

static const struct {
        const char *property;
        const char *label;
        RvCliShow show;
} rv_cli_info_fields[] = {
        { "Name", N_("Name"), RV_CLI_SHOW_TEXT },
        { "InfoHash", N_("Info hash"), RV_CLI_SHOW_TEXT },
        { "State", N_("State"), RV_CLI_SHOW_TEXT },
        { "Error", N_("Error"), RV_CLI_SHOW_NONEMPTY },
        { "Completed", N_("Completed"), RV_CLI_SHOW_BOOL },
        { "Progress", N_("Progress"), RV_CLI_SHOW_PERCENT },
        { "Done", N_("Done"), RV_CLI_SHOW_SIZE },
        { "WantedSize", N_("Wanted"), RV_CLI_SHOW_SIZE },
        { "Size", N_("Size"), RV_CLI_SHOW_SIZE },
        { "Eta", N_("ETA"), RV_CLI_SHOW_ETA },
        { "DownloadRate", N_("Download rate"), RV_CLI_SHOW_RATE },
        { "UploadRate", N_("Upload rate"), RV_CLI_SHOW_RATE },
        { "Downloaded", N_("Downloaded"), RV_CLI_SHOW_SIZE },
        { "Uploaded", N_("Uploaded"), RV_CLI_SHOW_SIZE },
        { "Peers", N_("Peers"), RV_CLI_SHOW_COUNT },
        { "Seeds", N_("Seeds"), RV_CLI_SHOW_COUNT },
        { "SavePath", N_("Save path"), RV_CLI_SHOW_TEXT },
        { "Sequential", N_("Sequential"), RV_CLI_SHOW_BOOL },
        { "DownloadLimit", N_("Download limit"), RV_CLI_SHOW_LIMIT },
        { "UploadLimit", N_("Upload limit"), RV_CLI_SHOW_LIMIT },
        { "Labels", N_("Labels"), RV_CLI_SHOW_LIST },
        { "Include", N_("Include"), RV_CLI_SHOW_LIST },
        { "Exclude", N_("Exclude"), RV_CLI_SHOW_LIST },
        { "SkipFluff", N_("Skip fluff"), RV_CLI_SHOW_BOOL },
        { "AddedTime", N_("Added"), RV_CLI_SHOW_TIME },
        { "CompletedTime", N_("Completed at"), RV_CLI_SHOW_TIME },
        { "FsState", N_("File pipeline"), RV_CLI_SHOW_TEXT },
        { "FsError", N_("Pipeline error"), RV_CLI_SHOW_NONEMPTY },
        { "LibraryPath", N_("Library path"), RV_CLI_SHOW_NONEMPTY },
};

static char *
rv_cli_show_value(GVariant *value, RvCliShow show)
{
        switch (show) {
        case RV_CLI_SHOW_BOOL:
                return g_strdup(rv_cli_format_bool(rv_cli_variant_to_int64(value) != 0));
        case RV_CLI_SHOW_SIZE:
                return rv_cli_format_size((guint64)MAX(rv_cli_variant_to_int64(value), 0));
        case RV_CLI_SHOW_RATE:
                return rv_cli_format_rate((guint64)MAX(rv_cli_variant_to_int64(value), 0));
        case RV_CLI_SHOW_LIMIT:
                return rv_cli_format_limit(rv_cli_variant_to_int64(value));
        case RV_CLI_SHOW_ETA:
                return rv_cli_format_eta(rv_cli_variant_to_int64(value));
        case RV_CLI_SHOW_PERCENT:
                return rv_cli_format_percent(
                        g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE) ? g_variant_get_double(value) : 0.0);
        case RV_CLI_SHOW_TIME:
                return rv_cli_format_time((guint64)MAX(rv_cli_variant_to_int64(value), 0));
        case RV_CLI_SHOW_COUNT:
                return g_strdup_printf("%" G_GINT64_FORMAT, rv_cli_variant_to_int64(value));
        case RV_CLI_SHOW_LIST:
                if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) {
                        g_autofree const char **strv = g_variant_get_strv(value, NULL);
                        return strv[0] != NULL ? g_strjoinv(", ", (char **)strv) : g_strdup("-");
                }
                break;
        case RV_CLI_SHOW_TEXT:
        case RV_CLI_SHOW_NONEMPTY:
                if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
                        return g_variant_dup_string(value, NULL);
                break;
        default:
                break;
        }
        return g_variant_print(value, FALSE);
}

static gboolean
rv_cli_info(RvCli *cli, char **args, GError **error)
{
        g_autofree char *path = NULL;
        g_autoptr(GVariant) props = NULL;
        g_autoptr(GVariantDict) dict = NULL;
        guint width = 0;
        GVariantIter iter;
        const char *key;

        if (!rv_cli_check_args(args, 1, 1, error))
                return FALSE;
        path = rv_cli_resolve(cli, args[0], error);
        if (path == NULL)
                return FALSE;
        {
                const char *names[G_N_ELEMENTS(rv_cli_info_fields) + 1];
                for (guint i = 0; i < G_N_ELEMENTS(rv_cli_info_fields); i++)
                        names[i] = rv_cli_info_fields[i].property;
                names[G_N_ELEMENTS(rv_cli_info_fields)] = NULL;
                props = rv_cli_get_all_with(cli, path, RV_BUS_TORRENT_IFACE, names, error);
        }
        if (props == NULL)
                return FALSE;
        if (cli->json) {
                g_autoptr(JsonNode) root = rv_cli_properties_to_json(props);
                rv_cli_print_json(root, TRUE);
                return TRUE;
        }

        dict = g_variant_dict_new(props);
        for (guint i = 0; i < G_N_ELEMENTS(rv_cli_info_fields); i++)
                width = MAX(width, rv_cli_display_width(_(rv_cli_info_fields[i].label)));
        for (guint i = 0; i < G_N_ELEMENTS(rv_cli_info_fields); i++) {
                g_autoptr(GVariant) value = g_variant_dict_lookup_value(dict, rv_cli_info_fields[i].property, NULL);
                g_autofree char *text = NULL;
                if (value == NULL)
                        continue;
                text = rv_cli_show_value(value, rv_cli_info_fields[i].show);
                if (rv_cli_info_fields[i].show == RV_CLI_SHOW_NONEMPTY && text[0] == '\0')
                        continue;
                rv_cli_print_field(_(rv_cli_info_fields[i].label), width, text);
        }
        /* properties a newer daemon has and this table does not know, as they are */
        g_variant_iter_init(&iter, props);
        while (g_variant_iter_next(&iter, "{&sv}", &key, NULL)) {
                gboolean known = FALSE;
                for (guint i = 0; i < G_N_ELEMENTS(rv_cli_info_fields); i++)
                        known |= g_str_equal(rv_cli_info_fields[i].property, key);
                if (!known) {
                        g_autoptr(GVariant) value = g_variant_dict_lookup_value(dict, key, NULL);
                        g_autofree char *text = g_variant_print(value, FALSE);
                        rv_cli_print_field(key, width, text);
                }
        }
        return TRUE;
}

/* files */

static gboolean
rv_cli_files(RvCli *cli, char **args, GError **error)
{
        g_autofree char *path = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) files = NULL;
        g_autoptr(RvCliTable) table = NULL;
        g_autoptr(JsonBuilder) builder = NULL;
        GVariantIter iter;
        guint32 index;
        const char *file_path;
        guint64 size;
        guint64 done;
        guint8 priority;
        gboolean wanted;

        if (!rv_cli_check_args(args, 1, 1, error))
                return FALSE;
        path = rv_cli_resolve(cli, args[0], error);
        if (path == NULL)
                return FALSE;
        reply = rv_cli_call(cli, path, RV_BUS_TORRENT_IFACE, "ListFiles", error, NULL);
        if (reply == NULL)
                return FALSE;
        if (!rv_cli_reply_is(reply, "(a(usttyb))", "ListFiles", error))
                return FALSE;
        files = g_variant_get_child_value(reply, 0);

        builder = json_builder_new();
        json_builder_begin_array(builder);
        table = rv_cli_table_new(5);
        rv_cli_table_set_column(table, 0, "#", RV_CLI_ALIGN_RIGHT, FALSE, FALSE);
        rv_cli_table_set_column(table, 1, _("PRIORITY"), RV_CLI_ALIGN_LEFT, FALSE, FALSE);
        rv_cli_table_set_column(table, 2, _("DONE"), RV_CLI_ALIGN_RIGHT, FALSE, FALSE);
        rv_cli_table_set_column(table, 3, _("SIZE"), RV_CLI_ALIGN_RIGHT, FALSE, FALSE);
        rv_cli_table_set_column(table, 4, _("PATH"), RV_CLI_ALIGN_LEFT, TRUE, TRUE);
        g_variant_iter_init(&iter, files);
        while (g_variant_iter_next(&iter, "(u&sttyb)", &index, &file_path, &size, &done, &priority, &wanted)) {
                const char *prio_name = rv_cli_priority_to_string(priority);
                if (cli->json) {
                        json_builder_begin_object(builder);
                        json_builder_set_member_name(builder, "index");
                        json_builder_add_int_value(builder, index);
                        json_builder_set_member_name(builder, "path");
                        json_builder_add_string_value(builder, file_path);
                        json_builder_set_member_name(builder, "size");
                        json_builder_add_int_value(builder, (gint64)size);
                        json_builder_set_member_name(builder, "done");
                        json_builder_add_int_value(builder, (gint64)done);
                        json_builder_set_member_name(builder, "priority");
                        json_builder_add_int_value(builder, priority);
                        json_builder_set_member_name(builder, "wanted");
                        json_builder_add_boolean_value(builder, wanted);
                        json_builder_end_object(builder);
                        continue;
                }
                rv_cli_table_add_row(table, g_strdup_printf("%u", index),
                                     !wanted             ? g_strdup("skip")
                                     : prio_name != NULL ? g_strdup(prio_name)
                                                         : g_strdup_printf("%u", priority),
                                     rv_cli_format_percent(size > 0 ? (double)done / (double)size : 1.0),
                                     rv_cli_format_size(size), g_strdup(file_path));
        }
        json_builder_end_array(builder);
        if (cli->json) {
                g_autoptr(JsonNode) root = json_builder_get_root(builder);
                rv_cli_print_json(root, TRUE);
                return TRUE;
        }
        if (g_variant_n_children(files) == 0) {
                g_print("%s\n", _("No files yet: the metadata has not arrived."));
                return TRUE;
        }
        rv_cli_table_print(table, stdout, rv_cli_output_width());
        return TRUE;
}

/* pause, resume, recheck, reannounce */

static gboolean opt_all;

static const GOptionEntry rv_cli_all_entries[] = {
        { "all", 'a', 0, G_OPTION_ARG_NONE, &opt_all, N_("Every torrent"), NULL },
        G_OPTION_ENTRY_NULL,
};

static gboolean
rv_cli_each(RvCli *cli, char **args, const char *method, const char *all_method, GError **error)
{
        g_autoptr(GPtrArray) paths = NULL;

        if (opt_all) {
                g_autoptr(GVariant) reply = NULL;
                if (!rv_cli_check_args(args, 0, 0, error))
                        return FALSE;
                reply = rv_cli_call(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, all_method, error, NULL);
                return reply != NULL;
        }
        if (!rv_cli_check_args(args, 1, G_MAXUINT, error))
                return FALSE;
        paths = rv_cli_resolve_all(cli, args, error);
        if (paths == NULL)
                return FALSE;
        for (guint i = 0; i < paths->len; i++) {
                g_autoptr(GVariant) reply =
                        rv_cli_call(cli, g_ptr_array_index(paths, i), RV_BUS_TORRENT_IFACE, method, error, NULL);
                if (reply == NULL)
                        return FALSE;
        }
        return TRUE;
}

static gboolean
rv_cli_pause(RvCli *cli, char **args, GError **error)
{
        return rv_cli_each(cli, args, "Pause", "PauseAll", error);
}

static gboolean
rv_cli_resume(RvCli *cli, char **args, GError **error)
{
        return rv_cli_each(cli, args, "Resume", "ResumeAll", error);
}

static gboolean
rv_cli_recheck(RvCli *cli, char **args, GError **error)
{
        return rv_cli_each(cli, args, "Recheck", NULL, error);
}

static gboolean
rv_cli_reannounce(RvCli *cli, char **args, GError **error)
{
        return rv_cli_each(cli, args, "Reannounce", NULL, error);
}

/* remove */

static gboolean opt_delete_data;

static const GOptionEntry rv_cli_remove_entries[] = {
        { "delete-data", 0, 0, G_OPTION_ARG_NONE, &opt_delete_data, N_("Delete the downloaded data too"), NULL },
        G_OPTION_ENTRY_NULL,
};

static int
rv_cli_removed_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        GHashTable *pending = userdata;
        const char *path = NULL;

        if (sd_bus_message_read(m, "o", &path) > 0)
                g_hash_table_remove(pending, path);
        return 0;
}

static gboolean
rv_cli_remove(RvCli *cli, char **args, GError **error)
{
        g_autoptr(GPtrArray) paths = NULL;
        g_autoptr(GHashTable) pending = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(sd_bus_slot) slot = NULL;
        gint64 deadline;
        int r;

        if (!rv_cli_check_args(args, 1, G_MAXUINT, error))
                return FALSE;
        paths = rv_cli_resolve_all(cli, args, error);
        if (paths == NULL)
                return FALSE;
        if (cli->http != NULL) {
                /* over HTTP a removed torrent is gone from the API when the answer comes */
                for (guint i = 0; i < paths->len; i++) {
                        g_autoptr(GVariant) reply = rv_cli_call(cli, g_ptr_array_index(paths, i), RV_BUS_TORRENT_IFACE,
                                                                "Remove", error, "b", opt_delete_data);
                        if (reply == NULL)
                                return FALSE;
                }
                return TRUE;
        }
        if (!rv_cli_connect(cli, error))
                return FALSE;
        /* subscribed before the first Remove, so no TorrentRemoved is missed */
        r = sd_bus_match_signal(cli->bus, &slot, RV_BUS_NAME, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "TorrentRemoved",
                                rv_cli_removed_cb, pending);
        if (r < 0) {
                rv_cli_set_bus_error(cli, NULL, r, error);
                return FALSE;
        }
        for (guint i = 0; i < paths->len; i++) {
                const char *path = g_ptr_array_index(paths, i);
                g_autoptr(GVariant) reply = NULL;
                g_hash_table_add(pending, (gpointer)path);
                reply = rv_cli_call(cli, path, RV_BUS_TORRENT_IFACE, "Remove", error, "b", opt_delete_data);
                if (reply == NULL)
                        return FALSE;
        }
        deadline = g_get_monotonic_time() + RV_CLI_REMOVE_TIMEOUT_USEC;
        while (g_hash_table_size(pending) > 0) {
                gint64 now = g_get_monotonic_time();
                if (now >= deadline) {
                        /* the daemon took the request; it just has not finished yet */
                        g_printerr("revaerctl: %s\n", _("the removal is still in progress"));
                        return TRUE;
                }
                r = sd_bus_process(cli->bus, NULL);
                if (r > 0)
                        continue;
                if (r >= 0)
                        r = sd_bus_wait(cli->bus, (uint64_t)(deadline - now));
                if (r < 0) {
                        rv_cli_set_bus_error(cli, NULL, r, error);
                        return FALSE;
                }
        }
        return TRUE;
}

/* select */

static char **opt_select_include;
static char **opt_select_exclude;
static char **opt_select_priority;
static gboolean opt_select_skip_fluff;
static gboolean opt_select_all;

static const GOptionEntry rv_cli_select_entries[] = {
        { "include", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &opt_select_include,
          N_("Download only files that match GLOB (repeatable)"), N_("GLOB") },
        { "exclude", 'x', 0, G_OPTION_ARG_STRING_ARRAY, &opt_select_exclude,
          N_("Leave out files that match GLOB (repeatable)"), N_("GLOB") },
        { "skip-fluff", 0, 0, G_OPTION_ARG_NONE, &opt_select_skip_fluff,
          N_("Leave out samples, extras, .nfo files and the like"), NULL },
        { "all", 'a', 0, G_OPTION_ARG_NONE, &opt_select_all, N_("Clear the rules: download every file"), NULL },
        { "priority", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &opt_select_priority,
          N_("Set file priorities after the rules, e.g. 3=high or 0,2-4=skip (repeatable)"), N_("INDEX=PRIORITY") },
        G_OPTION_ENTRY_NULL,
};

static gboolean
rv_cli_select(RvCli *cli, char **args, GError **error)
{
        g_autoptr(GArray) indexes = g_array_new(FALSE, FALSE, sizeof(guint32));
        g_autoptr(GByteArray) priorities = g_byte_array_new();
        g_autofree char *path = NULL;
        gboolean rules = opt_select_include != NULL || opt_select_exclude != NULL || opt_select_skip_fluff;
        char *empty[] = { NULL };

        if (!rv_cli_check_args(args, 1, 1, error))
                return FALSE;
        if (opt_select_all && rules) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    _("--all cannot be combined with --include, --exclude or --skip-fluff"));
                return FALSE;
        }
        if (!opt_select_all && !rules && opt_select_priority == NULL) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    _("nothing to select: give --include, --exclude, --skip-fluff, --all or "
                                      "--priority"));
                return FALSE;
        }
        for (guint i = 0; opt_select_priority != NULL && opt_select_priority[i] != NULL; i++) {
                if (!rv_cli_parse_priority_spec(opt_select_priority[i], indexes, priorities, error))
                        return FALSE;
        }

        path = rv_cli_resolve(cli, args[0], error);
        if (path == NULL)
                return FALSE;
        if (opt_select_all || rules) {
                g_autoptr(GVariant) reply = rv_cli_call_variant(
                        cli, path, RV_BUS_TORRENT_IFACE, "SetSelection",
                        g_variant_new("(^as^asb)", opt_select_include != NULL ? opt_select_include : empty,
                                      opt_select_exclude != NULL ? opt_select_exclude : empty, opt_select_skip_fluff),
                        error);
                if (reply == NULL)
                        return FALSE;
        }
        /* after the rules: SetSelection drops every earlier per-file priority */
        if (indexes->len > 0) {
                g_autoptr(GVariant) reply = NULL;
                GVariantBuilder list;
                g_variant_builder_init(&list, G_VARIANT_TYPE("a(uy)"));
                for (guint i = 0; i < indexes->len; i++)
                        g_variant_builder_add(&list, "(uy)", g_array_index(indexes, guint32, i), priorities->data[i]);
                reply = rv_cli_call_variant(cli, path, RV_BUS_TORRENT_IFACE, "SetFilePriorities",
                                            g_variant_new("(a(uy))", &list), error);
                if (reply == NULL)
                        return FALSE;
        }
        return TRUE;
}

/* limit */

static char *opt_limit_download;
static char *opt_limit_upload;

static const GOptionEntry rv_cli_limit_entries[] = {
        { "download", 'd', 0, G_OPTION_ARG_STRING, &opt_limit_download,
          N_("Download limit in bytes/s (K, M, G: KiB/s, MiB/s, GiB/s; 0: unlimited)"), N_("RATE") },
        { "upload", 'u', 0, G_OPTION_ARG_STRING, &opt_limit_upload,
          N_("Upload limit in bytes/s (K, M, G: KiB/s, MiB/s, GiB/s; 0: unlimited)"), N_("RATE") },
        G_OPTION_ENTRY_NULL,
};

static gboolean
rv_cli_limit(RvCli *cli, char **args, GError **error)
{
        g_autofree char *path = NULL;
        gint64 down = 0;
        gint64 up = 0;

        if (!rv_cli_check_args(args, 1, 1, error))
                return FALSE;
        if (opt_limit_download != NULL && !rv_cli_parse_rate(opt_limit_download, &down, error))
                return FALSE;
        if (opt_limit_upload != NULL && !rv_cli_parse_rate(opt_limit_upload, &up, error))
                return FALSE;
        path = rv_cli_resolve(cli, args[0], error);
        if (path == NULL)
                return FALSE;
        if (opt_limit_download != NULL &&
            !rv_cli_set_property(cli, path, RV_BUS_TORRENT_IFACE, "DownloadLimit", error, "x", (int64_t)down))
                return FALSE;
        if (opt_limit_upload != NULL &&
            !rv_cli_set_property(cli, path, RV_BUS_TORRENT_IFACE, "UploadLimit", error, "x", (int64_t)up))
                return FALSE;
        if (opt_limit_download == NULL && opt_limit_upload == NULL) {
                g_autoptr(GVariant) dl = rv_cli_get_property(cli, path, RV_BUS_TORRENT_IFACE, "DownloadLimit", error);
                g_autoptr(GVariant) ul = NULL;
                if (dl == NULL)
                        return FALSE;
                ul = rv_cli_get_property(cli, path, RV_BUS_TORRENT_IFACE, "UploadLimit", error);
                if (ul == NULL)
                        return FALSE;
                if (cli->json) {
                        g_autoptr(JsonBuilder) builder = json_builder_new();
                        g_autoptr(JsonNode) root = NULL;
                        json_builder_begin_object(builder);
                        json_builder_set_member_name(builder, "download_limit");
                        json_builder_add_int_value(builder, rv_cli_variant_to_int64(dl));
                        json_builder_set_member_name(builder, "upload_limit");
                        json_builder_add_int_value(builder, rv_cli_variant_to_int64(ul));
                        json_builder_end_object(builder);
                        root = json_builder_get_root(builder);
                        rv_cli_print_json(root, TRUE);
                } else {
                        g_autofree char *d = rv_cli_format_limit(rv_cli_variant_to_int64(dl));
                        g_autofree char *u = rv_cli_format_limit(rv_cli_variant_to_int64(ul));
                        guint width =
                                MAX(rv_cli_display_width(_("Download limit")), rv_cli_display_width(_("Upload limit")));
                        rv_cli_print_field(_("Download limit"), width, d);
                        rv_cli_print_field(_("Upload limit"), width, u);
                }
        }
        return TRUE;
}

/* sequential */

static gboolean
rv_cli_sequential(RvCli *cli, char **args, GError **error)
{
        g_autofree char *path = NULL;
        gboolean on = FALSE;

        if (!rv_cli_check_args(args, 1, 2, error))
                return FALSE;
        if (args[1] != NULL && !rv_cli_parse_bool(args[1], &on, error))
                return FALSE;
        path = rv_cli_resolve(cli, args[0], error);
        if (path == NULL)
                return FALSE;
        if (args[1] == NULL) {
                g_autoptr(GVariant) value = rv_cli_get_property(cli, path, RV_BUS_TORRENT_IFACE, "Sequential", error);
                if (value == NULL)
                        return FALSE;
                if (cli->json)
                        g_print("%s\n", rv_cli_variant_to_int64(value) != 0 ? "true" : "false");
                else
                        g_print("%s\n", rv_cli_variant_to_int64(value) != 0 ? "on" : "off");
                return TRUE;
        }
        return rv_cli_set_property(cli, path, RV_BUS_TORRENT_IFACE, "Sequential", error, "b", on);
}

const RvCliCommand rv_cli_torrent_commands[] = {
        { "list", "", N_("List the torrents"), rv_cli_list_entries, rv_cli_list },
        { "info", N_("TORRENT"), N_("Show every property of a torrent"), NULL, rv_cli_info },
        { "files", N_("TORRENT"), N_("List the files of a torrent"), NULL, rv_cli_files },
        { "pause", N_("TORRENT…"), N_("Pause torrents"), rv_cli_all_entries, rv_cli_pause },
        { "resume", N_("TORRENT…"), N_("Resume torrents"), rv_cli_all_entries, rv_cli_resume },
        { "remove", N_("TORRENT…"), N_("Remove torrents, and with --delete-data their data"), rv_cli_remove_entries,
          rv_cli_remove },
        { "select", N_("TORRENT"), N_("Choose the files to download"), rv_cli_select_entries, rv_cli_select },
        { "limit", N_("TORRENT"), N_("Show or set the rate limits of a torrent"), rv_cli_limit_entries, rv_cli_limit },
        { "sequential", N_("TORRENT [on|off]"), N_("Show or set in-order download"), NULL, rv_cli_sequential },
        { "recheck", N_("TORRENT…"), N_("Verify the downloaded data again"), NULL, rv_cli_recheck },
        { "reannounce", N_("TORRENT…"), N_("Announce to the trackers now"), NULL, rv_cli_reannounce },
        { NULL, NULL, NULL, NULL, NULL },
};
