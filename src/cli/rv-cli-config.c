/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "rv-cli.h"
#include "rv-password.h"

/*
 * revaerctl config: the settings through the policy objects. Sections and
 * their settings come from the service (introspection and GetAll), so a
 * setting added to the daemon needs nothing here; a value is parsed by the
 * D-Bus type of its property, and one "set" is one Update, one revision.
 */

#define RV_CLI_HISTORY_DEFAULT 20
#define RV_CLI_HISTORY_MAX 1000
/* show reads every section, then the revision again: a change in between means once more */
#define RV_CLI_SHOW_ATTEMPTS 3

typedef struct {
        /* "download_limit", "DownloadLimit" */
        char *name;
        char *property;
        GVariantType *type;
        gboolean writable;
        GVariant *value;
} RvCliSetting;

static void
rv_cli_setting_free(RvCliSetting *setting)
{
        g_free(setting->name);
        g_free(setting->property);
        if (setting->type != NULL)
                g_variant_type_free(setting->type);
        if (setting->value != NULL)
                g_variant_unref(setting->value);
        g_free(setting);
}

typedef struct {
        char *section;
        char *path;
        char *iface;
        /* RvCliSetting, in the service's order */
        GPtrArray *settings;
} RvCliSection;

static void
rv_cli_section_free(RvCliSection *section)
{
        if (section == NULL)
                return;
        g_free(section->section);
        g_free(section->path);
        g_free(section->iface);
        g_clear_pointer(&section->settings, g_ptr_array_unref);
        g_free(section);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvCliSection, rv_cli_section_free)

static int
rv_cli_compare_strings(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

/* the sections the service has: the children of its policy node, sorted */
static GStrv
rv_cli_config_sections(RvCli *cli, GError **error)
{
        g_autoptr(GDBusNodeInfo) info = rv_cli_introspect(cli, RV_BUS_POLICY_PREFIX, error);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

        if (info == NULL)
                return NULL;
        for (guint i = 0; info->nodes != NULL && info->nodes[i] != NULL; i++) {
                if (info->nodes[i]->path != NULL && g_dbus_is_member_name(info->nodes[i]->path))
                        g_ptr_array_add(names, g_strdup(info->nodes[i]->path));
        }
        if (names->len == 0) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_UNAVAILABLE,
                                    _("the service offers no settings (is it an older version?)"));
                return NULL;
        }
        g_ptr_array_sort(names, rv_cli_compare_strings);
        g_ptr_array_add(names, NULL);
        return (GStrv)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

static gboolean
rv_cli_config_check_section(char **sections, const char *section, GError **error)
{
        g_autofree char *all = NULL;

        if (g_strv_contains((const char *const *)sections, section))
                return TRUE;
        all = g_strjoinv(", ", sections);
        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("unknown section '%s' (sections: %s)"), section, all);
        return FALSE;
}

static char *
rv_cli_config_section_path(const char *section)
{
        return g_strdup_printf(RV_BUS_POLICY_PREFIX "/%s", section);
}

/* a section's settings: names and types from introspection, values from GetAll */
static RvCliSection *
rv_cli_config_load(RvCli *cli, const char *section_name, GError **error)
{
        g_autoptr(RvCliSection) section = g_new0(RvCliSection, 1);
        g_autoptr(GDBusNodeInfo) info = NULL;
        g_autoptr(GVariant) values = NULL;
        g_autoptr(GVariantDict) dict = NULL;
        GDBusInterfaceInfo *iface = NULL;

        section->section = g_strdup(section_name);
        section->path = rv_cli_config_section_path(section_name);
        section->settings = g_ptr_array_new_with_free_func((GDestroyNotify)rv_cli_setting_free);
        info = rv_cli_introspect(cli, section->path, error);
        if (info == NULL)
                return NULL;
        /* the typed interface: com.revaer.Revaer1.Policy.<Section> */
        for (guint i = 0; info->interfaces != NULL && info->interfaces[i] != NULL; i++) {
                if (g_str_has_prefix(info->interfaces[i]->name, RV_BUS_POLICY_IFACE "."))
                        iface = info->interfaces[i];
        }
        if (iface == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, _("%s has no settings interface"), section->path);
                return NULL;
        }
        section->iface = g_strdup(iface->name);
        values = rv_cli_get_all(cli, section->path, section->iface, error);
        if (values == NULL)
                return NULL;
        dict = g_variant_dict_new(values);
        for (guint i = 0; iface->properties != NULL && iface->properties[i] != NULL; i++) {
                GDBusPropertyInfo *prop = iface->properties[i];
                RvCliSetting *setting;
                if (!g_variant_type_string_is_valid(prop->signature))
                        continue;
                setting = g_new0(RvCliSetting, 1);
                /* the service's names: field download_limit is property DownloadLimit */
                setting->name = rv_cli_json_key(prop->name);
                setting->property = g_strdup(prop->name);
                setting->type = g_variant_type_new(prop->signature);
                setting->writable = (prop->flags & G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE) != 0;
                setting->value = g_variant_dict_lookup_value(dict, prop->name, setting->type);
                g_ptr_array_add(section->settings, setting);
        }
        return g_steal_pointer(&section);
}

static const RvCliSetting *
rv_cli_config_find(const RvCliSection *section, const char *name)
{
        for (guint i = 0; i < section->settings->len; i++) {
                const RvCliSetting *setting = g_ptr_array_index(section->settings, i);
                if (g_str_equal(setting->name, name) || g_str_equal(setting->property, name))
                        return setting;
        }
        return NULL;
}

static const RvCliSetting *
rv_cli_config_find_or_fail(const RvCliSection *section, const char *key, const char *name, GError **error)
{
        const RvCliSetting *setting = rv_cli_config_find(section, name);

        if (setting == NULL)
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            _("unknown setting '%s' (see revaerctl config show %s)"), key, section->section);
        return setting;
}

static gboolean
rv_cli_config_revision(RvCli *cli, const char *section, guint64 *ret, GError **error)
{
        g_autofree char *path = rv_cli_config_section_path(section);
        g_autoptr(GVariant) value = rv_cli_get_property(cli, path, RV_BUS_POLICY_IFACE, "Revision", error);

        if (value == NULL)
                return FALSE;
        if (!rv_cli_reply_is(value, "t", "Revision", error))
                return FALSE;
        *ret = g_variant_get_uint64(value);
        return TRUE;
}

/* show */

static JsonNode *
rv_cli_config_section_json(const RvCliSection *section)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        for (guint i = 0; i < section->settings->len; i++) {
                const RvCliSetting *setting = g_ptr_array_index(section->settings, i);
                if (setting->value == NULL)
                        continue;
                json_builder_set_member_name(builder, setting->name);
                json_builder_add_value(builder, json_gvariant_serialize(setting->value));
        }
        json_builder_end_object(builder);
        return json_builder_get_root(builder);
}

static gboolean
rv_cli_config_show(RvCli *cli, char **args, GError **error)
{
        g_auto(GStrv) sections = NULL;
        g_autoptr(GPtrArray) loaded = NULL;
        guint64 revision = 0;

        if (!rv_cli_check_args(args, 0, 1, error))
                return FALSE;
        sections = rv_cli_config_sections(cli, error);
        if (sections == NULL)
                return FALSE;
        if (args[0] != NULL) {
                if (!rv_cli_config_check_section(sections, args[0], error))
                        return FALSE;
                g_strfreev(sections);
                sections = g_strdupv((char *[]){ args[0], NULL });
        }
        for (guint attempt = 0; attempt < RV_CLI_SHOW_ATTEMPTS; attempt++) {
                guint64 after = 0;
                if (!rv_cli_config_revision(cli, sections[0], &revision, error))
                        return FALSE;
                g_clear_pointer(&loaded, g_ptr_array_unref);
                loaded = g_ptr_array_new_with_free_func((GDestroyNotify)rv_cli_section_free);
                for (guint i = 0; sections[i] != NULL; i++) {
                        RvCliSection *section = rv_cli_config_load(cli, sections[i], error);
                        if (section == NULL)
                                return FALSE;
                        g_ptr_array_add(loaded, section);
                }
                if (!rv_cli_config_revision(cli, sections[0], &after, error))
                        return FALSE;
                if (after == revision)
                        break;
                /* if it keeps changing, the last values read are as good as any */
                revision = after;
        }

        if (cli->json) {
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autoptr(JsonNode) root = NULL;
                json_builder_begin_object(builder);
                json_builder_set_member_name(builder, "revision");
                json_builder_add_int_value(builder, (gint64)MIN(revision, (guint64)G_MAXINT64));
                for (guint i = 0; i < loaded->len; i++) {
                        const RvCliSection *section = g_ptr_array_index(loaded, i);
                        json_builder_set_member_name(builder, section->section);
                        json_builder_add_value(builder, rv_cli_config_section_json(section));
                }
                json_builder_end_object(builder);
                root = json_builder_get_root(builder);
                rv_cli_print_json(root, TRUE);
                return TRUE;
        }
        {
                g_autoptr(RvCliTable) table = rv_cli_table_new(2);
                g_autofree char *rev = g_strdup_printf("%" G_GUINT64_FORMAT, revision);
                rv_cli_table_set_column(table, 0, _("SETTING"), RV_CLI_ALIGN_LEFT, FALSE, FALSE);
                rv_cli_table_set_column(table, 1, _("VALUE"), RV_CLI_ALIGN_LEFT, TRUE, FALSE);
                for (guint i = 0; i < loaded->len; i++) {
                        const RvCliSection *section = g_ptr_array_index(loaded, i);
                        for (guint j = 0; j < section->settings->len; j++) {
                                const RvCliSetting *setting = g_ptr_array_index(section->settings, j);
                                g_autofree char *value =
                                        setting->value != NULL ? rv_cli_format_setting(setting->value) : NULL;
                                rv_cli_table_add_row(table, g_strdup_printf("%s.%s", section->section, setting->name),
                                                     /* unset strings and empty lists */
                                                     g_strdup(value != NULL && value[0] != '\0' ? value : "-"));
                        }
                }
                /* TRANSLATORS: %s is the number of the settings' revision */
                g_print(_("Revision %s"), rev);
                g_print("\n\n");
                rv_cli_table_print(table, stdout, rv_cli_output_width());
        }
        return TRUE;
}

/* get */

static gboolean
rv_cli_config_get(RvCli *cli, char **args, GError **error)
{
        g_auto(GStrv) sections = NULL;
        g_autoptr(RvCliSection) section = NULL;
        g_autofree char *section_name = NULL;
        g_autofree char *name = NULL;
        const RvCliSetting *setting;

        if (!rv_cli_check_one_arg(args, _("KEY"), error))
                return FALSE;
        if (!rv_cli_parse_setting_key(args[0], &section_name, &name, error))
                return FALSE;
        sections = rv_cli_config_sections(cli, error);
        if (sections == NULL || !rv_cli_config_check_section(sections, section_name, error))
                return FALSE;
        section = rv_cli_config_load(cli, section_name, error);
        if (section == NULL)
                return FALSE;
        setting = rv_cli_config_find_or_fail(section, args[0], name, error);
        if (setting == NULL)
                return FALSE;
        if (setting->value == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, _("unexpected reply to %s"), "GetAll");
                return FALSE;
        }
        if (cli->json) {
                g_autoptr(JsonNode) node = json_gvariant_serialize(setting->value);
                rv_cli_print_json(node, FALSE);
        } else {
                g_autofree char *text = rv_cli_format_setting(setting->value);
                g_print("%s\n", text);
        }
        return TRUE;
}

/* set */

/* rates in bytes/s may be written as for limit and add: 500K, 5M */
static gboolean
rv_cli_config_is_rate(const RvCliSetting *setting)
{
        return g_str_has_suffix(setting->name, "download_limit") || g_str_has_suffix(setting->name, "upload_limit");
}

static gboolean
rv_cli_config_set(RvCli *cli, char **args, GError **error)
{
        g_auto(GStrv) sections = NULL;
        g_autoptr(RvCliSection) section = NULL;
        g_autofree char *section_name = NULL;
        g_autofree char *first_key = NULL;
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GVariant) reply = NULL;
        GVariantBuilder values;
        guint64 before = 0;
        guint64 revision = 0;

        if (args == NULL || args[0] == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("missing %s argument"), _("KEY=VALUE…"));
                return FALSE;
        }
        /* every key in one section, before anything is asked: one call, one revision */
        for (guint i = 0; args[i] != NULL; i++) {
                const char *eq = strchr(args[i], '=');
                g_autofree char *key = eq != NULL ? g_strndup(args[i], (gsize)(eq - args[i])) : NULL;
                g_autofree char *sec = NULL;
                g_autofree char *name = NULL;
                if (key == NULL) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    _("'%s' is not KEY=VALUE (for example engine.download_limit=5M)"), args[i]);
                        return FALSE;
                }
                if (!rv_cli_parse_setting_key(key, &sec, &name, error))
                        return FALSE;
                if (section_name == NULL) {
                        section_name = g_steal_pointer(&sec);
                        first_key = g_steal_pointer(&key);
                } else if (!g_str_equal(section_name, sec)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    _("%s and %s are in different sections; one config set changes one section"),
                                    first_key, key);
                        return FALSE;
                }
        }
        sections = rv_cli_config_sections(cli, error);
        if (sections == NULL || !rv_cli_config_check_section(sections, section_name, error))
                return FALSE;
        section = rv_cli_config_load(cli, section_name, error);
        if (section == NULL)
                return FALSE;

        g_variant_builder_init(&values, G_VARIANT_TYPE("a{sv}"));
        for (guint i = 0; args[i] != NULL; i++) {
                const char *eq = strchr(args[i], '=');
                g_autofree char *key = g_strndup(args[i], (gsize)(eq - args[i]));
                g_autofree char *sec = NULL;
                g_autofree char *name = NULL;
                g_autofree char *pointer = NULL;
                const RvCliSetting *setting;
                GVariant *value;
                /* parsed above already */
                (void)rv_cli_parse_setting_key(key, &sec, &name, NULL);
                setting = rv_cli_config_find_or_fail(section, key, name, error);
                if (setting == NULL) {
                        g_variant_builder_clear(&values);
                        return FALSE;
                }
                pointer = g_strdup_printf("/%s/%s", section->section, setting->name);
                if (!setting->writable || !g_hash_table_add(seen, setting->property)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    !setting->writable ? _("%s: the setting is read-only")
                                                       : _("%s: the setting is given twice"),
                                    pointer);
                        g_variant_builder_clear(&values);
                        return FALSE;
                }
                value = rv_cli_parse_setting_value(eq + 1, setting->type,
                                                   rv_cli_config_is_rate(setting) &&
                                                           g_variant_type_equal(setting->type, G_VARIANT_TYPE_INT64),
                                                   pointer, error);
                if (value == NULL) {
                        g_variant_builder_clear(&values);
                        return FALSE;
                }
                g_variant_builder_add(&values, "{sv}", setting->property, value);
                g_variant_unref(value);
        }
        if (!rv_cli_config_revision(cli, section->section, &before, error)) {
                g_variant_builder_clear(&values);
                return FALSE;
        }
        reply = rv_cli_call_variant(cli, section->path, RV_BUS_POLICY_IFACE, "Update",
                                    g_variant_new("(a{sv})", &values), error);
        if (reply == NULL)
                return FALSE;
        if (!rv_cli_reply_is(reply, "(t)", "Update", error))
                return FALSE;
        g_variant_get(reply, "(t)", &revision);
        if (cli->json) {
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autoptr(JsonNode) root = NULL;
                json_builder_begin_object(builder);
                json_builder_set_member_name(builder, "revision");
                json_builder_add_int_value(builder, (gint64)MIN(revision, (guint64)G_MAXINT64));
                json_builder_set_member_name(builder, "changed");
                json_builder_add_boolean_value(builder, revision != before);
                json_builder_end_object(builder);
                root = json_builder_get_root(builder);
                rv_cli_print_json(root, FALSE);
        } else {
                g_autofree char *rev = g_strdup_printf("%" G_GUINT64_FORMAT, revision);
                /* the service stores no revision for values it has already */
                g_print(revision != before ? _("Saved as revision %s.") : _("Nothing changed (revision %s)."), rev);
                g_print("\n");
        }
        return TRUE;
}

/* history */

static int opt_history_limit = RV_CLI_HISTORY_DEFAULT;

static const GOptionEntry rv_cli_history_entries[] = {
        { "limit", 'n', 0, G_OPTION_ARG_INT, &opt_history_limit,
          N_("Show the last N changes (default 20, at most 1000)"), N_("N") },
        G_OPTION_ENTRY_NULL,
};

/* the pointers a change touched: the members of its JSON object */
static char *
rv_cli_history_pointers(JsonNode *changes)
{
        g_autoptr(GList) members = NULL;
        g_autoptr(GString) out = g_string_new(NULL);

        if (changes == NULL || !JSON_NODE_HOLDS_OBJECT(changes))
                return g_strdup("-");
        members = json_object_get_members(json_node_get_object(changes));
        for (GList *l = members; l != NULL; l = l->next)
                g_string_append_printf(out, "%s%s", out->len > 0 ? "," : "", (const char *)l->data);
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static gboolean
rv_cli_config_history(RvCli *cli, char **args, GError **error)
{
        g_auto(GStrv) sections = NULL;
        g_autofree char *path = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) entries = NULL;
        g_autoptr(RvCliTable) table = NULL;
        g_autoptr(JsonBuilder) builder = NULL;
        GVariantIter iter;
        guint64 revision;
        gint64 timestamp;
        const char *actor;
        const char *reason;
        const char *changes;

        if (!rv_cli_check_args(args, 0, 0, error))
                return FALSE;
        if (opt_history_limit < 1 || opt_history_limit > RV_CLI_HISTORY_MAX) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("--limit must be 1 to %d"),
                            RV_CLI_HISTORY_MAX);
                return FALSE;
        }
        sections = rv_cli_config_sections(cli, error);
        if (sections == NULL)
                return FALSE;
        /* one history for all sections; any policy object tells it */
        path = rv_cli_config_section_path(sections[0]);
        reply = rv_cli_call(cli, path, RV_BUS_POLICY_IFACE, "History", error, "u", (uint32_t)opt_history_limit);
        if (reply == NULL)
                return FALSE;
        if (!rv_cli_reply_is(reply, "(a(txsss))", "History", error))
                return FALSE;
        entries = g_variant_get_child_value(reply, 0);

        builder = json_builder_new();
        json_builder_begin_array(builder);
        table = rv_cli_table_new(5);
        rv_cli_table_set_column(table, 0, _("REVISION"), RV_CLI_ALIGN_RIGHT, FALSE, FALSE);
        rv_cli_table_set_column(table, 1, _("TIME"), RV_CLI_ALIGN_LEFT, FALSE, FALSE);
        rv_cli_table_set_column(table, 2, _("ACTOR"), RV_CLI_ALIGN_LEFT, FALSE, FALSE);
        rv_cli_table_set_column(table, 3, _("REASON"), RV_CLI_ALIGN_LEFT, FALSE, FALSE);
        rv_cli_table_set_column(table, 4, _("CHANGES"), RV_CLI_ALIGN_LEFT, TRUE, FALSE);
        g_variant_iter_init(&iter, entries);
        while (g_variant_iter_next(&iter, "(tx&s&s&s)", &revision, &timestamp, &actor, &reason, &changes)) {
                g_autoptr(JsonParser) parser = json_parser_new();
                JsonNode *parsed =
                        json_parser_load_from_data(parser, changes, -1, NULL) ? json_parser_get_root(parser) : NULL;
                guint64 seconds = (guint64)MAX(timestamp, 0) / G_USEC_PER_SEC;
                if (cli->json) {
                        json_builder_begin_object(builder);
                        json_builder_set_member_name(builder, "revision");
                        json_builder_add_int_value(builder, (gint64)MIN(revision, (guint64)G_MAXINT64));
                        json_builder_set_member_name(builder, "time");
                        json_builder_add_int_value(builder, (gint64)seconds);
                        json_builder_set_member_name(builder, "actor");
                        json_builder_add_string_value(builder, actor);
                        json_builder_set_member_name(builder, "reason");
                        json_builder_add_string_value(builder, reason);
                        json_builder_set_member_name(builder, "changes");
                        if (parsed != NULL)
                                json_builder_add_value(builder, json_node_copy(parsed));
                        else
                                json_builder_add_string_value(builder, changes);
                        json_builder_end_object(builder);
                        continue;
                }
                rv_cli_table_add_row(table, g_strdup_printf("%" G_GUINT64_FORMAT, revision),
                                     rv_cli_format_time(seconds), g_strdup(actor[0] != '\0' ? actor : "-"),
                                     g_strdup(reason[0] != '\0' ? reason : "-"), rv_cli_history_pointers(parsed));
        }
        json_builder_end_array(builder);
        if (cli->json) {
                g_autoptr(JsonNode) root = json_builder_get_root(builder);
                rv_cli_print_json(root, TRUE);
                return TRUE;
        }
        if (g_variant_n_children(entries) == 0) {
                g_print("%s\n", _("No changes recorded."));
                return TRUE;
        }
        rv_cli_table_print(table, stdout, rv_cli_output_width());
        return TRUE;
}

/*
 * the qBittorrent WebAPI's user: the password is read from standard input
 * (one line) and only its PBKDF2 hash leaves this process, set with the
 * user name in one revision through "config set"
 */
static gboolean
rv_cli_config_webapi_password(RvCli *cli, char **args, GError **error)
{
        g_autoptr(GIOChannel) in = g_io_channel_unix_new(0);
        g_autofree char *line = NULL;
        g_autofree char *hash = NULL;
        g_autofree char *user = NULL;
        g_autofree char *password = NULL;
        gsize len = 0;
        char *set[3] = { NULL, NULL, NULL };
        gboolean ok;

        if (args == NULL || args[0] == NULL || args[1] != NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("missing %s argument"), _("USER"));
                return FALSE;
        }
        if (isatty(0))
                g_printerr(_("Password for %s: "), args[0]);
        if (g_io_channel_read_line(in, &line, &len, NULL, NULL) != G_IO_STATUS_NORMAL || line == NULL) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("no password on standard input"));
                return FALSE;
        }
        password = g_strndup(line, strcspn(line, "\r\n"));
        if (password[0] == '\0' || strlen(password) > RV_PASSWORD_MAX_LEN) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("the password must be 1 to %d bytes"),
                            RV_PASSWORD_MAX_LEN);
                return FALSE;
        }
        hash = rv_password_hash(password);
        memset(password, 0, strlen(password));
        memset(line, 0, len);
        user = g_strdup_printf("app.webapi_username=%s", args[0]);
        set[0] = user;
        set[1] = g_strdup_printf("app.webapi_password=%s", hash);
        ok = rv_cli_config_set(cli, set, error);
        g_free(set[1]);
        return ok;
}

static const RvCliCommand rv_cli_config_commands[] = {
        { "show", N_("[SECTION]"), N_("Show the settings, of every section or of one"), NULL, rv_cli_config_show },
        { "get", N_("KEY"), N_("Print the value of one setting"), NULL, rv_cli_config_get },
        { "set", N_("KEY=VALUE…"), N_("Change settings of one section at once"), NULL, rv_cli_config_set },
        { "webapi-password", N_("USER"),
          N_("Set the qBittorrent WebAPI user and its password (read from standard input, stored as a hash)"), NULL,
          rv_cli_config_webapi_password },
        { "history", "", N_("List the changes to the settings, newest first"), rv_cli_history_entries,
          rv_cli_config_history },
        { NULL, NULL, NULL, NULL, NULL },
};

const RvCliGroup rv_cli_config_group = {
        "config",
        N_("Show and change the service's settings"),
        "show",
        rv_cli_config_commands,
};
