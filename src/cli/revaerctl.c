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

static const GOptionEntry rv_cli_global_entries[] = {
        { "user", 0, 0, G_OPTION_ARG_NONE, &opt_user, N_("Talk to the service on the session bus"), NULL },
        { "system", 0, 0, G_OPTION_ARG_NONE, &opt_system, N_("Talk to the service on the system bus (default)"), NULL },
        { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, N_("Print JSON instead of tables"), NULL },
        G_OPTION_ENTRY_NULL,
};

static const GOptionEntry rv_cli_top_entries[] = {
        { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, N_("Print the version and exit"), NULL },
        G_OPTION_ENTRY_NULL,
};

static const RvCliCommand *const rv_cli_tables[] = {
        rv_cli_torrent_commands,
        rv_cli_add_commands,
        rv_cli_service_commands,
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

static char *
rv_cli_commands_description(void)
{
        g_autoptr(GString) out = g_string_new(_("Commands:"));

        g_string_append_c(out, '\n');
        for (guint t = 0; t < G_N_ELEMENTS(rv_cli_tables); t++) {
                for (const RvCliCommand *c = rv_cli_tables[t]; c->name != NULL; c++)
                        g_string_append_printf(out, "  %-12s %s\n", c->name, _(c->summary));
        }
        g_string_append_c(out, '\n');
        g_string_append(out, _("A TORRENT is an info hash, a unique prefix of one (4 hex digits at least) or an "
                               "exact name.\nExit status: 0 success, 2 invalid usage or argument, 3 runtime "
                               "failure.\nSee revaerctl COMMAND --help and revaerctl(1)."));
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static GOptionContext *
rv_cli_context_new(const RvCliCommand *command)
{
        GOptionContext *context;

        if (command == NULL) {
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

/* revaerctl help [COMMAND] */
static int
rv_cli_help(char **args)
{
        const RvCliCommand *command = NULL;
        g_autoptr(GOptionContext) context = NULL;
        g_autofree char *text = NULL;

        if (args[0] != NULL && args[1] != NULL) {
                g_printerr("revaerctl: %s\n", _("help takes one command at most"));
                return RV_CLI_EXIT_USAGE;
        }
        if (args[0] != NULL) {
                command = rv_cli_find_command(args[0]);
                if (command == NULL) {
                        g_printerr("revaerctl: ");
                        g_printerr(_("unknown command '%s' (see revaerctl --help)"), args[0]);
                        g_printerr("\n");
                        return RV_CLI_EXIT_USAGE;
                }
        }
        context = rv_cli_context_new(command);
        text = g_option_context_get_help(context, TRUE, NULL);
        fputs(text, stdout);
        return RV_CLI_EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
        g_autoptr(GOptionContext) context = NULL;
        g_autoptr(GPtrArray) rest = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        g_autofree char **args = NULL;
        const RvCliCommand *command = NULL;
        const char *name = NULL;
        RvCli cli = { 0 };
        int n_args;
        gboolean ok;

        setlocale(LC_ALL, "");
        bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
        bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
        textdomain(GETTEXT_PACKAGE);
        g_set_prgname("revaerctl");

        /* the command is the first word that is not an option; global options may come before or after it */
        g_ptr_array_add(rest, argv[0]);
        for (int i = 1; i < argc; i++) {
                if (name == NULL && argv[i][0] != '-' && !g_str_equal(argv[i], "")) {
                        name = argv[i];
                        continue;
                }
                if (name == NULL && g_str_equal(argv[i], "--") && i + 1 < argc) {
                        name = argv[++i];
                        continue;
                }
                g_ptr_array_add(rest, argv[i]);
        }
        if (name != NULL && !g_str_equal(name, "help")) {
                command = rv_cli_find_command(name);
                if (command == NULL) {
                        g_printerr("revaerctl: ");
                        g_printerr(_("unknown command '%s' (see revaerctl --help)"), name);
                        g_printerr("\n");
                        return RV_CLI_EXIT_USAGE;
                }
        }
        g_ptr_array_add(rest, NULL);

        context = rv_cli_context_new(command);
        n_args = (int)rest->len - 1;
        /* g_option_context_parse() rearranges the vector it gets, so give it a copy of the pointers */
        args = g_memdup2(rest->pdata, rest->len * sizeof(char *));
        if (!g_option_context_parse(context, &n_args, &args, &error)) {
                g_autofree char *hint = command != NULL ? g_strdup_printf("revaerctl %s --help", command->name)
                                                        : g_strdup("revaerctl --help");
                g_printerr("revaerctl: %s\n", error->message);
                /* TRANSLATORS: %s is a command line such as "revaerctl add --help" */
                g_printerr(_("See '%s'."), hint);
                g_printerr("\n");
                return RV_CLI_EXIT_USAGE;
        }
        if (opt_version) {
                g_print("revaerctl %s\n", PACKAGE_VERSION);
                return RV_CLI_EXIT_SUCCESS;
        }
        if (name != NULL && g_str_equal(name, "help"))
                return rv_cli_help(args + 1);
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
        ok = command->run(&cli, args + 1, &error);
        rv_cli_clear(&cli);
        if (!ok)
                return rv_cli_fail(error);
        return RV_CLI_EXIT_SUCCESS;
}
