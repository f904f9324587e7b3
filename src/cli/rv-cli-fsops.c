/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "rv-cli.h"

/* revaerctl fsops: where the post-download pipeline of a torrent stands, and running it again */

static gboolean
rv_cli_fsops_status(RvCli *cli, char **args, GError **error)
{
        const char *const props[][2] = { { "FsState", N_("State") },
                                         { "FsError", N_("Error") },
                                         { "LibraryPath", N_("Library path") } };
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autofree char *path = NULL;
        guint width = 0;

        if (!rv_cli_check_args(args, 1, 1, error))
                return FALSE;
        path = rv_cli_resolve(cli, args[0], error);
        if (path == NULL)
                return FALSE;
        json_builder_begin_object(builder);
        for (guint i = 0; i < G_N_ELEMENTS(props); i++)
                width = MAX(width, rv_cli_display_width(_(props[i][1])));
        for (guint i = 0; i < G_N_ELEMENTS(props); i++) {
                g_autoptr(GVariant) v = rv_cli_get_property(cli, path, RV_BUS_TORRENT_IFACE, props[i][0], error);
                g_autofree char *key = rv_cli_json_key(props[i][0]);
                const char *text;
                if (v == NULL)
                        return FALSE;
                text = g_variant_get_string(v, NULL);
                json_builder_set_member_name(builder, key);
                json_builder_add_string_value(builder, text);
                if (!cli->json && (text[0] != '\0' || i == 0))
                        rv_cli_print_field(_(props[i][1]), width, text);
        }
        json_builder_end_object(builder);
        if (cli->json) {
                g_autoptr(JsonNode) root = json_builder_get_root(builder);
                rv_cli_print_json(root, TRUE);
        }
        return TRUE;
}

static gboolean
rv_cli_fsops_retry(RvCli *cli, char **args, GError **error)
{
        if (!rv_cli_check_args(args, 1, G_MAXUINT, error))
                return FALSE;
        for (guint i = 0; args[i] != NULL; i++) {
                g_autofree char *path = rv_cli_resolve(cli, args[i], error);
                g_autoptr(GVariant) reply = NULL;
                if (path == NULL)
                        return FALSE;
                reply = rv_cli_call(cli, path, RV_BUS_TORRENT_IFACE, "Retry", error, NULL);
                if (reply == NULL)
                        return FALSE;
        }
        return TRUE;
}

static const RvCliCommand rv_cli_fsops_commands[] = {
        { "status", N_("TORRENT"), N_("Show where the file pipeline of a torrent stands"), NULL, rv_cli_fsops_status },
        { "retry", N_("TORRENT…"), N_("Run the file pipeline of torrents again, with the settings as they are now"),
          NULL, rv_cli_fsops_retry },
        { NULL, NULL, NULL, NULL, NULL },
};

const RvCliGroup rv_cli_fsops_group = {
        "fsops",
        N_("The file pipeline after a download: its state, and running it again"),
        NULL,
        rv_cli_fsops_commands,
};
