/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "rv-test-data.h"
#include "rv-test-http.h"
#include "rv-test-pg.h"

/*
 * one view of the cluster and commands carried to a torrent's owner
 * (docs/cluster.md), end to end: two nodes with a 3 s lease on one throwaway
 * PostgreSQL, each with its HTTP API. The first API key, made on one node,
 * holds on the other at once. A torrent added on node B is listed by
 * node A with its node; a resume, a pause and a remove sent to node A run on
 * node B; a command for a node that does not answer ends in TimedOut.
 */

#define LEASE_S 3

static RvTestPgCluster cluster;

static void
start_node(RvTestHttp *t, const char *conninfo, const char *id, gboolean setup, const char *cluster_extra)
{
        g_autofree char *extra = g_strdup_printf("[store]\nbackend=postgres\ndatabase-url=%s\nnode-id=%s\n"
                                                 "[cluster]\nlease-seconds=%d\n%s",
                                                 conninfo, id, LEASE_S, cluster_extra);

        rv_test_http_start(t, extra, setup);
}

/* the torrent as t lists it (GET /v1/torrents), NULL when it is not in the list */
static JsonObject *
listed(RvTestHttp *t, const char *key, const char *hex, RvTestResponse **ret_keep)
{
        RvTestResponse *r = rv_test_http_get(t, "/v1/torrents", key);
        JsonArray *rows;

        g_assert_cmpuint(r->status, ==, 200);
        rows = json_object_get_array_member(rv_test_response_object(r), "torrents");
        for (guint i = 0; i < json_array_get_length(rows); i++) {
                JsonObject *row = json_array_get_object_element(rows, i);
                if (g_str_equal(json_object_get_string_member(row, "info_hash"), hex)) {
                        *ret_keep = r;
                        return row;
                }
        }
        rv_test_response_free(r);
        return NULL;
}

/* waits until t lists hex owned by node (NULL: this node) in state (NULL: any) */
static void
wait_listed(RvTestHttp *t, const char *key, const char *hex, const char *node, const char *state)
{
        gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

        for (;;) {
                g_autoptr(RvTestResponse) keep = NULL;
                JsonObject *row = listed(t, key, hex, &keep);
                if (row != NULL &&
                    g_strcmp0(json_object_get_string_member_with_default(row, "node", NULL), node) == 0 &&
                    (state == NULL || g_strcmp0(json_object_get_string_member(row, "state"), state) == 0))
                        return;
                if (g_get_monotonic_time() > deadline)
                        g_error("torrent %s: not listed as %s of node %s in time (%s)", hex, state ? state : "any",
                                node ? node : "(this)",
                                row != NULL ? json_object_get_string_member(row, "state") : "not listed");
                g_usleep(100 * 1000);
        }
}

/* a magnet added over t's HTTP; the node it went to (NULL: t's own) */
static char *
add_magnet_to(RvTestHttp *t, const char *key, guint n, const char *options, char **ret_node)
{
        g_autofree char *hex = g_strdup_printf("%040x", 0xc1a5 + n);
        g_autofree char *body =
                g_strdup_printf("{\"magnet\": \"magnet:?xt=urn:btih:%s&dn=remote-%u\"%s}", hex, n, options);
        g_autoptr(RvTestResponse) r = rv_test_http_json(t, "POST", "/v1/torrents", key, body);
        JsonObject *row;

        g_assert_cmpuint(r->status, ==, 201);
        row = json_array_get_object_element(json_object_get_array_member(rv_test_response_object(r), "torrents"), 0);
        g_assert_cmpstr(json_object_get_string_member(row, "info_hash"), ==, hex);
        if (ret_node != NULL)
                *ret_node = g_strdup(json_object_get_string_member_with_default(row, "node", NULL));
        return g_steal_pointer(&hex);
}

static char *
add_magnet(RvTestHttp *t, const char *key, guint n)
{
        return add_magnet_to(t, key, n, ", \"paused\": true", NULL);
}

static void
test_view_and_forward(void)
{
        g_autofree char *conninfo = rv_test_pg_new_database(&cluster, "view");
        RvTestHttp a = { 0 };
        RvTestHttp b = { 0 };
        g_autofree char *hex = NULL;
        g_autofree char *second = NULL;
        g_autofree char *path = NULL;
        const char *key;
        gint64 rid = 0;

        /* node B runs first; the first key is made on node A: it holds on node B at once */
        start_node(&b, conninfo, "node-b", FALSE, "");
        /* node A places adds over HTTP: label far on node B, the rest on the least loaded node */
        start_node(&a, conninfo, "node-a", TRUE, "placement=least-loaded\npin=far:node-b\n");
        key = a.admin;
        {
                gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
                for (;;) {
                        g_autoptr(RvTestResponse) r = rv_test_http_get(&b, "/v1/torrents", key);
                        if (r->status == 200)
                                break;
                        g_assert_cmpuint(r->status, ==, 401);
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_usleep(50 * 1000);
                }
        }
        {
                /* and node B is out of setup too: no second first key */
                g_autoptr(RvTestResponse) r =
                        rv_test_http_request(&b, "POST", "/v1/setup/start", NULL, NULL, NULL, NULL);
                g_assert_cmpuint(r->status, ==, 409);
        }

        hex = add_magnet(&b, key, 1);
        /* node A lists node B's torrent with its node; node B lists it as its own */
        wait_listed(&a, key, hex, "node-b", "paused");
        wait_listed(&b, key, hex, NULL, "paused");

        /* a resume sent to node A runs on node B; the answer is node B's view */
        path = g_strdup_printf("/v1/torrents/%s/resume", hex);
        {
                g_autoptr(RvTestResponse) r = rv_test_http_request(&a, "POST", path, key, NULL, NULL, NULL);
                JsonObject *obj;
                g_assert_cmpuint(r->status, ==, 200);
                obj = rv_test_response_object(r);
                g_assert_cmpstr(json_object_get_string_member(obj, "node"), ==, "node-b");
                g_assert_cmpstr(json_object_get_string_member(obj, "info_hash"), ==, hex);
        }
        g_free(path);
        path = g_strdup_printf("/v1/torrents/%s", hex);
        {
                g_autoptr(RvTestResponse) r = rv_test_http_get(&b, path, key);
                g_assert_cmpuint(r->status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(r), "state"), !=, "paused");
        }
        /* on the bus too: node A lists the cluster with each torrent's node, and carries a command */
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) rows = rv_test_call(&a.h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "ListClusterTorrents",
                                                        NULL, G_VARIANT_TYPE("(a(ssssbdttttxas))"), &error);
                g_autoptr(GVariant) list = NULL;
                GVariantIter iter;
                const char *node;
                const char *row_hash;
                gboolean found = FALSE;
                g_assert_no_error(error);
                list = g_variant_get_child_value(rows, 0);
                g_variant_iter_init(&iter, list);
                while (g_variant_iter_next(&iter, "(&s&s&s&sbdttttx^as)", &node, &row_hash, NULL, NULL, NULL, NULL,
                                           NULL, NULL, NULL, NULL, NULL, NULL)) {
                        if (g_str_equal(row_hash, hex)) {
                                g_assert_cmpstr(node, ==, "node-b");
                                found = TRUE;
                        }
                }
                g_assert_true(found);
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariantBuilder) args = g_variant_builder_new(G_VARIANT_TYPE("a{sv}"));
                g_autoptr(GVariant) reply = NULL;
                g_autofree char *name = NULL;
                g_variant_builder_add(args, "{sv}", "limit", g_variant_new_int64(-1));
                reply = rv_test_call(&a.h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "RunTorrentCommand",
                                     g_variant_new("(ssa{sv})", hex, "set_download_limit", args), NULL, &error);
                /* refused on node A already, named */
                g_assert_null(reply);
                name = rv_test_error_name(error);
                g_assert_cmpstr(name, ==, "com.revaer.Revaer1.Error.InvalidArgument");
                g_assert_nonnull(strstr(error->message, "download_limit"));
        }
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariantBuilder) args = g_variant_builder_new(G_VARIANT_TYPE("a{sv}"));
                g_autoptr(GVariant) reply = NULL;
                g_variant_builder_add(args, "{sv}", "limit", g_variant_new_int64(65536));
                reply = rv_test_call(&a.h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "RunTorrentCommand",
                                     g_variant_new("(ssa{sv})", hex, "set_download_limit", args), NULL, &error);
                g_assert_no_error(error);
                g_assert_nonnull(reply);
        }
        {
                g_autoptr(RvTestResponse) r = rv_test_http_get(&b, path, key);
                g_assert_cmpint(json_object_get_int_member(rv_test_response_object(r), "download_limit"), ==, 65536);
        }
        /* the qBittorrent facade of node A lists node B's torrent too, and its actions are carried there */
        {
                g_autofree char *info = g_strdup_printf("/api/v2/torrents/info?hashes=%s", hex);
                g_autoptr(RvTestResponse) r = rv_test_http_get(&a, info, key);
                JsonArray *rows;
                g_assert_cmpuint(r->status, ==, 200);
                rows = json_node_get_array(r->json);
                g_assert_cmpuint(json_array_get_length(rows), ==, 1);
                g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(rows, 0), "hash"), ==, hex);
        }
        {
                /* sync/maindata: whole at rid 0, and the change below comes in a delta */
                g_autoptr(RvTestResponse) r = rv_test_http_get(&a, "/api/v2/sync/maindata?rid=0", key);
                JsonObject *torrents;
                g_assert_cmpuint(r->status, ==, 200);
                if (!json_object_has_member(rv_test_response_object(r), "torrents"))
                        g_error("sync/maindata without torrents: %.*s", (int)g_bytes_get_size(r->body),
                                (const char *)g_bytes_get_data(r->body, NULL));
                torrents = json_object_get_object_member(rv_test_response_object(r), "torrents");
                g_assert_true(json_object_has_member(torrents, hex));
                rid = json_object_get_int_member(rv_test_response_object(r), "rid");
        }
        {
                /* the *arr probe after an add: properties of another node's torrent */
                g_autofree char *props = g_strdup_printf("/api/v2/torrents/properties?hash=%s", hex);
                g_autoptr(RvTestResponse) r = rv_test_http_get(&a, props, key);
                g_assert_cmpuint(r->status, ==, 200);
        }
        {
                g_autofree char *form = g_strdup_printf("hashes=%s&limit=131072", hex);
                g_autoptr(RvTestResponse) r = rv_test_http_request(&a, "POST", "/api/v2/torrents/setDownloadLimit", key,
                                                                   "application/x-www-form-urlencoded", form, NULL);
                gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
                g_assert_cmpuint(r->status, ==, 200);
                for (;;) {
                        g_autoptr(RvTestResponse) owner = rv_test_http_get(&b, path, key);
                        if (json_object_get_int_member(rv_test_response_object(owner), "download_limit") == 131072)
                                break;
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_usleep(50 * 1000);
                }
        }
        {
                g_autofree char *delta = g_strdup_printf("/api/v2/sync/maindata?rid=%" G_GINT64_FORMAT, rid);
                gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
                for (;;) {
                        g_autoptr(RvTestResponse) r = rv_test_http_get(&a, delta, key);
                        JsonObject *obj = rv_test_response_object(r);
                        JsonObject *torrents = json_object_has_member(obj, "torrents")
                                                       ? json_object_get_object_member(obj, "torrents")
                                                       : NULL;
                        g_assert_false(json_object_get_boolean_member_with_default(obj, "full_update", FALSE));
                        if (torrents != NULL && json_object_has_member(torrents, hex) &&
                            json_object_get_int_member(json_object_get_object_member(torrents, hex), "dl_limit") ==
                                    131072)
                                break;
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_usleep(100 * 1000);
                }
        }
        /* and a pause; node A's view follows within a period */
        g_free(path);
        path = g_strdup_printf("/v1/torrents/%s/pause", hex);
        {
                g_autoptr(RvTestResponse) r = rv_test_http_request(&a, "POST", path, key, NULL, NULL, NULL);
                g_assert_cmpuint(r->status, ==, 200);
        }
        wait_listed(&b, key, hex, NULL, "paused");
        wait_listed(&a, key, hex, "node-b", "paused");
        /* what needs the owner's engine is named, not guessed */
        g_free(path);
        path = g_strdup_printf("/v1/torrents/%s/files", hex);
        {
                g_autoptr(RvTestResponse) r = rv_test_http_get(&a, path, key);
                const char *detail = rv_test_assert_problem(r, 409, "conflict");
                g_assert_nonnull(strstr(detail, "node 'node-b'"));
        }
        /* the owner's own refusal comes back as it is: a bad move target is refused on node A already */
        g_free(path);
        path = g_strdup_printf("/v1/torrents/%s/move", hex);
        {
                g_autoptr(RvTestResponse) r =
                        rv_test_http_json(&a, "POST", path, key, "{\"save_path\": \"relative/dir\"}");
                rv_test_assert_problem(r, 400, "bad-request");
        }
        /* a remove sent to node A: gone from node B, then from node A's view */
        g_free(path);
        path = g_strdup_printf("/v1/torrents/%s", hex);
        {
                g_autoptr(RvTestResponse) r = rv_test_http_request(&a, "DELETE", path, key, NULL, NULL, NULL);
                g_assert_cmpuint(r->status, ==, 204);
        }
        {
                g_autoptr(RvTestResponse) r = rv_test_http_get(&b, path, key);
                g_assert_cmpuint(r->status, ==, 404);
        }
        {
                gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
                for (;;) {
                        g_autoptr(RvTestResponse) keep = NULL;
                        if (listed(&a, key, hex, &keep) == NULL)
                                break;
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_usleep(100 * 1000);
                }
        }

        /* placement: a pinned label goes to its node, whatever the load */
        {
                g_autofree char *node = NULL;
                g_autofree char *placed = add_magnet_to(&a, key, 3, ", \"paused\": true, \"labels\": [\"far\"]", &node);
                g_autofree char *where = g_strdup_printf("/v1/torrents/%s", placed);
                g_autoptr(RvTestResponse) r = rv_test_http_get(&b, where, key);
                g_assert_cmpstr(node, ==, "node-b");
                g_assert_cmpuint(r->status, ==, 200);
                g_assert_false(json_object_has_member(rv_test_response_object(r), "node"));
        }
        /* least loaded: no node runs anything, node A has fewer torrents: here; then node B, which runs none */
        {
                g_autofree char *node = NULL;
                g_autofree char *running = add_magnet_to(&a, key, 4, "", &node);
                g_autofree char *later = NULL;
                g_assert_null(node);
                later = add_magnet_to(&a, key, 5, ", \"paused\": true", &node);
                g_assert_cmpstr(node, ==, "node-b");
                wait_listed(&b, key, later, NULL, "paused");
                /* and node A lists both with their node */
                wait_listed(&a, key, later, "node-b", "paused");
                wait_listed(&a, key, running, NULL, NULL);
        }

        /* a node that stops answering: the command ends in TimedOut, named */
        second = add_magnet(&b, key, 2);
        wait_listed(&a, key, second, "node-b", "paused");
        g_free(path);
        path = g_strdup_printf("/v1/torrents/%s/resume", second);
        g_assert_cmpint(kill((pid_t)atoi(g_subprocess_get_identifier(b.h.daemon)), SIGSTOP), ==, 0);
        {
                g_autoptr(RvTestResponse) r = rv_test_http_request(&a, "POST", path, key, NULL, NULL, NULL);
                const char *detail = rv_test_assert_problem(r, 504, "gateway-timeout");
                g_assert_nonnull(strstr(detail, "node 'node-b' did not answer"));
        }
        g_assert_cmpint(kill((pid_t)atoi(g_subprocess_get_identifier(b.h.daemon)), SIGCONT), ==, 0);

        rv_test_http_stop(&b);
        rv_test_http_stop(&a);
}

/*
 * takeover=fresh: a dead node's torrent whose recorded save path is not a
 * directory on the taking node is downloaded again under that node's
 * download directory (shared-storage resumes it where it was)
 */
static void
test_takeover_fresh(void)
{
        g_autofree char *conninfo = rv_test_pg_new_database(&cluster, "fresh");
        RvTestHttp a = { 0 };
        RvTestHttp b = { 0 };
        g_autofree char *private = NULL;
        g_autofree char *body = NULL;
        g_autofree char *path = NULL;
        const char *hex = "00000000000000000000000000000000000f2e54";
        gint64 deadline;

        start_node(&a, conninfo, "node-a", TRUE, "takeover=fresh\n");
        start_node(&b, conninfo, "node-b", FALSE, "");
        /* a save path only node B has */
        private = g_build_filename(b.h.dir, "only-on-b", NULL);
        g_assert_cmpint(g_mkdir_with_parents(private, 0755), ==, 0);
        body = g_strdup_printf("{\"magnet\": \"magnet:?xt=urn:btih:%s&dn=fresh\", \"paused\": true, "
                               "\"save_path\": \"%s\"}",
                               hex, private);
        {
                g_autoptr(RvTestResponse) r = rv_test_http_json(&b, "POST", "/v1/torrents", a.admin, body);
                g_assert_cmpuint(r->status, ==, 201);
        }
        /* node B dies and its folder with it */
        rv_test_harness_kill_daemon(&b.h);
        rv_test_data_remove_tree(private);
        /* node A owns it within the bound, under its own download directory */
        path = g_strdup_printf("/v1/torrents/%s", hex);
        deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
        for (;;) {
                g_autoptr(RvTestResponse) r = rv_test_http_get(&a, path, a.admin);
                JsonObject *obj = r->status == 200 ? rv_test_response_object(r) : NULL;
                if (obj != NULL && !json_object_has_member(obj, "node")) {
                        g_assert_cmpstr(json_object_get_string_member(obj, "save_path"), ==, a.h.downloads);
                        break;
                }
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(100 * 1000);
        }
        rv_test_http_stop(&a);
        rv_test_http_stop(&b);
}

int
main(int argc, char **argv)
{
        int status;

        g_test_init(&argc, &argv, NULL);
        rv_test_require_program("dbus-daemon");
        status = rv_test_pg_start_or_skip(&cluster);
        if (status != 0)
                return status;
        g_test_add_func("/cluster/view-and-forward", test_view_and_forward);
        g_test_add_func("/cluster/takeover-fresh", test_takeover_fresh);
        status = g_test_run();
        rv_test_pg_destroy(&cluster);
        return status;
}
