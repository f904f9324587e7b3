/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "rv-cli.h"

/*
 * revaerctl setup and keys: the first API key through a one-time token, and
 * the keys after it. Secrets come back once, in the reply that made them;
 * they are printed and wiped, never kept or logged.
 */

/* what CompleteSetup names the first key unless told otherwise */
#define RV_CLI_SETUP_LABEL "admin"
/* a token read from standard input: one line, far more than a token needs */
#define RV_CLI_TOKEN_MAX 1024

static void
rv_cli_wipe(char *secret)
{
        if (secret != NULL)
                explicit_bzero(secret, strlen(secret));
}

static void
rv_cli_print_key(RvCli *cli, const char *key_id, const char *secret)
{
        if (cli->json) {
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autoptr(JsonNode) root = NULL;
                json_builder_begin_object(builder);
                json_builder_set_member_name(builder, "key_id");
                json_builder_add_string_value(builder, key_id);
                json_builder_set_member_name(builder, "secret");
                json_builder_add_string_value(builder, secret);
                json_builder_end_object(builder);
                root = json_builder_get_root(builder);
                rv_cli_print_json(root, TRUE);
                return;
        }
        {
                guint width = MAX(rv_cli_display_width(_("Key ID")), rv_cli_display_width(_("Secret")));
                rv_cli_print_field(_("Key ID"), width, key_id);
                rv_cli_print_field(_("Secret"), width, secret);
                g_print("\n%s\n%s\n", _("The secret is shown this once only: store it now."),
                        _("The service keeps only a hash of it; revaerctl keys rotate replaces a lost secret."));
        }
        fflush(stdout);
}

/* setup (token) */

static gboolean
rv_cli_setup_token(RvCli *cli, char **args, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autofree char *token = NULL;
        g_autofree char *expires_text = NULL;
        guint64 expires = 0;

        if (!rv_cli_check_args(args, 0, 0, error))
                return FALSE;
        reply = rv_cli_call(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "IssueSetupToken", error, NULL);
        if (reply == NULL)
                return FALSE;
        if (!rv_cli_reply_is(reply, "(st)", "IssueSetupToken", error))
                return FALSE;
        g_variant_get(reply, "(st)", &token, &expires);
        if (cli->json) {
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autoptr(JsonNode) root = NULL;
                json_builder_begin_object(builder);
                json_builder_set_member_name(builder, "token");
                json_builder_add_string_value(builder, token);
                json_builder_set_member_name(builder, "expires_at");
                json_builder_add_int_value(builder, (gint64)MIN(expires, (guint64)G_MAXINT64));
                json_builder_end_object(builder);
                root = json_builder_get_root(builder);
                rv_cli_print_json(root, TRUE);
                rv_cli_wipe(token);
                return TRUE;
        }
        expires_text = rv_cli_format_time(expires);
        {
                gint64 left = (gint64)expires - g_get_real_time() / G_USEC_PER_SEC;
                g_autofree char *left_text = rv_cli_format_eta(MAX(left, 0));
                /* TRANSLATORS: when a token expires, "2026-11-26 20:48:17 (in 15m 00s)" */
                g_autofree char *when = g_strdup_printf(_("%s (in %s)"), expires_text, left_text);
                guint width = MAX(rv_cli_display_width(_("Setup token")), rv_cli_display_width(_("Expires")));
                rv_cli_print_field(_("Setup token"), width, token);
                rv_cli_print_field(_("Expires"), width, when);
        }
        g_print("\n%s\n", _("Create the first API key with:"));
        /* a token may start with '-': "--" keeps it from reading as an option */
        g_print("  revaerctl%s setup complete %s%s\n", cli->user ? " --user" : "", token[0] == '-' ? "-- " : "", token);
        rv_cli_wipe(token);
        return TRUE;
}

/* setup complete */

static char *opt_setup_label;

static const GOptionEntry rv_cli_complete_entries[] = {
        { "label", 'l', 0, G_OPTION_ARG_STRING, &opt_setup_label, N_("Name the first API key (default: admin)"),
          N_("LABEL") },
        G_OPTION_ENTRY_NULL,
};

/* "-": the token from standard input, so it shows in no process list */
static char *
rv_cli_read_token(const char *arg, GError **error)
{
        char buf[RV_CLI_TOKEN_MAX];
        char *token;

        if (!g_str_equal(arg, "-"))
                return g_strdup(arg);
        if (fgets(buf, sizeof(buf), stdin) == NULL) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    _("no setup token on the standard input"));
                return NULL;
        }
        token = g_strdup(g_strstrip(buf));
        explicit_bzero(buf, sizeof(buf));
        return token;
}

static gboolean
rv_cli_setup_complete(RvCli *cli, char **args, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autofree char *token = NULL;
        g_autofree char *key_id = NULL;
        g_autofree char *secret = NULL;

        if (!rv_cli_check_one_arg(args, _("TOKEN"), error))
                return FALSE;
        token = rv_cli_read_token(args[0], error);
        if (token == NULL)
                return FALSE;
        reply = rv_cli_call(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "CompleteSetup", error, "ss", token,
                            opt_setup_label != NULL ? opt_setup_label : RV_CLI_SETUP_LABEL);
        rv_cli_wipe(token);
        if (reply == NULL)
                return FALSE;
        if (!rv_cli_reply_is(reply, "(ss)", "CompleteSetup", error))
                return FALSE;
        g_variant_get(reply, "(ss)", &key_id, &secret);
        rv_cli_print_key(cli, key_id, secret);
        rv_cli_wipe(secret);
        return TRUE;
}

/* keys list */

static char *
rv_cli_format_key_rate(guint32 burst, guint32 period)
{
        if (burst == 0 || period == 0)
                return g_strdup("-");
        /* TRANSLATORS: a key's rate limit, "5 per 60 s": requests per period */
        return g_strdup_printf(_("%u per %u s"), burst, period);
}

static gboolean
rv_cli_keys_list(RvCli *cli, char **args, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) keys = NULL;
        g_autoptr(RvCliTable) table = NULL;
        g_autoptr(JsonBuilder) builder = NULL;
        GVariantIter iter;
        const char *key_id;
        const char *label;
        gboolean enabled;
        guint32 burst;
        guint32 period;
        guint64 created;

        if (!rv_cli_check_args(args, 0, 0, error))
                return FALSE;
        reply = rv_cli_call(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "ListApiKeys", error, NULL);
        if (reply == NULL)
                return FALSE;
        if (!rv_cli_reply_is(reply, "(a(ssbuut))", "ListApiKeys", error))
                return FALSE;
        keys = g_variant_get_child_value(reply, 0);

        builder = json_builder_new();
        json_builder_begin_array(builder);
        table = rv_cli_table_new(5);
        rv_cli_table_set_column(table, 0, _("KEY ID"), RV_CLI_ALIGN_LEFT, FALSE, FALSE);
        rv_cli_table_set_column(table, 1, _("LABEL"), RV_CLI_ALIGN_LEFT, TRUE, FALSE);
        rv_cli_table_set_column(table, 2, _("ENABLED"), RV_CLI_ALIGN_LEFT, FALSE, FALSE);
        rv_cli_table_set_column(table, 3, _("RATE LIMIT"), RV_CLI_ALIGN_LEFT, FALSE, FALSE);
        rv_cli_table_set_column(table, 4, _("CREATED"), RV_CLI_ALIGN_LEFT, FALSE, FALSE);
        g_variant_iter_init(&iter, keys);
        while (g_variant_iter_next(&iter, "(&s&sbuut)", &key_id, &label, &enabled, &burst, &period, &created)) {
                if (cli->json) {
                        json_builder_begin_object(builder);
                        json_builder_set_member_name(builder, "key_id");
                        json_builder_add_string_value(builder, key_id);
                        json_builder_set_member_name(builder, "label");
                        json_builder_add_string_value(builder, label);
                        json_builder_set_member_name(builder, "enabled");
                        json_builder_add_boolean_value(builder, enabled);
                        json_builder_set_member_name(builder, "burst");
                        json_builder_add_int_value(builder, burst);
                        json_builder_set_member_name(builder, "period_s");
                        json_builder_add_int_value(builder, period);
                        json_builder_set_member_name(builder, "created");
                        json_builder_add_int_value(builder, (gint64)MIN(created, (guint64)G_MAXINT64));
                        json_builder_end_object(builder);
                        continue;
                }
                rv_cli_table_add_row(table, g_strdup(key_id), g_strdup(label[0] != '\0' ? label : "-"),
                                     g_strdup(rv_cli_format_bool(enabled)), rv_cli_format_key_rate(burst, period),
                                     rv_cli_format_time(created));
        }
        json_builder_end_array(builder);
        if (cli->json) {
                g_autoptr(JsonNode) root = json_builder_get_root(builder);
                rv_cli_print_json(root, TRUE);
                return TRUE;
        }
        if (g_variant_n_children(keys) == 0) {
                g_print("%s\n", _("No API keys; the service waits for setup (see revaerctl setup)."));
                return TRUE;
        }
        rv_cli_table_print(table, stdout, rv_cli_output_width());
        return TRUE;
}

/* keys create */

/* not given: no rate limit */
#define RV_CLI_UNSET G_MININT
static int opt_key_burst = RV_CLI_UNSET;
static int opt_key_period = RV_CLI_UNSET;
static char *opt_key_scope;

static const GOptionEntry rv_cli_create_entries[] = {
        { "scope", 0, 0, G_OPTION_ARG_STRING, &opt_key_scope,
          N_("What the key may do over HTTP: metrics, read, manage, configure or admin (default admin)"), N_("SCOPE") },
        { "burst", 0, 0, G_OPTION_ARG_INT, &opt_key_burst, N_("Allow N requests per period (with --period)"), N_("N") },
        { "period", 0, 0, G_OPTION_ARG_INT, &opt_key_period, N_("The rate limit's period (with --burst)"),
          N_("SECONDS") },
        G_OPTION_ENTRY_NULL,
};

static gboolean
rv_cli_keys_create(RvCli *cli, char **args, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autofree char *key_id = NULL;
        g_autofree char *secret = NULL;

        if (!rv_cli_check_one_arg(args, _("LABEL"), error))
                return FALSE;
        if ((opt_key_burst == RV_CLI_UNSET) != (opt_key_period == RV_CLI_UNSET) ||
            (opt_key_burst != RV_CLI_UNSET && (opt_key_burst <= 0 || opt_key_period <= 0))) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    _("--burst and --period go together and must be positive"));
                return FALSE;
        }
        reply = rv_cli_call(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "CreateScopedApiKey", error, "ssuu", args[0],
                            opt_key_scope != NULL ? opt_key_scope : "admin", (uint32_t)MAX(opt_key_burst, 0),
                            (uint32_t)MAX(opt_key_period, 0));
        if (reply == NULL)
                return FALSE;
        if (!rv_cli_reply_is(reply, "(ss)", "CreateScopedApiKey", error))
                return FALSE;
        g_variant_get(reply, "(ss)", &key_id, &secret);
        rv_cli_print_key(cli, key_id, secret);
        rv_cli_wipe(secret);
        return TRUE;
}

/* keys rotate, revoke */

static gboolean
rv_cli_keys_rotate(RvCli *cli, char **args, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autofree char *secret = NULL;

        if (!rv_cli_check_one_arg(args, _("KEY_ID"), error))
                return FALSE;
        reply = rv_cli_call(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "RotateApiKey", error, "s", args[0]);
        if (reply == NULL)
                return FALSE;
        if (!rv_cli_reply_is(reply, "(s)", "RotateApiKey", error))
                return FALSE;
        g_variant_get(reply, "(s)", &secret);
        rv_cli_print_key(cli, args[0], secret);
        rv_cli_wipe(secret);
        return TRUE;
}

static gboolean
rv_cli_keys_revoke(RvCli *cli, char **args, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) setup = NULL;

        if (!rv_cli_check_one_arg(args, _("KEY_ID"), error))
                return FALSE;
        reply = rv_cli_call(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "RevokeApiKey", error, "s", args[0]);
        if (reply == NULL)
                return FALSE;
        /* the last key gone puts the service back into setup: say so, it refuses the HTTP API now */
        setup = rv_cli_get_property(cli, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "SetupRequired", NULL);
        if (!cli->json && setup != NULL && rv_cli_variant_to_int64(setup) != 0)
                g_print("%s\n", _("That was the last API key: the service waits for setup again (see revaerctl "
                                  "setup)."));
        return TRUE;
}

static const RvCliCommand rv_cli_setup_commands[] = {
        { "token", "", N_("Issue a one-time token for creating the first API key"), NULL, rv_cli_setup_token },
        { "complete", N_("TOKEN"), N_("Create the first API key with a setup token (- reads it from stdin)"),
          rv_cli_complete_entries, rv_cli_setup_complete },
        { NULL, NULL, NULL, NULL, NULL },
};

const RvCliGroup rv_cli_setup_group = {
        "setup",
        N_("Set the service up: a setup token, then the first API key"),
        "token",
        rv_cli_setup_commands,
};

static const RvCliCommand rv_cli_keys_commands[] = {
        { "list", "", N_("List the API keys (never their secrets)"), NULL, rv_cli_keys_list },
        { "create", N_("LABEL"), N_("Create an API key and print its secret"), rv_cli_create_entries,
          rv_cli_keys_create },
        { "rotate", N_("KEY_ID"), N_("Replace the secret of an API key and print the new one"), NULL,
          rv_cli_keys_rotate },
        { "revoke", N_("KEY_ID"), N_("Delete an API key"), NULL, rv_cli_keys_revoke },
        { NULL, NULL, NULL, NULL, NULL },
};

const RvCliGroup rv_cli_keys_group = {
        "keys",
        N_("List, create, rotate and revoke API keys"),
        "list",
        rv_cli_keys_commands,
};
