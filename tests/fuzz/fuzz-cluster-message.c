/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * what one node of a cluster reads from another through PostgreSQL
 * (docs/cluster.md): a command carried to a torrent's owner, an add placed
 * on this node, and an owner's published summary of a torrent. Each is read,
 * written back and read again the same.
 */
#include "config.h"

#include <stdlib.h>

#include "rv-add-options.h"
#include "rv-command.h"
#include "rv-fuzz.h"
#include "rv-torrent.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        rv_fuzz_init();
        return 0;
}

static void
rv_fuzz_command(JsonNode *node)
{
        g_autoptr(RvCommand) command = rv_command_from_json(node, NULL);
        g_autoptr(RvCommand) again = NULL;
        g_autoptr(JsonNode) out = NULL;
        g_autoptr(JsonNode) out_again = NULL;

        if (command == NULL)
                return;
        out = rv_command_to_json(command);
        again = rv_command_from_json(out, NULL);
        if (again == NULL)
                abort();
        out_again = rv_command_to_json(again);
        if (!json_node_equal(out, out_again))
                abort();
}

static void
rv_fuzz_add(JsonNode *node)
{
        static const char *const skip[] = { "op", "magnet", "torrent", "share_limits", NULL };
        g_autoptr(RvAddOptions) options = rv_add_options_new();
        const RvAddRequest *request;
        g_autoptr(JsonNode) out = NULL;

        if (!JSON_NODE_HOLDS_OBJECT(node) ||
            !rv_add_options_set_json_object(options, json_node_get_object(node), skip, "", NULL))
                return;
        rv_add_options_set_magnet(options, "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567");
        request = rv_add_options_get_request(options, NULL);
        if (request == NULL)
                return;
        /* as it travels: read back by the node it goes to */
        out = rv_add_request_to_json(request);
        {
                g_autoptr(RvAddOptions) back = rv_add_options_new();
                if (!rv_add_options_set_json_object(back, json_node_get_object(out), skip, "", NULL))
                        abort();
        }
}

static void
rv_fuzz_status(JsonNode *node)
{
        RvInfoHash hash;
        g_autoptr(RvTorrent) torrent = NULL;
        g_autoptr(RvTorrent) again = NULL;
        g_autoptr(JsonNode) out = NULL;
        g_autoptr(JsonNode) out_again = NULL;

        (void)rv_info_hash_parse("0123456789abcdef0123456789abcdef01234567", &hash);
        torrent = rv_torrent_new(&hash);
        rv_torrent_status_from_json(torrent, node);
        if (torrent->progress < 0.0 || torrent->progress > 1.0 || torrent->total_size < 0)
                abort();
        out = rv_torrent_status_to_json(torrent);
        again = rv_torrent_new(&hash);
        rv_torrent_status_from_json(again, out);
        out_again = rv_torrent_status_to_json(again);
        if (!json_node_equal(out, out_again))
                abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(JsonNode) node = rv_fuzz_json(data, size, TRUE);

        if (node == NULL)
                return 0;
        rv_fuzz_command(node);
        rv_fuzz_add(node);
        rv_fuzz_status(node);
        return 0;
}
