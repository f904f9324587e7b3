/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-http-private.h"
#include "rv-test-data.h"
#include "rv-test-http.h"

/*
 * the HTTP API against the real daemon on 127.0.0.1, with a client of our
 * own (libsoup): every route and its errors, setup, keys and scopes,
 * pagination across changes, If-Match, an upload that downloads from a
 * local seeder, the event stream and its replay; one daemon for the lot,
 * in order (setup comes first)
 */

#define MIB (1024 * 1024)
#define N_STORED 40

static RvTestHttp t;

/* "/v1/torrents/<hash>" and what follows */
static char *
path_of(const char *hash, const char *tail)
{
        return g_strdup_printf("/v1/torrents/%s%s", hash, tail);
}

static char *
add_tiny(guint i, const char *extra)
{
        g_autoptr(GBytes) data = rv_test_data_tiny_torrent("http", i);
        g_autofree char *b64 = g_base64_encode(g_bytes_get_data(data, NULL), g_bytes_get_size(data));
        g_autofree char *body =
                g_strdup_printf("{\"metainfo\": \"%s\", \"paused\": true%s}", b64, extra != NULL ? extra : "");
        g_autoptr(RvTestResponse) r = rv_test_http_json(&t, "POST", "/v1/torrents", t.admin, body);
        JsonArray *list;

        if (r->status != 201)
                g_error("add: %u %.*s", r->status, (int)g_bytes_get_size(r->body),
                        (const char *)g_bytes_get_data(r->body, NULL));
        list = json_object_get_array_member(rv_test_response_object(r), "torrents");
        g_assert_cmpuint(json_array_get_length(list), ==, 1);
        g_assert_nonnull(soup_message_headers_get_one(r->headers, "Location"));
        return g_strdup(json_object_get_string_member(json_array_get_object_element(list, 0), "info_hash"));
}

/* setup: the only way in without a key, from loopback, once */
static void
test_http_setup(void)
{
        g_autoptr(RvTestResponse) before = rv_test_http_get(&t, "/v1/torrents", NULL);
        g_autoptr(RvTestResponse) health = rv_test_http_get(&t, "/health", NULL);
        g_autoptr(RvTestResponse) start = NULL;
        g_autoptr(RvTestResponse) wrong = NULL;
        g_autoptr(RvTestResponse) missing = NULL;
        g_autoptr(RvTestResponse) done = NULL;
        g_autoptr(RvTestResponse) again = NULL;
        g_autoptr(RvTestResponse) reuse = NULL;
        g_autoptr(RvTestResponse) full = NULL;
        g_autofree char *body = NULL;
        const char *token;

        rv_test_assert_problem(before, 409, "setup-required");
        g_assert_cmpuint(health->status, ==, 200);
        start = rv_test_http_request(&t, "POST", "/v1/setup/start", NULL, NULL, NULL, NULL);
        g_assert_cmpuint(start->status, ==, 201);
        token = json_object_get_string_member(rv_test_response_object(start), "token");
        g_assert_cmpuint(strlen(token), >=, 24);
        g_assert_cmpint(json_object_get_int_member(rv_test_response_object(start), "expires_at"), >,
                        g_get_real_time() / G_USEC_PER_SEC);
        wrong = rv_test_http_json(&t, "POST", "/v1/setup/complete", NULL, "{\"token\": \"nope\", \"label\": \"x\"}");
        rv_test_assert_problem(wrong, 403, "forbidden");
        missing = rv_test_http_json(&t, "POST", "/v1/setup/complete", NULL, "{\"label\": \"x\"}");
        g_assert_cmpstr(rv_test_assert_problem(missing, 400, "bad-request"), ==, "token: missing");
        body = g_strdup_printf("{\"token\": \"%s\", \"label\": \"test admin\"}", token);
        done = rv_test_http_json(&t, "POST", "/v1/setup/complete", NULL, body);
        g_assert_cmpuint(done->status, ==, 201);
        t.admin = g_strdup(json_object_get_string_member(rv_test_response_object(done), "key"));
        g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(done), "scope"), ==, "admin");
        /* once: the token is spent and the service is set up */
        reuse = rv_test_http_json(&t, "POST", "/v1/setup/complete", NULL, body);
        g_assert_cmpuint(reuse->status, ==, 409);
        again = rv_test_http_request(&t, "POST", "/v1/setup/start", NULL, NULL, NULL, NULL);
        rv_test_assert_problem(again, 409, "conflict");
        full = rv_test_http_get(&t, "/health/full", NULL);
        rv_test_assert_problem(full, 401, "unauthorized");
        g_assert_nonnull(soup_message_headers_get_one(full->headers, "WWW-Authenticate"));
}

static void
test_http_health(void)
{
        g_autoptr(RvTestResponse) r = rv_test_http_get(&t, "/health/full", t.admin);
        g_autoptr(RvTestResponse) head = rv_test_http_request(&t, "HEAD", "/health", NULL, NULL, NULL, NULL);
        JsonObject *obj = rv_test_response_object(r);
        JsonObject *components = json_object_get_object_member(obj, "components");

        g_assert_cmpuint(r->status, ==, 200);
        g_assert_cmpstr(json_object_get_string_member(obj, "status"), ==, "ok");
        g_assert_cmpint(json_object_get_int_member(obj, "revision"), >=, 1);
        for (guint i = 0; i < 3; i++) {
                const char *name = (const char *[]){ "engine", "store", "bus" }[i];
                JsonObject *c = json_object_get_object_member(components, name);
                g_assert_nonnull(c);
                g_assert_cmpstr(json_object_get_string_member(c, "status"), ==, "ok");
                g_assert_cmpint(json_object_get_int_member(c, "latency_us"), >=, 0);
                g_assert_cmpint(json_object_get_int_member(c, "latency_us"), <, 2 * G_USEC_PER_SEC);
        }
        g_assert_cmpuint(head->status, ==, 200);
        g_assert_cmpuint(g_bytes_get_size(head->body), ==, 0);
        {
                /* the client's request id comes back, and is in the daemon's log entry of the request */
                g_autoptr(RvTestResponse) r2 = rv_test_http_request(&t, "GET", "/v1/torrents/nope", t.admin, NULL, NULL,
                                                                    "X-Request-Id", "trace-4711", NULL);
                g_autofree char *log = NULL;
                gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
                g_assert_cmpstr(soup_message_headers_get_one(r2->headers, "X-Request-Id"), ==, "trace-4711");
                rv_test_assert_problem(r2, 400, "bad-request");
                while ((log = rv_test_read_log(&t.h)) != NULL && strstr(log, "(request trace-4711)") == NULL) {
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_clear_pointer(&log, g_free);
                        g_usleep(50000);
                }
        }
}

/* list, get, fields, filters, patch, actions, move, remove: each with its errors */
static void
test_http_torrents(void)
{
        g_autofree char *hash = add_tiny(1, ", \"labels\": [\"tv\"]");
        g_autofree char *one = path_of(hash, "");
        g_autofree char *pause = path_of(hash, "/pause");
        g_autofree char *resume = path_of(hash, "/resume");
        g_autofree char *recheck = path_of(hash, "/recheck");
        g_autofree char *reannounce = path_of(hash, "/reannounce");
        g_autofree char *move = path_of(hash, "/move");
        g_autofree char *target = g_build_filename(t.h.dir, "moved", NULL);
        g_autofree char *move_body = g_strdup_printf("{\"save_path\": \"%s\"}", target);
        g_autoptr(RvTestResponse) r = NULL;
        JsonObject *obj;

        r = rv_test_http_get(&t, one, t.admin);
        obj = rv_test_response_object(r);
        g_assert_cmpuint(r->status, ==, 200);
        g_assert_cmpstr(json_object_get_string_member(obj, "state"), ==, "paused");
        g_assert_true(json_object_has_member(obj, "save_path"));
        g_clear_pointer(&r, rv_test_response_free);
        /* fields= chooses the columns, from the one field table */
        r = rv_test_http_get(&t, "/v1/torrents?label=tv&fields=name,labels", t.admin);
        obj = json_array_get_object_element(json_object_get_array_member(rv_test_response_object(r), "torrents"), 0);
        g_assert_cmpuint(json_object_get_size(obj), ==, 3);
        g_assert_cmpstr(json_object_get_string_member(obj, "info_hash"), ==, hash);
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_get(&t, "/v1/torrents?fields=name,colour", t.admin);
        g_assert_cmpstr(rv_test_assert_problem(r, 400, "bad-request"), ==,
                        "fields: 'colour' is not a torrent field (see GET /v1/torrents/{hash})");
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_get(&t, "/v1/torrents?state=sleeping", t.admin);
        g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(r), "field"), ==, "state");
        g_clear_pointer(&r, rv_test_response_free);

        /* PATCH: several commands at once, all checked before any runs */
        r = rv_test_http_json(&t, "PATCH", one, t.admin,
                              "{\"labels\": [\"a\", \"b\"], \"download_limit\": 1000, \"sequential\": true}");
        obj = rv_test_response_object(r);
        g_assert_cmpuint(r->status, ==, 200);
        g_assert_cmpint(json_object_get_int_member(obj, "download_limit"), ==, 1000);
        g_assert_true(json_object_get_boolean_member(obj, "sequential"));
        g_clear_pointer(&r, rv_test_response_free);
        /* force start and super seeding are fields like sequential (a paused torrent has no force start to end) */
        r = rv_test_http_json(&t, "PATCH", one, t.admin, "{\"super_seeding\": true, \"force_start\": false}");
        obj = rv_test_response_object(r);
        g_assert_cmpuint(r->status, ==, 200);
        g_assert_true(json_object_get_boolean_member(obj, "super_seeding"));
        g_assert_false(json_object_get_boolean_member(obj, "force_start"));
        g_clear_pointer(&r, rv_test_response_free);
        /* share limits: the members given change, the others stay */
        r = rv_test_http_json(&t, "PATCH", one, t.admin, "{\"inactive_seeding_time_limit\": 30, \"ratio_limit\": 2}");
        obj = rv_test_response_object(r);
        g_assert_cmpuint(r->status, ==, 200);
        g_assert_cmpint(json_object_get_int_member(obj, "inactive_seeding_time_limit"), ==, 30);
        g_assert_cmpfloat(json_object_get_double_member(obj, "ratio_limit"), ==, 2);
        g_assert_cmpint(json_object_get_int_member(obj, "seeding_time_limit"), ==, -2);
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_json(&t, "PATCH", one, t.admin, "{\"inactive_seeding_time_limit\": -7}");
        g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(r), "field"), ==,
                        "inactive_seeding_time_limit");
        rv_test_assert_problem(r, 400, "bad-request");
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_json(&t, "PATCH", one, t.admin, "{\"force_start\": \"yes\"}");
        g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(r), "field"), ==, "force_start");
        rv_test_assert_problem(r, 400, "bad-request");
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_json(&t, "PATCH", one, t.admin, "{\"labels\": [\"c\"], \"download_limit\": -5}");
        g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(r), "field"), ==, "download_limit");
        rv_test_assert_problem(r, 400, "bad-request");
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_get(&t, one, t.admin);
        g_assert_cmpstr(
                json_array_get_string_element(json_object_get_array_member(rv_test_response_object(r), "labels"), 0),
                ==, "a");
        g_clear_pointer(&r, rv_test_response_free);

        /* actions */
        r = rv_test_http_request(&t, "POST", resume, t.admin, NULL, NULL, NULL);
        g_assert_cmpuint(r->status, ==, 200);
        g_clear_pointer(&r, rv_test_response_free);
        /* a resume shows once libtorrent reports the torrent running */
        for (gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;; g_usleep(50000)) {
                g_autoptr(RvTestResponse) s = rv_test_http_get(&t, one, t.admin);
                if (g_strcmp0(json_object_get_string_member(rv_test_response_object(s), "state"), "paused") != 0)
                        break;
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        }
        r = rv_test_http_request(&t, "POST", pause, t.admin, NULL, NULL, NULL);
        g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(r), "state"), ==, "paused");
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_request(&t, "POST", recheck, t.admin, NULL, NULL, NULL);
        g_assert_cmpuint(r->status, ==, 200);
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_request(&t, "POST", reannounce, t.admin, NULL, NULL, NULL);
        g_assert_cmpuint(r->status, ==, 200);
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_request(&t, "POST", pause, t.admin, "application/json", "{}", NULL);
        rv_test_assert_problem(r, 400, "bad-request");
        g_clear_pointer(&r, rv_test_response_free);
        /* all of them: the answer comes when each had its turn */
        r = rv_test_http_request(&t, "POST", "/v1/torrents/resume", t.admin, NULL, NULL, NULL);
        g_assert_cmpuint(r->status, ==, 204);
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_request(&t, "POST", "/v1/torrents/pause", t.admin, NULL, NULL, NULL);
        g_assert_cmpuint(r->status, ==, 204);
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_get(&t, "/v1/torrents?state=paused&fields=state", t.admin);
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(rv_test_response_object(r), "torrents")),
                         ==, N_STORED + 1);
        g_clear_pointer(&r, rv_test_response_free);

        /* move: a directory the service may create; ".." never */
        r = rv_test_http_json(&t, "POST", move, t.admin, move_body);
        g_assert_cmpuint(r->status, ==, 200);
        g_clear_pointer(&r, rv_test_response_free);
        /* the new place shows once libtorrent moved the data */
        for (gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;; g_usleep(50000)) {
                g_autoptr(RvTestResponse) s = rv_test_http_get(&t, one, t.admin);
                if (g_strcmp0(json_object_get_string_member(rv_test_response_object(s), "save_path"), target) == 0)
                        break;
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        }
        r = rv_test_http_json(&t, "POST", move, t.admin, "{\"save_path\": \"/tmp/../etc\"}");
        g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(r), "field"), ==, "save_path");
        rv_test_assert_problem(r, 400, "bad-request");
        g_clear_pointer(&r, rv_test_response_free);

        /* remove */
        r = rv_test_http_request(&t, "DELETE", "/v1/torrents/0000000000000000000000000000000000000000", t.admin, NULL,
                                 NULL, NULL);
        rv_test_assert_problem(r, 404, "not-found");
        g_clear_pointer(&r, rv_test_response_free);
        {
                g_autofree char *bad = g_strdup_printf("%s?delete_data=maybe", one);
                r = rv_test_http_request(&t, "DELETE", bad, t.admin, NULL, NULL, NULL);
                rv_test_assert_problem(r, 400, "bad-request");
                g_clear_pointer(&r, rv_test_response_free);
        }
        {
                g_autofree char *del = g_strdup_printf("%s?delete_data=true", one);
                r = rv_test_http_request(&t, "DELETE", del, t.admin, NULL, NULL, NULL);
                g_assert_cmpuint(r->status, ==, 204);
                g_clear_pointer(&r, rv_test_response_free);
        }
        r = rv_test_http_get(&t, one, t.admin);
        rv_test_assert_problem(r, 404, "not-found");
}

/* pages of 7 while torrents come and go: every torrent present throughout is seen exactly once */
static void
test_http_pagination(void)
{
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autofree char *cursor = NULL;
        g_autofree char *added = NULL;
        g_autofree char *removed = NULL;
        guint pages = 0;

        for (;;) {
                g_autofree char *path = cursor != NULL
                                                ? g_strdup_printf("/v1/torrents?limit=7&fields=name&cursor=%s", cursor)
                                                : g_strdup("/v1/torrents?limit=7&fields=name");
                g_autoptr(RvTestResponse) r = rv_test_http_get(&t, path, t.admin);
                JsonObject *obj = rv_test_response_object(r);
                JsonArray *rows = json_object_get_array_member(obj, "torrents");
                g_assert_cmpuint(r->status, ==, 200);
                g_assert_cmpuint(json_array_get_length(rows), <=, 7);
                for (guint i = 0; i < json_array_get_length(rows); i++) {
                        const char *h =
                                json_object_get_string_member(json_array_get_object_element(rows, i), "info_hash");
                        if (g_hash_table_contains(seen, h))
                                g_error("torrent %s on two pages", h);
                        g_hash_table_add(seen, g_strdup(h));
                }
                if (pages == 1) {
                        /* one added comes last; one of the stored ones not yet seen goes away */
                        g_autoptr(RvTestResponse) all = rv_test_http_get(&t, "/v1/torrents?fields=name", t.admin);
                        JsonArray *list = json_object_get_array_member(rv_test_response_object(all), "torrents");
                        g_autofree char *del = NULL;
                        g_autoptr(RvTestResponse) gone = NULL;
                        removed = g_strdup(json_object_get_string_member(
                                json_array_get_object_element(list, json_array_get_length(list) - 3), "info_hash"));
                        del = g_strdup_printf("/v1/torrents/%s", removed);
                        gone = rv_test_http_request(&t, "DELETE", del, t.admin, NULL, NULL, NULL);
                        g_assert_cmpuint(gone->status, ==, 204);
                        added = add_tiny(500, NULL);
                }
                pages++;
                if (JSON_NODE_HOLDS_NULL(json_object_get_member(obj, "next_cursor")))
                        break;
                g_free(cursor);
                cursor = g_strdup(json_object_get_string_member(obj, "next_cursor"));
        }
        g_assert_true(g_hash_table_contains(seen, added));
        g_assert_false(g_hash_table_contains(seen, removed));
        g_assert_cmpuint(g_hash_table_size(seen), ==, N_STORED);
        g_assert_cmpuint(pages, ==, (N_STORED + 6) / 7);
        {
                g_autoptr(RvTestResponse) bad = rv_test_http_get(&t, "/v1/torrents?cursor=bogus!", t.admin);
                g_autoptr(RvTestResponse) big = rv_test_http_get(&t, "/v1/torrents?limit=0", t.admin);
                rv_test_assert_problem(bad, 400, "bad-request");
                rv_test_assert_problem(big, 400, "bad-request");
        }
}

/* settings with revisions: If-Match on the revision, 412 on a stale one, history */
static void
test_http_settings(void)
{
        g_autoptr(RvTestResponse) get = rv_test_http_get(&t, "/v1/settings/engine", t.admin);
        g_autoptr(RvTestResponse) ok = NULL;
        g_autoptr(RvTestResponse) stale = NULL;
        g_autoptr(RvTestResponse) after = NULL;
        g_autoptr(RvTestResponse) unknown = NULL;
        g_autoptr(RvTestResponse) invalid = NULL;
        g_autoptr(RvTestResponse) section = NULL;
        g_autoptr(RvTestResponse) history = NULL;
        g_autoptr(RvTestResponse) readonly = NULL;
        g_autofree char *etag = NULL;
        gint64 revision;
        JsonArray *entries;

        g_assert_cmpuint(get->status, ==, 200);
        revision = json_object_get_int_member(rv_test_response_object(get), "revision");
        etag = g_strdup_printf("\"%" G_GINT64_FORMAT "\"", revision);
        g_assert_cmpstr(soup_message_headers_get_one(get->headers, "ETag"), ==, etag);
        ok = rv_test_http_request(&t, "PATCH", "/v1/settings/engine", t.admin, "application/json",
                                  "{\"download_limit\": 5000}", "If-Match", etag, NULL);
        g_assert_cmpuint(ok->status, ==, 200);
        g_assert_cmpint(json_object_get_int_member(rv_test_response_object(ok), "revision"), ==, revision + 1);
        /* the same If-Match again is stale now: 412, and nothing changes */
        stale = rv_test_http_request(&t, "PATCH", "/v1/settings/engine", t.admin, "application/json",
                                     "{\"download_limit\": 7000}", "If-Match", etag, NULL);
        rv_test_assert_problem(stale, 412, "precondition-failed");
        after = rv_test_http_get(&t, "/v1/settings/engine", t.admin);
        g_assert_cmpint(
                json_object_get_int_member(json_object_get_object_member(rv_test_response_object(after), "values"),
                                           "download_limit"),
                ==, 5000);
        unknown = rv_test_http_json(&t, "PATCH", "/v1/settings/engine", t.admin, "{\"warp_speed\": 9}");
        rv_test_assert_problem(unknown, 400, "bad-request");
        g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(unknown), "field"), ==,
                        "/engine/warp_speed");
        invalid = rv_test_http_json(&t, "PATCH", "/v1/settings/engine", t.admin, "{\"download_limit\": \"fast\"}");
        g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(invalid), "field"), ==,
                        "/engine/download_limit");
        readonly = rv_test_http_json(&t, "PATCH", "/v1/settings/app", t.admin, "{\"mode\": \"setup\"}");
        rv_test_assert_problem(readonly, 400, "bad-request");
        section = rv_test_http_get(&t, "/v1/settings/network", t.admin);
        rv_test_assert_problem(section, 404, "not-found");
        history = rv_test_http_get(&t, "/v1/settings/engine/history?limit=1", t.admin);
        entries = json_object_get_array_member(rv_test_response_object(history), "entries");
        g_assert_cmpuint(json_array_get_length(entries), ==, 1);
        g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(entries, 0), "revision"), ==,
                        revision + 1);
        g_assert_true(g_str_has_prefix(
                json_object_get_string_member(json_array_get_object_element(entries, 0), "actor"), "key:rk_"));
        {
                /* without If-Match the write is unconditional; the limit goes back for the transfers to come */
                g_autoptr(RvTestResponse) reset =
                        rv_test_http_json(&t, "PATCH", "/v1/settings/engine", t.admin, "{\"download_limit\": 0}");
                g_assert_cmpuint(reset->status, ==, 200);
        }
}

static char *
create_key(const char *body, char **ret_id)
{
        g_autoptr(RvTestResponse) r = rv_test_http_json(&t, "POST", "/v1/keys", t.admin, body);
        JsonObject *obj;

        g_assert_cmpuint(r->status, ==, 201);
        obj = rv_test_response_object(r);
        if (ret_id != NULL)
                *ret_id = g_strdup(json_object_get_string_member(obj, "key_id"));
        return g_strdup(json_object_get_string_member(obj, "key"));
}

/* scopes match the polkit actions: a read key cannot pause, a metrics key only scrapes; revoked is refused at once */
static void
test_http_keys(void)
{
        g_autofree char *read_id = NULL;
        g_autofree char *read = create_key("{\"label\": \"reader\", \"scope\": \"read\"}", &read_id);
        g_autofree char *metrics = create_key("{\"label\": \"scraper\", \"scope\": \"metrics\"}", NULL);
        g_autofree char *revoke = g_strdup_printf("/v1/keys/%s", read_id);
        g_autofree char *rotate = g_strdup_printf("/v1/keys/%s/rotate", read_id);
        g_autoptr(RvTestResponse) r = NULL;
        const char *fresh;
        g_autofree char *fresh_key = NULL;
        JsonArray *keys;

        r = rv_test_http_get(&t, "/v1/torrents?limit=1", read);
        g_assert_cmpuint(r->status, ==, 200);
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_request(&t, "POST", "/v1/torrents/pause", read, NULL, NULL, NULL);
        g_assert_nonnull(strstr(rv_test_assert_problem(r, 403, "forbidden"), "'read'"));
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_get(&t, "/v1/keys", read);
        rv_test_assert_problem(r, 403, "forbidden");
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_get(&t, "/metrics", metrics);
        g_assert_cmpuint(r->status, ==, 200);
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_get(&t, "/v1/torrents", metrics);
        rv_test_assert_problem(r, 403, "forbidden");
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_json(&t, "POST", "/v1/keys", t.admin, "{\"label\": \"x\", \"scope\": \"root\"}");
        g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(r), "field"), ==, "scope");
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_json(&t, "POST", "/v1/keys", t.admin, "{\"label\": \"x\", \"burst\": 5}");
        rv_test_assert_problem(r, 400, "bad-request");
        g_clear_pointer(&r, rv_test_response_free);

        /* the list never carries a secret or a hash */
        r = rv_test_http_get(&t, "/v1/keys", t.admin);
        keys = json_object_get_array_member(rv_test_response_object(r), "keys");
        g_assert_cmpuint(json_array_get_length(keys), ==, 3);
        g_assert_null(strstr(g_bytes_get_data(r->body, NULL), "secret"));
        g_assert_null(strstr(g_bytes_get_data(r->body, NULL), "hash"));
        g_clear_pointer(&r, rv_test_response_free);

        /* D-Bus makes keys of a scope too: this one reads and may not pause */
        {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) made = rv_test_call(&t.h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "CreateScopedApiKey",
                                                        g_variant_new("(ssuu)", "bus-reader", "read", 0, 0),
                                                        G_VARIANT_TYPE("(ss)"), &error);
                g_autofree char *bus_key = NULL;
                const char *id = NULL;
                const char *secret = NULL;
                g_assert_no_error(error);
                g_variant_get(made, "(&s&s)", &id, &secret);
                bus_key = g_strdup_printf("%s:%s", id, secret);
                r = rv_test_http_get(&t, "/v1/torrents?limit=1", bus_key);
                g_assert_cmpuint(r->status, ==, 200);
                g_clear_pointer(&r, rv_test_response_free);
                r = rv_test_http_request(&t, "POST", "/v1/torrents/pause", bus_key, NULL, NULL, NULL);
                rv_test_assert_problem(r, 403, "forbidden");
                g_clear_pointer(&r, rv_test_response_free);
                g_assert_null(rv_test_call(&t.h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "CreateScopedApiKey",
                                           g_variant_new("(ssuu)", "x", "root", 0, 0), NULL, &error));
                g_assert_nonnull(strstr(error->message, "scope"));
        }

        /* rotation: the old secret stops working at once, the new one works */
        r = rv_test_http_request(&t, "POST", rotate, t.admin, NULL, NULL, NULL);
        g_assert_cmpuint(r->status, ==, 200);
        fresh = json_object_get_string_member(rv_test_response_object(r), "key");
        fresh_key = g_strdup(fresh);
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_get(&t, "/v1/torrents?limit=1", read);
        rv_test_assert_problem(r, 401, "unauthorized");
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_get(&t, "/v1/torrents?limit=1", fresh_key);
        g_assert_cmpuint(r->status, ==, 200);
        g_clear_pointer(&r, rv_test_response_free);

        /* revocation: the very next request is refused */
        r = rv_test_http_request(&t, "DELETE", revoke, t.admin, NULL, NULL, NULL);
        g_assert_cmpuint(r->status, ==, 204);
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_get(&t, "/v1/torrents?limit=1", fresh_key);
        rv_test_assert_problem(r, 401, "unauthorized");
        g_clear_pointer(&r, rv_test_response_free);
        r = rv_test_http_request(&t, "DELETE", revoke, t.admin, NULL, NULL, NULL);
        rv_test_assert_problem(r, 404, "not-found");
        g_clear_pointer(&r, rv_test_response_free);
        /* X-API-Key works as well as Bearer */
        r = rv_test_http_request(&t, "GET", "/v1/keys", NULL, NULL, NULL, "X-API-Key", t.admin, NULL);
        g_assert_cmpuint(r->status, ==, 200);
}

/* a token bucket per key: X-RateLimit-* on every answer, 429 with Retry-After when empty */
static void
test_http_rate_limit(void)
{
        g_autofree char *key =
                create_key("{\"label\": \"limited\", \"scope\": \"read\", \"burst\": 3, \"period_s\": 60}", NULL);

        for (guint i = 0; i < 4; i++) {
                g_autoptr(RvTestResponse) r = rv_test_http_get(&t, "/v1/torrents?limit=1", key);
                g_autofree char *remaining = g_strdup_printf("%u", i < 3 ? 2 - i : 0);
                g_assert_cmpstr(soup_message_headers_get_one(r->headers, "X-RateLimit-Limit"), ==, "3");
                g_assert_cmpstr(soup_message_headers_get_one(r->headers, "X-RateLimit-Remaining"), ==, remaining);
                g_assert_nonnull(soup_message_headers_get_one(r->headers, "X-RateLimit-Reset"));
                if (i < 3) {
                        g_assert_cmpuint(r->status, ==, 200);
                } else {
                        rv_test_assert_problem(r, 429, "rate-limited");
                        g_assert_cmpint(atoi(soup_message_headers_get_one(r->headers, "Retry-After")), >=, 1);
                        g_assert_cmpint(atoi(soup_message_headers_get_one(r->headers, "Retry-After")), <=, 20);
                }
        }
        /* a key made without a limit has the server's, 1000 a second, on errors as on successes */
        {
                g_autoptr(RvTestResponse) ok = rv_test_http_get(&t, "/v1/torrents?limit=1", t.admin);
                g_autoptr(RvTestResponse) missing =
                        rv_test_http_get(&t, "/v1/torrents/0000000000000000000000000000000000000000", t.admin);
                g_assert_cmpuint(ok->status, ==, 200);
                rv_test_assert_problem(missing, 404, "not-found");
                g_assert_cmpstr(soup_message_headers_get_one(ok->headers, "X-RateLimit-Limit"), ==, "1000");
                g_assert_cmpstr(soup_message_headers_get_one(missing->headers, "X-RateLimit-Limit"), ==, "1000");
                g_assert_cmpint(atoi(soup_message_headers_get_one(missing->headers, "X-RateLimit-Remaining")), <, 1000);
                g_assert_nonnull(soup_message_headers_get_one(missing->headers, "X-RateLimit-Reset"));
        }
}

/* DNS rebinding: a Host that is not an address, localhost or a configured name is refused */
static void
test_http_host(void)
{
        g_autoptr(RvTestResponse) evil =
                rv_test_http_request(&t, "GET", "/health", NULL, NULL, NULL, "Host", "attacker.example", NULL);
        g_autoptr(RvTestResponse) named =
                rv_test_http_request(&t, "GET", "/health", NULL, NULL, NULL, "Host", "revaer.test:7070", NULL);
        g_autoptr(RvTestResponse) local =
                rv_test_http_request(&t, "GET", "/health", NULL, NULL, NULL, "Host", "localhost:7070", NULL);

        rv_test_assert_problem(evil, 421, "host-not-allowed");
        g_assert_cmpuint(named->status, ==, 200);
        g_assert_cmpuint(local->status, ==, 200);
}

/* a real .torrent uploaded as multipart/form-data downloads from a local seeder */
static void
test_http_upload(void)
{
        g_autoptr(GBytes) data = NULL;
        g_autoptr(SoupMultipart) form = soup_multipart_new(SOUP_FORM_MIME_TYPE_MULTIPART);
        g_autofree char *url = g_strconcat(t.base, "/v1/torrents", NULL);
        g_autofree char *options = NULL;
        g_autofree char *bearer = g_strdup_printf("Bearer %s", t.admin);
        g_autofree char *one = NULL;
        g_autofree char *files = NULL;
        g_autofree char *selection = NULL;
        g_autofree char *priorities = NULL;
        g_autoptr(SoupMessage) msg = NULL;
        g_autoptr(RvTestResponse) r = NULL;
        g_autoptr(RvTestResponse) dup = NULL;
        const char *hash;
        gint64 deadline;
        JsonArray *list;

        rv_test_harness_start_seeder(&t.h, "upload", 4 * MIB, 3, FALSE, 0);
        data = rv_test_harness_seeder_torrent(&t.h);
        options = g_strdup_printf("{\"peers\": [\"127.0.0.1:%u\"], \"labels\": [\"upload\"]}", t.h.seeder.port);
        soup_multipart_append_form_file(form, "torrent", "upload.torrent", "application/x-bittorrent", data);
        soup_multipart_append_form_string(form, "options", options);
        msg = soup_message_new_from_multipart(url, form);
        soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", bearer);
        r = rv_test_http_send(&t, msg);
        if (r->status != 201)
                g_error("upload: %u %.*s", r->status, (int)g_bytes_get_size(r->body),
                        (const char *)g_bytes_get_data(r->body, NULL));
        list = json_object_get_array_member(rv_test_response_object(r), "torrents");
        hash = json_object_get_string_member(json_array_get_object_element(list, 0), "info_hash");
        g_assert_cmpstr(hash, ==, t.h.seeder.hash);
        one = g_strdup_printf("/v1/torrents/%s?fields=completed,done,state", hash);
        deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
        for (;;) {
                g_autoptr(RvTestResponse) s = rv_test_http_get(&t, one, t.admin);
                if (json_object_get_boolean_member(rv_test_response_object(s), "completed"))
                        break;
                if (g_get_monotonic_time() > deadline)
                        g_error("no download: %.*s", (int)g_bytes_get_size(s->body),
                                (const char *)g_bytes_get_data(s->body, NULL));
                g_usleep(100000);
        }
        /* the same torrent again is a conflict */
        g_clear_object(&msg);
        msg = soup_message_new_from_multipart(url, form);
        soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", bearer);
        dup = rv_test_http_send(&t, msg);
        rv_test_assert_problem(dup, 409, "conflict");

        files = g_strdup_printf("/v1/torrents/%s/files", hash);
        selection = g_strdup_printf("/v1/torrents/%s/selection", hash);
        priorities = g_strdup_printf("/v1/torrents/%s/files/priorities", hash);
        {
                g_autoptr(RvTestResponse) f = rv_test_http_get(&t, files, t.admin);
                JsonArray *rows = json_object_get_array_member(rv_test_response_object(f), "files");
                gint64 total = 0;
                g_assert_cmpuint(json_array_get_length(rows), ==, 3);
                for (guint i = 0; i < 3; i++) {
                        JsonObject *row = json_array_get_object_element(rows, i);
                        g_assert_cmpint(json_object_get_int_member(row, "done"), ==,
                                        json_object_get_int_member(row, "size"));
                        total += json_object_get_int_member(row, "size");
                }
                g_assert_cmpint(total, ==, 4 * MIB);
        }
        {
                /* the seeder's torrent names no tracker */
                g_autofree char *trackers = g_strdup_printf("/v1/torrents/%s/trackers", hash);
                g_autoptr(RvTestResponse) tr = rv_test_http_get(&t, trackers, t.admin);
                g_assert_cmpuint(tr->status, ==, 200);
                g_assert_cmpuint(
                        json_array_get_length(json_object_get_array_member(rv_test_response_object(tr), "trackers")),
                        ==, 0);
        }
        {
                g_autoptr(RvTestResponse) s = rv_test_http_json(&t, "PUT", selection, t.admin,
                                                                "{\"exclude\": [\"*.nfo\"], \"skip_fluff\": true}");
                g_autoptr(RvTestResponse) bad =
                        rv_test_http_json(&t, "PUT", selection, t.admin, "{\"exclude\": [\"[a\"]}");
                g_autoptr(RvTestResponse) extra = rv_test_http_json(&t, "PUT", selection, t.admin, "{\"colour\": 1}");
                g_assert_cmpuint(s->status, ==, 200);
                g_assert_true(json_object_get_boolean_member(rv_test_response_object(s), "skip_fluff"));
                rv_test_assert_problem(bad, 400, "bad-request");
                g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(extra), "field"), ==, "colour");
        }
        {
                g_autoptr(RvTestResponse) p = rv_test_http_json(
                        &t, "PUT", priorities, t.admin, "{\"priorities\": [{\"index\": 0, \"priority\": \"high\"}]}");
                g_autoptr(RvTestResponse) out_of_range = rv_test_http_json(
                        &t, "PUT", priorities, t.admin, "{\"priorities\": [{\"index\": 9, \"priority\": 1}]}");
                g_autoptr(RvTestResponse) wrong = rv_test_http_json(
                        &t, "PUT", priorities, t.admin, "{\"priorities\": [{\"index\": 0, \"priority\": \"urgent\"}]}");
                g_autoptr(RvTestResponse) f = rv_test_http_get(&t, files, t.admin);
                g_assert_cmpuint(p->status, ==, 200);
                rv_test_assert_problem(out_of_range, 400, "bad-request");
                g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(wrong), "field"), ==,
                                "priorities[0]");
                g_assert_cmpint(json_object_get_int_member(
                                        json_array_get_object_element(
                                                json_object_get_array_member(rv_test_response_object(f), "files"), 0),
                                        "priority"),
                                ==, 7);
        }
        rv_test_harness_stop_seeder(&t.h);
}

static gboolean
events_have_ids(GPtrArray *events, guint64 from, guint64 to)
{
        for (guint i = 0; i < events->len; i++) {
                RvTestSseEvent *e = g_ptr_array_index(events, i);
                if (e->id > from && e->id <= to)
                        return TRUE;
        }
        return FALSE;
}

/*
 * the event stream: a client that drops and comes back with Last-Event-ID
 * ends up with exactly the events of one that never left, no gap and no
 * duplicate; filters by torrent and kind
 */
static void
test_http_events(void)
{
        g_autofree char *hash = add_tiny(600, NULL);
        g_autofree char *pause = g_strdup_printf("/v1/torrents/%s/pause", hash);
        g_autofree char *resume = g_strdup_printf("/v1/torrents/%s/resume", hash);
        g_autofree char *filter = g_strdup_printf("torrent=%s&kind=state_changed", hash);
        g_autofree char *last = NULL;
        RvTestSse *steady = rv_test_sse_open(&t, NULL, NULL);
        RvTestSse *filtered = rv_test_sse_open(&t, filter, NULL);
        RvTestSse *fickle = rv_test_sse_open(&t, NULL, NULL);
        g_autoptr(GPtrArray) a = NULL;
        g_autoptr(GPtrArray) b1 = NULL;
        g_autoptr(GPtrArray) b2 = NULL;
        g_autoptr(GPtrArray) f = NULL;
        guint64 end;

        for (guint round = 0; round < 3; round++) {
                g_autoptr(RvTestResponse) r1 = rv_test_http_request(&t, "POST", resume, t.admin, NULL, NULL, NULL);
                g_autoptr(RvTestResponse) r2 = rv_test_http_request(&t, "POST", pause, t.admin, NULL, NULL, NULL);
                g_autofree char *limit = g_strdup_printf("{\"upload_limit\": %u}", 10000000 + round);
                g_autoptr(RvTestResponse) r3 = rv_test_http_json(&t, "PATCH", "/v1/settings/engine", t.admin, limit);
                (void)r1;
                g_assert_cmpuint(r3->status, ==, 200);
                g_assert_cmpuint(r2->status, ==, 200);
                if (round == 0) {
                        /* the fickle client leaves after the first round's events are in */
                        guint64 id = rv_test_http_last_event_id(&t);
                        g_assert_true(rv_test_sse_wait_id(fickle, id, 10));
                        b1 = rv_test_sse_events(fickle);
                        last = g_strdup_printf("%" G_GUINT64_FORMAT,
                                               ((RvTestSseEvent *)g_ptr_array_index(b1, b1->len - 1))->id);
                        rv_test_sse_close(fickle);
                        fickle = NULL;
                }
        }
        /* ...and comes back */
        fickle = rv_test_sse_open(&t, NULL, last);
        {
                g_autoptr(RvTestResponse) r = rv_test_http_request(&t, "POST", resume, t.admin, NULL, NULL, NULL);
                (void)r;
        }
        end = rv_test_http_last_event_id(&t);
        g_assert_true(rv_test_sse_wait_id(steady, end, 10));
        g_assert_true(rv_test_sse_wait_id(fickle, end, 10));
        a = rv_test_sse_events(steady);
        b2 = rv_test_sse_events(fickle);
        {
                /* from the fickle client's first event to the end, both saw the same, in order */
                guint64 first = ((RvTestSseEvent *)g_ptr_array_index(b1, 0))->id;
                g_autoptr(GPtrArray) want = g_ptr_array_new();
                g_autoptr(GPtrArray) got = g_ptr_array_new();
                for (guint i = 0; i < a->len; i++) {
                        RvTestSseEvent *e = g_ptr_array_index(a, i);
                        if (e->id >= first && e->id <= end)
                                g_ptr_array_add(want, e);
                }
                for (guint i = 0; i < b1->len + b2->len; i++) {
                        RvTestSseEvent *e = i < b1->len ? g_ptr_array_index(b1, i) : g_ptr_array_index(b2, i - b1->len);
                        if (e->id <= end)
                                g_ptr_array_add(got, e);
                }
                g_assert_cmpuint(got->len, ==, want->len);
                /* three settings revisions at least, and state changes (a quick pause and resume may coalesce) */
                g_assert_cmpuint(want->len, >=, 5);
                for (guint i = 0; i < want->len; i++) {
                        RvTestSseEvent *w = g_ptr_array_index(want, i);
                        RvTestSseEvent *g = g_ptr_array_index(got, i);
                        g_assert_cmpuint(g->id, ==, w->id);
                        g_assert_cmpstr(g->kind, ==, w->kind);
                        g_assert_cmpstr(g->data, ==, w->data);
                        if (i > 0)
                                g_assert_cmpuint(w->id, >, ((RvTestSseEvent *)g_ptr_array_index(want, i - 1))->id);
                }
        }
        g_assert_true(events_have_ids(b2, 0, end));
        {
                /*
                 * the filtered client saw the torrent's state changes that the
                 * steady one saw, the same ids, and nothing else (how many
                 * there are depends on how quickly the engine went through
                 * each resume and pause)
                 */
                g_autoptr(GPtrArray) want = g_ptr_array_new();
                guint n = 0;
                for (guint i = 0; i < a->len; i++) {
                        RvTestSseEvent *e = g_ptr_array_index(a, i);
                        if (e->id <= end && g_str_equal(e->kind, "state_changed") && strstr(e->data, hash) != NULL)
                                g_ptr_array_add(want, e);
                }
                g_assert_cmpuint(want->len, >=, 1);
                g_assert_true(rv_test_sse_wait_id(filtered,
                                                  ((RvTestSseEvent *)g_ptr_array_index(want, want->len - 1))->id, 10));
                f = rv_test_sse_events(filtered);
                for (guint i = 0; i < f->len; i++) {
                        RvTestSseEvent *e = g_ptr_array_index(f, i);
                        g_assert_cmpstr(e->kind, ==, "state_changed");
                        g_assert_nonnull(strstr(e->data, hash));
                        if (e->id > end)
                                continue;
                        g_assert_cmpuint(n, <, want->len);
                        g_assert_cmpuint(e->id, ==, ((RvTestSseEvent *)g_ptr_array_index(want, n))->id);
                        n++;
                }
                g_assert_cmpuint(n, ==, want->len);
        }
        rv_test_sse_close(steady);
        rv_test_sse_close(fickle);
        rv_test_sse_close(filtered);
        {
                g_autoptr(RvTestResponse) bad = rv_test_http_get(&t, "/v1/events?kind=explosion", t.admin);
                g_autoptr(RvTestResponse) bad_id = rv_test_http_request(&t, "GET", "/v1/events", t.admin, NULL, NULL,
                                                                        "Last-Event-ID", "yesterday", NULL);
                rv_test_assert_problem(bad, 400, "bad-request");
                rv_test_assert_problem(bad_id, 400, "bad-request");
        }
}

/* the metrics, and the proof that every route of the table was called here, with an error for each */
static void
test_http_metrics_routes(void)
{
        g_autoptr(RvTestResponse) m = NULL;
        const char *text;

        for (const RvHttpRoute *route = rv_http_routes(); route->method != NULL; route++) {
                g_autofree char *path = NULL;
                g_autoptr(RvTestResponse) r = NULL;
                if (route->auth != RV_HTTP_AUTH_KEY)
                        continue;
                path = g_strdup(route->pattern);
                /* any segment will do: the key is checked first */
                for (char *p = strchr(path, '{'); p != NULL; p = strchr(path, '{'))
                        memcpy(p, "x", 1), memmove(p + 1, strchr(p, '}') + 1, strlen(strchr(p, '}') + 1) + 1);
                r = rv_test_http_request(&t, route->method, path, NULL, NULL, NULL, NULL);
                rv_test_assert_problem(r, 401, "unauthorized");
        }
        m = rv_test_http_get(&t, "/metrics", t.admin);
        g_assert_cmpuint(m->status, ==, 200);
        g_assert_true(g_str_has_prefix(soup_message_headers_get_content_type(m->headers, NULL), "text/plain"));
        text = g_bytes_get_data(m->body, NULL);
        for (const RvHttpRoute *route = rv_http_routes(); route->method != NULL; route++) {
                g_autofree char *ok = NULL;
                g_autofree char *err = NULL;
                /* the qBittorrent WebAPI's routes are called by tests/http/test-qbt.c */
                if (route->auth == RV_HTTP_AUTH_QBT)
                        continue;
                ok = g_strdup_printf("revaer_http_requests_total{method=\"%s\",route=\"%s\",code=\"2", route->method,
                                     route->pattern);
                err = g_strdup_printf("revaer_http_requests_total{method=\"%s\",route=\"%s\",code=\"4", route->method,
                                      route->pattern);
                if (strstr(text, ok) == NULL)
                        g_error("no successful %s %s in the metrics", route->method, route->pattern);
                if (strstr(text, err) == NULL && route->auth == RV_HTTP_AUTH_KEY)
                        g_error("no refused %s %s in the metrics", route->method, route->pattern);
        }
        for (guint i = 0; i < 10; i++) {
                const char *name = (const char *[]){ "revaer_torrents{state=\"paused\"}",
                                                     "revaer_download_rate_bytes",
                                                     "revaer_peers",
                                                     "revaer_sse_clients",
                                                     "revaer_sse_dropped_total",
                                                     "revaer_event_bus_depth",
                                                     "revaer_store_write_seconds_bucket{le=\"0.001\"}",
                                                     "revaer_settings_revision",
                                                     "revaer_main_loop_stalls_total",
                                                     "revaer_component_healthy{component=\"engine\"} 1" }[i];
                if (strstr(text, name) == NULL)
                        g_error("%s is not in the metrics", name);
        }
}

int
main(int argc, char **argv)
{
        int status;

        g_test_init(&argc, &argv, NULL);
        rv_test_require_program("dbus-daemon");
        t.stored = N_STORED;
        rv_test_http_start(&t, "allowed-hosts=revaer.test\n", FALSE);
        g_test_add_func("/http/setup", test_http_setup);
        g_test_add_func("/http/health", test_http_health);
        g_test_add_func("/http/torrents", test_http_torrents);
        g_test_add_func("/http/pagination", test_http_pagination);
        g_test_add_func("/http/settings", test_http_settings);
        g_test_add_func("/http/keys", test_http_keys);
        g_test_add_func("/http/rate-limit", test_http_rate_limit);
        g_test_add_func("/http/host", test_http_host);
        g_test_add_func("/http/upload", test_http_upload);
        g_test_add_func("/http/events", test_http_events);
        g_test_add_func("/http/metrics-routes", test_http_metrics_routes);
        status = g_test_run();
        rv_test_http_stop(&t);
        return status;
}
