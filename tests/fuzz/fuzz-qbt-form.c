/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The qBittorrent WebAPI's parameters as /api/v2 reads them. Input: the
 * first line is the endpoint under /api/v2/torrents/ ("setDownloadLimit",
 * "addTags", "filePrio", ...), the second the query string, the third the
 * Content-Type, the rest the body. Query and body are decoded as
 * rv_qbt_params() does (rv_qbt_form_merge, rv_qbt_multipart_parse); the
 * booleans and the hashes list are read through rv_qbt_param_bool and
 * rv_qbt_hashes; then the endpoint's own handler reads its integers, numbers,
 * tags and file ids and runs the commands on one torrent (fake engine, real
 * embedded store in a temp directory). Answers go nowhere: the request has
 * no message.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rv-fuzz-manager.h"
#include "rv-fuzz.h"
#include "rv-qbt.h"
#include "rv-test-data.h"
#include "rv-validate.h"

typedef struct {
        RvFuzzManager m;
        RvManager *manager;
        RvHttp http;
        RvTorrent *torrent;
} RvFuzzQbt;

static RvFuzzQbt rv_qbt;

/* the endpoints whose parameters are read here; setLocation (moves data), delete and setCategory (settings) are not */
static const char *const rv_fuzz_endpoints[] = {
        "pause",
        "resume",
        "recheck",
        "reannounce",
        "setForceStart",
        "setSuperSeeding",
        "toggleSequentialDownload",
        "setDownloadLimit",
        "setUploadLimit",
        "setShareLimits",
        "addTags",
        "removeTags",
        "topPrio",
        "filePrio",
        NULL,
};

static void
rv_fuzz_added_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvTorrent **ret = user_data;

        *ret = rv_manager_add_finish(RV_MANAGER(source), result, NULL);
        if (*ret == NULL)
                abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        g_autoptr(GBytes) tiny = NULL;
        RvAddRequest request = { 0 };

        rv_fuzz_init();
        rv_fuzz_manager_init(&rv_qbt.m);
        rv_qbt.manager = rv_qbt.m.manager;
        rv_qbt.http.manager = rv_qbt.m.manager;
        rv_qbt.http.store = rv_qbt.m.store;
        /* one torrent for the whole run */
        tiny = rv_test_data_tiny_torrent("fuzz", 1);
        request.torrent = tiny;
        rv_manager_add_async(rv_qbt.manager, &request, rv_fuzz_added_cb, &rv_qbt.torrent);
        while (rv_qbt.torrent == NULL)
                g_main_context_iteration(NULL, TRUE);
        while (g_main_context_iteration(NULL, FALSE))
                ;
        return 0;
}

/* the form as rv_qbt_params() builds it: the query, then a urlencoded or multipart body */
static GHashTable *
rv_fuzz_form(const char *query, const char *type, const char *body, gsize len)
{
        GHashTable *form = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

        rv_qbt_form_merge(form, query, strlen(query));
        if (g_ascii_strncasecmp(type, "application/x-www-form-urlencoded",
                                strlen("application/x-www-form-urlencoded")) == 0) {
                rv_qbt_form_merge(form, body, len);
        } else if (g_ascii_strncasecmp(type, "multipart/form-data", strlen("multipart/form-data")) == 0 &&
                   strpbrk(type, "\r") == NULL) {
                g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new(SOUP_MESSAGE_HEADERS_REQUEST);
                g_autoptr(GBytes) bytes = rv_fuzz_flattened(body, len);
                g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
                soup_message_headers_append(headers, "Content-Type", type);
                if (rv_qbt_multipart_parse(headers, bytes, 64, form, files) && files->len > 64)
                        abort();
        }
        return form;
}

/* "true"/"1" (any case for true) is true, empty or missing the default, anything else false */
static void
check_bool(RvHttpRequest *req, const char *name)
{
        const char *value = g_hash_table_lookup(req->form, name);
        gboolean want_missing = value == NULL || value[0] == '\0';
        gboolean want = !want_missing && (g_ascii_strcasecmp(value, "true") == 0 || g_str_equal(value, "1"));

        if (rv_qbt_param_bool(req, name, TRUE) != (want_missing ? TRUE : want) ||
            rv_qbt_param_bool(req, name, FALSE) != (want_missing ? FALSE : want))
                abort();
}

/* the torrents named: NULL only without the parameter, each once, never one being removed */
static void
check_hashes(RvHttpRequest *req)
{
        g_autoptr(GPtrArray) targets = rv_qbt_hashes(req, "hashes");

        if ((targets == NULL) != (g_hash_table_lookup(req->form, "hashes") == NULL))
                abort();
        for (guint i = 0; targets != NULL && i < targets->len; i++) {
                RvTorrent *t = g_ptr_array_index(targets, i);
                if (t->removing || rv_manager_lookup(rv_qbt.manager, &t->hash) != t)
                        abort();
                for (guint j = 0; j < i; j++) {
                        if (g_ptr_array_index(targets, j) == t)
                                abort();
                }
        }
}

/* whatever the handler did, the torrent is there, and what it carries is valid */
static void
check_torrent(void)
{
        RvTorrent *t = rv_manager_lookup(rv_qbt.manager, &rv_qbt.torrent->hash);

        if (t != rv_qbt.torrent || t->download_limit < 0 || t->upload_limit < 0)
                abort();
        for (guint i = 0; t->labels != NULL && t->labels[i] != NULL; i++) {
                if (!rv_validate_category(t->labels[i], "tags", NULL))
                        abort();
        }
}

static void
rv_fuzz_run(RvOp op, GStrv labels)
{
        RvCommand *c = rv_command_new(op, &rv_qbt.torrent->hash);

        c->labels = labels;
        (void)rv_command_run(rv_qbt.manager, c, NULL);
        rv_command_free(c);
}

/* the next input starts from the same torrent: no labels, no limits (only what changed: each is a store write) */
static void
rv_fuzz_reset(void)
{
        RvTorrent *t = rv_qbt.torrent;

        if (t->labels != NULL && t->labels[0] != NULL)
                rv_fuzz_run(RV_OP_SET_LABELS, g_new0(char *, 1));
        if (t->download_limit != 0)
                rv_fuzz_run(RV_OP_SET_DOWNLOAD_LIMIT, NULL);
        if (t->upload_limit != 0)
                rv_fuzz_run(RV_OP_SET_UPLOAD_LIMIT, NULL);
        while (g_main_context_iteration(NULL, FALSE))
                ;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autofree char *input = g_strndup((const char *)data, size);
        const char *end = input + size;
        char *lines[3] = { NULL, NULL, NULL };
        char *p = input;
        g_autofree char *path = NULL;
        g_autofree char *allow = NULL;
        const RvHttpRoute *route;
        char *params[2] = { NULL, NULL };
        RvHttpRequest req = { 0 };

        for (guint i = 0; i < 3; i++) {
                char *nl = memchr(p, '\n', (gsize)(end - p));
                if (nl == NULL)
                        return 0;
                *nl = '\0';
                lines[i] = p;
                p = nl + 1;
        }
        if (!g_strv_contains(rv_fuzz_endpoints, lines[0]))
                return 0;
        path = g_strdup_printf("/api/v2/torrents/%s", lines[0]);
        route = rv_http_route_match("POST", path, params, &allow);
        if (route == NULL)
                abort();
        req.ref_count = 1;
        req.http = &rv_qbt.http;
        req.route = route;
        req.scope = RV_SCOPE_ADMIN;
        req.authenticated = TRUE;
        /* the body may hold NULs: its length is what is left of the input */
        req.form = rv_fuzz_form(lines[1], lines[2], p, (gsize)(end - p));
        check_bool(&req, "deleteFiles");
        check_bool(&req, "value");
        check_hashes(&req);
        route->handler(&req);
        while (g_main_context_iteration(NULL, FALSE))
                ;
        check_torrent();
        rv_fuzz_reset();
        g_hash_table_unref(req.form);
        return 0;
}
