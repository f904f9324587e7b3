/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <locale.h>
#include <string.h>

#include <glib/gi18n.h>

#include "rv-cli.h"

static gboolean opt_user;
static gboolean opt_system;
static gboolean opt_json;
static gboolean opt_version;
static char *opt_url;
static char *opt_api_key;
static char *opt_api_key_file;

static const GOptionEntry rv_cli_global_entries[] = {
        { "user", 0, 0, G_OPTION_ARG_NONE, &opt_user, N_("Talk to the service on the session bus"), NULL },
        { "system", 0, 0, G_OPTION_ARG_NONE, &opt_system, N_("Talk to the service on the system bus (default)"), NULL },
        { "url", 0, 0, G_OPTION_ARG_STRING, &opt_url,
          N_("Talk to the service over HTTP at URL instead of D-Bus (or REVAER_URL)"), N_("URL") },
        { "api-key", 0, 0, G_OPTION_ARG_STRING, &opt_api_key,
          N_("The API key for --url, KEY_ID:SECRET (or REVAER_API_KEY)"), N_("KEY") },
        { "api-key-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_api_key_file,
          N_("Read the API key for --url from FILE (or REVAER_API_KEY_FILE)"), N_("FILE") },
        { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, N_("Print JSON instead of tables"), NULL },
        G_OPTION_ENTRY_NULL,
};

/* the key: --api-key, --api-key-file, REVAER_API_KEY, REVAER_API_KEY_FILE, in that order; NULL for none */
static char *
rv_cli_api_key(GError **error)
{
        const char *file = opt_api_key_file != NULL ? opt_api_key_file : g_getenv("REVAER_API_KEY_FILE");
        g_autofree char *text = NULL;
        char *newline;

        if (opt_api_key != NULL)
                return g_strdup(opt_api_key);
        if (opt_api_key_file == NULL && g_getenv("REVAER_API_KEY") != NULL)
                return g_strdup(g_getenv("REVAER_API_KEY"));
        if (file == NULL)
                return NULL;
        if (!g_file_get_contents(file, &text, NULL, NULL)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("cannot read the API key file '%s'"), file);
                return NULL;
        }
        newline = strchr(text, '\n');
        if (newline != NULL)
                *newline = '\0';
        g_strstrip(text);
        return g_steal_pointer(&text);
}

/* --url (or REVAER_URL): every command goes over HTTP */
static gboolean
rv_cli_setup_http(RvCli *cli, GError **error)
{
        const char *url = opt_url != NULL ? opt_url : g_getenv("REVAER_URL");
        g_autoptr(GError) error_local = NULL;
        g_autofree char *key = NULL;

        if (url == NULL || url[0] == '\0')
                return TRUE;
        key = rv_cli_api_key(&error_local);
        if (error_local != NULL) {
                g_propagate_error(error, g_steal_pointer(&error_local));
                return FALSE;
        }
        cli->http = rv_cli_http_new(url, key, error);
        if (key != NULL)
                explicit_bzero(key, strlen(key));
        return cli->http != NULL;
}

static const GOptionEntry rv_cli_top_entries[] = {
        { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, N_("Print the version and exit"), NULL },
        G_OPTION_ENTRY_NULL,
};

static const RvCliCommand *const rv_cli_tables[] = {
        rv_cli_torrent_commands,
        rv_cli_add_commands,
        rv_cli_service_commands,
};

static const RvCliGroup *const rv_cli_groups[] = {
        &rv_cli_config_group,
        &rv_cli_setup_group,
        &rv_cli_keys_group,
        &rv_cli_fsops_group,
};

static const RvCliCommand *
rv_cli_find_command(const char *name)
{
        for (guint t = 0; t < G_N_ELEMENTS(rv_cli_tables); t++) {
                for (const RvCliCommand *c = rv_cli_tables[t]; c->name != NULL; c++) {
                        if (g_str_equal(c->name, name))
                                return c;
                }
        }
        return NULL;
}

static const RvCliCommand *
rv_cli_group_find(const RvCliGroup *group, const char *name)
{
        for (const RvCliCommand *c = group->commands; c->name != NULL; c++) {
                if (g_str_equal(c->name, name))
                        return c;
        }
        return NULL;
}

static const RvCliGroup *
rv_cli_find_group(const char *name)
{
        for (guint g = 0; g < G_N_ELEMENTS(rv_cli_groups); g++) {
                if (g_str_equal(rv_cli_groups[g]->name, name))
                        return rv_cli_groups[g];
        }
        return NULL;
}

static void
rv_cli_print_unknown(const char *name)
{
        g_printerr("revaerctl: ");
        g_printerr(_("unknown command '%s' (see revaerctl --help)"), name);
        g_printerr("\n");
}

static void
rv_cli_print_unknown_subcommand(const RvCliGroup *group, const char *name)
{
        g_printerr("revaerctl: ");
        /* TRANSLATORS: "unknown config command 'frob' (see revaerctl config --help)" */
        g_printerr(_("unknown %s command '%s' (see revaerctl %s --help)"), group->name, name, group->name);
        g_printerr("\n");
}

static char *
rv_cli_commands_description(void)
{
        g_autoptr(GString) out = g_string_new(_("Commands:"));

        g_string_append_c(out, '\n');
        for (guint t = 0; t < G_N_ELEMENTS(rv_cli_tables); t++) {
                for (const RvCliCommand *c = rv_cli_tables[t]; c->name != NULL; c++)
                        g_string_append_printf(out, "  %-12s %s\n", c->name, _(c->summary));
        }
        for (guint g = 0; g < G_N_ELEMENTS(rv_cli_groups); g++)
                g_string_append_printf(out, "  %-12s %s\n", rv_cli_groups[g]->name, _(rv_cli_groups[g]->summary));
        g_string_append_c(out, '\n');
        g_string_append(out, _("A TORRENT is an info hash, a unique prefix of one (4 hex digits at least) or an "
                               "exact name.\nWith --url (or REVAER_URL) every command goes to the service's HTTP API "
                               "with the API key of --api-key, --api-key-file, REVAER_API_KEY or REVAER_API_KEY_FILE."
                               "\nExit status: 0 success, 2 invalid usage or argument, 3 runtime "
                               "failure.\nSee revaerctl COMMAND --help and revaerctl(1)."));
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static char *
rv_cli_group_description(const RvCliGroup *group)
{
        g_autoptr(GString) out = g_string_new(_("Subcommands:"));
        g_autoptr(GPtrArray) usages = g_ptr_array_new_with_free_func(g_free);
        guint width = 12;

        g_string_append_c(out, '\n');
        for (const RvCliCommand *c = group->commands; c->name != NULL; c++) {
                char *usage = c->parameter_string[0] != '\0' ? g_strdup_printf("%s %s", c->name, _(c->parameter_string))
                                                             : g_strdup(c->name);
                width = MAX(width, rv_cli_display_width(usage));
                g_ptr_array_add(usages, usage);
        }
        for (guint i = 0; i < usages->len; i++) {
                const char *usage = g_ptr_array_index(usages, i);
                guint pad = width - rv_cli_display_width(usage);
                g_string_append_printf(out, "  %s%*s  %s\n", usage, (int)pad, "", _(group->commands[i].summary));
        }
        g_string_append_c(out, '\n');
        if (group->default_command != NULL) {
                /* TRANSLATORS: "Without a subcommand, revaerctl config runs 'show'." */
                g_string_append_printf(out, _("Without a subcommand, revaerctl %s runs '%s'."), group->name,
                                       group->default_command);
                g_string_append_c(out, '\n');
        }
        /* TRANSLATORS: "See revaerctl config SUBCOMMAND --help and revaerctl(1)." */
        g_string_append_printf(out, _("See revaerctl %s SUBCOMMAND --help and revaerctl(1)."), group->name);
        return g_string_free(g_steal_pointer(&out), FALSE);
}

/* the options of a group without a subcommand: those of its default */
static const RvCliCommand *
rv_cli_group_default(const RvCliGroup *group)
{
        return group->default_command != NULL ? rv_cli_group_find(group, group->default_command) : NULL;
}

static GOptionContext *
rv_cli_context_new(const RvCliGroup *group, const RvCliCommand *command)
{
        GOptionContext *context;

        if (group != NULL && command == NULL) {
                g_autofree char *description = rv_cli_group_description(group);
                g_autofree char *parameters = g_strdup_printf(group->default_command != NULL ? "%s [%s]" : "%s %s",
                                                              group->name, _("SUBCOMMAND [ARGUMENT…]"));
                const RvCliCommand *fallback = rv_cli_group_default(group);
                context = g_option_context_new(parameters);
                g_option_context_set_summary(context, _(group->summary));
                g_option_context_set_description(context, description);
                if (fallback != NULL && fallback->entries != NULL)
                        g_option_context_add_main_entries(context, fallback->entries, GETTEXT_PACKAGE);
        } else if (group != NULL) {
                g_autofree char *parameters =
                        command->parameter_string[0] != '\0'
                                ? g_strdup_printf("%s %s %s", group->name, command->name, _(command->parameter_string))
                                : g_strdup_printf("%s %s", group->name, command->name);
                context = g_option_context_new(parameters);
                g_option_context_set_summary(context, _(command->summary));
                if (command->entries != NULL)
                        g_option_context_add_main_entries(context, command->entries, GETTEXT_PACKAGE);
        } else if (command == NULL) {
                g_autofree char *description = rv_cli_commands_description();
                context = g_option_context_new(_("COMMAND [ARGUMENT…]"));
                g_option_context_set_summary(context, _("Control the Revaer torrent service."));
                g_option_context_set_description(context, description);
                g_option_context_add_main_entries(context, rv_cli_top_entries, GETTEXT_PACKAGE);
        } else {
                /* never _(""): that is the catalog's header */
                g_autofree char *parameters =
                        command->parameter_string[0] != '\0'
                                ? g_strdup_printf("%s %s", command->name, _(command->parameter_string))
                                : g_strdup(command->name);
                context = g_option_context_new(parameters);
                g_option_context_set_summary(context, _(command->summary));
                if (command->entries != NULL)
                        g_option_context_add_main_entries(context, command->entries, GETTEXT_PACKAGE);
        }
        g_option_context_add_main_entries(context, rv_cli_global_entries, GETTEXT_PACKAGE);
        g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
        return context;
}

static int
rv_cli_exit_code(const GError *error)
{
        if (error->domain == G_OPTION_ERROR)
                return RV_CLI_EXIT_USAGE;
        if (error->domain == RV_ERROR && error->code == RV_ERROR_INVALID_ARGUMENT)
                return RV_CLI_EXIT_USAGE;
        return RV_CLI_EXIT_FAILURE;
}

static int
rv_cli_fail(const GError *error)
{
        g_printerr("revaerctl: %s\n", error->message);
        return rv_cli_exit_code(error);
}

/* revaerctl help [COMMAND [SUBCOMMAND]] */
static int
rv_cli_help(char **args)
{
        const RvCliGroup *group = NULL;
        const RvCliCommand *command = NULL;
        g_autoptr(GOptionContext) context = NULL;
        g_autofree char *text = NULL;
        guint n = g_strv_length(args);

        if (n > 0)
                group = rv_cli_find_group(args[0]);
        if (n > (group != NULL ? 2U : 1U)) {
                g_printerr("revaerctl: %s\n", _("help takes one command at most"));
                return RV_CLI_EXIT_USAGE;
        }
        if (group != NULL && n == 2) {
                command = rv_cli_group_find(group, args[1]);
                if (command == NULL) {
                        rv_cli_print_unknown_subcommand(group, args[1]);
                        return RV_CLI_EXIT_USAGE;
                }
        } else if (group == NULL && n == 1) {
                command = rv_cli_find_command(args[0]);
                if (command == NULL) {
                        rv_cli_print_unknown(args[0]);
                        return RV_CLI_EXIT_USAGE;
                }
        }
        context = rv_cli_context_new(group, command);
        text = g_option_context_get_help(context, TRUE, NULL);
        fputs(text, stdout);
        return RV_CLI_EXIT_SUCCESS;
}

/*
 * the command is the first word that is not an option, and for a group the
 * subcommand the second; global options may come anywhere; rest gets the
 * rest for GOption
 */
static void
rv_cli_split_args(int argc, char **argv, GPtrArray *rest, const char **ret_name, const RvCliGroup **ret_group,
                  const char **ret_subname)
{
        g_ptr_array_add(rest, argv[0]);
        for (int i = 1; i < argc; i++) {
                gboolean word = argv[i][0] != '-' && !g_str_equal(argv[i], "");
                /* the global options that take a value: the value is not the command */
                if ((g_str_equal(argv[i], "--url") || g_str_equal(argv[i], "--api-key") ||
                     g_str_equal(argv[i], "--api-key-file")) &&
                    i + 1 < argc) {
                        g_ptr_array_add(rest, argv[i]);
                        g_ptr_array_add(rest, argv[++i]);
                        continue;
                }
                if (*ret_name == NULL && word) {
                        *ret_name = argv[i];
                        *ret_group = rv_cli_find_group(*ret_name);
                        continue;
                }
                if (*ret_name == NULL && g_str_equal(argv[i], "--") && i + 1 < argc) {
                        *ret_name = argv[++i];
                        *ret_group = rv_cli_find_group(*ret_name);
                        continue;
                }
                if (*ret_group != NULL && *ret_subname == NULL && word) {
                        *ret_subname = argv[i];
                        continue;
                }
                g_ptr_array_add(rest, argv[i]);
        }
}

int
main(int argc, char **argv)
{
        g_autoptr(GOptionContext) context = NULL;
        g_autoptr(GPtrArray) rest = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        g_autofree char **args = NULL;
        const RvCliCommand *command = NULL;
        const RvCliGroup *group = NULL;
        const char *name = NULL;
        const char *subname = NULL;
        RvCli cli = { 0 };
        int n_args;
        gboolean ok;

        setlocale(LC_ALL, "");
        bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
        bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
        textdomain(GETTEXT_PACKAGE);
        g_set_prgname("revaerctl");

        rv_cli_split_args(argc, argv, rest, &name, &group, &subname);
        if (group != NULL && subname != NULL) {
                command = rv_cli_group_find(group, subname);
                if (command == NULL) {
                        rv_cli_print_unknown_subcommand(group, subname);
                        return RV_CLI_EXIT_USAGE;
                }
        } else if (name != NULL && group == NULL && !g_str_equal(name, "help")) {
                command = rv_cli_find_command(name);
                if (command == NULL) {
                        rv_cli_print_unknown(name);
                        return RV_CLI_EXIT_USAGE;
                }
        }
        g_ptr_array_add(rest, NULL);

        context = rv_cli_context_new(group, command);
        n_args = (int)rest->len - 1;
        /* g_option_context_parse() rearranges the vector it gets, so give it a copy of the pointers */
        args = g_memdup2(rest->pdata, rest->len * sizeof(char *));
        if (!g_option_context_parse(context, &n_args, &args, &error)) {
                g_autofree char *hint = group != NULL && command != NULL
                                                ? g_strdup_printf("revaerctl %s %s --help", group->name, command->name)
                                        : group != NULL   ? g_strdup_printf("revaerctl %s --help", group->name)
                                        : command != NULL ? g_strdup_printf("revaerctl %s --help", command->name)
                                                          : g_strdup("revaerctl --help");
                g_printerr("revaerctl: %s\n", error->message);
                /* TRANSLATORS: %s is a command line such as "revaerctl add --help" */
                g_printerr(_("See '%s'."), hint);
                g_printerr("\n");
                return RV_CLI_EXIT_USAGE;
        }
        /* GOption leaves the "--" that ends the options in place; what follows is arguments only */
        for (int i = 1; i < n_args; i++) {
                if (g_str_equal(args[i], "--")) {
                        memmove(args + i, args + i + 1, (gsize)(n_args - i) * sizeof(char *));
                        n_args--;
                        break;
                }
        }
        if (opt_version) {
                g_print("revaerctl %s\n", PACKAGE_VERSION);
                return RV_CLI_EXIT_SUCCESS;
        }
        if (name != NULL && group == NULL && g_str_equal(name, "help"))
                return rv_cli_help(args + 1);
        if (group != NULL && command == NULL) {
                command = rv_cli_group_default(group);
                if (command == NULL) {
                        g_printerr("revaerctl: ");
                        /* TRANSLATORS: "missing keys command (see revaerctl keys --help)" */
                        g_printerr(_("missing %s command (see revaerctl %s --help)"), group->name, group->name);
                        g_printerr("\n");
                        return RV_CLI_EXIT_USAGE;
                }
        }
        if (command == NULL) {
                g_printerr("revaerctl: %s\n", _("no command given (see revaerctl --help)"));
                return RV_CLI_EXIT_USAGE;
        }
        if (opt_user && opt_system) {
                g_printerr("revaerctl: %s\n", _("--user and --system exclude each other"));
                return RV_CLI_EXIT_USAGE;
        }

        cli.user = opt_user;
        cli.json = opt_json;
        if (!rv_cli_setup_http(&cli, &error))
                return rv_cli_fail(error);
        ok = command->run(&cli, args + 1, &error);
        rv_cli_clear(&cli);
        if (!ok)
                return rv_cli_fail(error);
        return RV_CLI_EXIT_SUCCESS;
}
