/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-test-http.h"

/*
 * hostile and broken requests, written byte for byte over a socket: each
 * gets a Problem+JSON answer with the right status (and names the field
 * where there is one), the daemon keeps answering, and nothing changes
 */

#define MAGNET "magnet:?xt=urn:btih:3b245504cf5f11bbdbe1201cea6a6bf45aee1bc0&dn=bad"
#define ZEROS "0000000000000000000000000000000000000000"

typedef struct {
        const char *what;
        const char *method;
        /* "{H}" stands for the info hash of a torrent that exists */
        const char *path;
        /* more header lines ("Name: value\r\n"); "NOAUTH" somewhere: no key is sent */
        const char *headers;
        const char *type;
        /* NULL: no body; "@name": made by make_body() */
        const char *body;
        guint status;
        const char *slug;
        const char *field;
} BadCase;

static const BadCase bad_cases[] = {
        /* bodies over the bound, without a length, where none is taken */
        { "JSON body over 64 KiB", "POST", "/v1/keys", NULL, "application/json", "@big", 413, "payload-too-large" },
        { "upload over the metadata bound", "POST", "/v1/torrents", "Content-Length: 50000000\r\n", "application/json",
          NULL, 413, "payload-too-large" },
        { "chunked body", "POST", "/v1/keys", "Transfer-Encoding: chunked\r\n", "application/json", NULL, 411,
          "length-required" },
        { "body on an action", "POST", "/v1/torrents/{H}/pause", NULL, "application/json", "{}", 400, "bad-request" },
        { "body on a GET", "GET", "/v1/torrents", NULL, "application/json", "{\"a\":1}", 400, "bad-request" },
        /* broken JSON */
        { "truncated JSON", "POST", "/v1/keys", NULL, "application/json", "{\"label\":", 400, "bad-request" },
        { "not JSON", "POST", "/v1/keys", NULL, "application/json", "label=x", 400, "bad-request" },
        { "JSON array", "POST", "/v1/keys", NULL, "application/json", "[]", 400, "bad-request" },
        { "JSON string", "POST", "/v1/keys", NULL, "application/json", "\"x\"", 400, "bad-request" },
        { "empty JSON body", "POST", "/v1/keys", NULL, "application/json", "", 400, "bad-request" },
        { "JSON that is not UTF-8", "POST", "/v1/keys", NULL, "application/json", "{\"label\": \"\xff\xfe\"}", 400,
          "bad-request" },
        { "text/plain body", "POST", "/v1/keys", NULL, "text/plain", "{\"label\": \"x\"}", 415,
          "unsupported-media-type" },
        { "body without a type", "POST", "/v1/keys", NULL, NULL, "{\"label\": \"x\"}", 415, "unsupported-media-type" },
        { "trailing garbage", "POST", "/v1/keys", NULL, "application/json", "{\"label\": \"x\"} xyz", 400,
          "bad-request" },
        /* deep JSON */
        { "nested arrays", "POST", "/v1/keys", NULL, "application/json", "@deep-array", 400, "bad-request" },
        { "nested objects", "PATCH", "/v1/settings/engine", NULL, "application/json", "@deep-object", 400,
          "bad-request" },
        { "deep add", "POST", "/v1/torrents", NULL, "application/json", "@deep-object", 400, "bad-request" },
        /* wrong types and values */
        { "label a number", "POST", "/v1/keys", NULL, "application/json", "{\"label\": 5}", 400, "bad-request",
          "label" },
        { "burst a string", "POST", "/v1/keys", NULL, "application/json", "{\"label\": \"x\", \"burst\": \"5\"}", 400,
          "bad-request", "burst" },
        { "burst negative", "POST", "/v1/keys", NULL, "application/json",
          "{\"label\": \"x\", \"burst\": -1, \"period_s\": 1}", 400, "bad-request", "burst" },
        { "unknown scope", "POST", "/v1/keys", NULL, "application/json", "{\"label\": \"x\", \"scope\": \"root\"}", 400,
          "bad-request", "scope" },
        { "empty label", "POST", "/v1/keys", NULL, "application/json", "{\"label\": \"\"}", 400, "bad-request" },
        { "magnet a number", "POST", "/v1/torrents", NULL, "application/json", "{\"magnet\": 5}", 400, "bad-request",
          "magnet" },
        { "magnet and metainfo", "POST", "/v1/torrents", NULL, "application/json",
          "{\"magnet\": \"" MAGNET "\", \"metainfo\": \"eA==\"}", 400, "bad-request", "magnet" },
        { "no source", "POST", "/v1/torrents", NULL, "application/json", "{\"paused\": true}", 400, "bad-request",
          "magnet" },
        { "magnet with a bad hash", "POST", "/v1/torrents", NULL, "application/json",
          "{\"magnet\": \"magnet:?xt=urn:btih:zz\"}", 400, "bad-request" },
        { "not a magnet", "POST", "/v1/torrents", NULL, "application/json", "{\"magnet\": \"http://example.com/\"}",
          400, "bad-request" },
        { "metainfo not base64", "POST", "/v1/torrents", NULL, "application/json", "{\"metainfo\": \"!!!\"}", 400,
          "bad-request", "metainfo" },
        { "metainfo not a torrent", "POST", "/v1/torrents", NULL, "application/json", "{\"metainfo\": \"aGVsbG8=\"}",
          400, "bad-request" },
        { "paused a string", "POST", "/v1/torrents", NULL, "application/json",
          "{\"magnet\": \"" MAGNET "\", \"paused\": \"yes\"}", 400, "bad-request", "paused" },
        { "labels a string", "POST", "/v1/torrents", NULL, "application/json",
          "{\"magnet\": \"" MAGNET "\", \"labels\": \"a\"}", 400, "bad-request", "labels" },
        { "labels of numbers", "POST", "/v1/torrents", NULL, "application/json",
          "{\"magnet\": \"" MAGNET "\", \"labels\": [1]}", 400, "bad-request", "labels[0]" },
        { "relative save path", "POST", "/v1/torrents", NULL, "application/json",
          "{\"magnet\": \"" MAGNET "\", \"save_path\": \"down\"}", 400, "bad-request", "save_path" },
        { "save path with ..", "POST", "/v1/torrents", NULL, "application/json",
          "{\"magnet\": \"" MAGNET "\", \"save_path\": \"/srv/../etc\"}", 400, "bad-request", "save_path" },
        { "negative limit", "POST", "/v1/torrents", NULL, "application/json",
          "{\"magnet\": \"" MAGNET "\", \"download_limit\": -1}", 400, "bad-request", "download_limit" },
        { "broken glob", "POST", "/v1/torrents", NULL, "application/json",
          "{\"magnet\": \"" MAGNET "\", \"include\": [\"[unclosed\"]}", 400, "bad-request" },
        { "peer that is no address", "POST", "/v1/torrents", NULL, "application/json",
          "{\"magnet\": \"" MAGNET "\", \"peers\": [\"example.com:80\"]}", 400, "bad-request" },
        { "magnet over 64 KiB", "POST", "/v1/torrents", NULL, "application/json", "@long-magnet", 400, "bad-request" },
        { "too many labels", "POST", "/v1/torrents", NULL, "application/json", "@many-labels", 400, "bad-request" },
        { "unknown add option", "POST", "/v1/torrents", NULL, "application/json",
          "{\"magnet\": \"" MAGNET "\", \"colour\": 1}", 400, "bad-request", "colour" },
        { "form without a file", "POST", "/v1/torrents", NULL, "multipart/form-data; boundary=XX",
          "--XX\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n{}\r\n--XX--\r\n", 400, "bad-request",
          "torrent" },
        { "form that is not one", "POST", "/v1/torrents", NULL, "multipart/form-data; boundary=XX", "garbage", 400,
          "bad-request" },
        { "form with an unknown part", "POST", "/v1/torrents", NULL, "multipart/form-data; boundary=XX",
          "--XX\r\nContent-Disposition: form-data; name=\"virus\"\r\n\r\nx\r\n--XX--\r\n", 400, "bad-request",
          "virus" },
        { "form with bad options", "POST", "/v1/torrents", NULL, "multipart/form-data; boundary=XX",
          "--XX\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n{\"paused\": 3}\r\n--XX\r\n"
          "Content-Disposition: form-data; name=\"magnet\"\r\n\r\n" MAGNET "\r\n--XX--\r\n",
          400, "bad-request", "options.paused" },
        /* unknown fields */
        { "unknown torrent field", "PATCH", "/v1/torrents/{H}", NULL, "application/json", "{\"colour\": 1}", 400,
          "bad-request", "colour" },
        { "state is read-only", "PATCH", "/v1/torrents/{H}", NULL, "application/json", "{\"state\": \"seeding\"}", 400,
          "bad-request", "state" },
        { "unknown selection member", "PUT", "/v1/torrents/{H}/selection", NULL, "application/json", "{\"x\": 1}", 400,
          "bad-request", "x" },
        { "unknown setting", "PATCH", "/v1/settings/engine", NULL, "application/json", "{\"nope\": 1}", 400,
          "bad-request", "/engine/nope" },
        { "setting of the wrong type", "PATCH", "/v1/settings/engine", NULL, "application/json", "{\"dht\": \"on\"}",
          400, "bad-request", "/engine/dht" },
        { "read-only setting", "PATCH", "/v1/settings/app", NULL, "application/json", "{\"mode\": \"setup\"}", 400,
          "bad-request" },
        { "unknown setup member", "POST", "/v1/setup/complete", "NOAUTH", "application/json",
          "{\"token\": \"x\", \"label\": \"y\", \"admin\": true}", 400, "bad-request", "admin" },
        { "bad priority", "PUT", "/v1/torrents/{H}/files/priorities", NULL, "application/json",
          "{\"priorities\": [{\"index\": 0, \"priority\": 99}]}", 400, "bad-request", "priorities[0]" },
        { "priorities not a list", "PUT", "/v1/torrents/{H}/files/priorities", NULL, "application/json",
          "{\"priorities\": 1}", 400, "bad-request", "priorities" },
        /* bad hashes */
        { "short hash", "GET", "/v1/torrents/0123", NULL, NULL, NULL, 400, "bad-request", "info_hash" },
        { "long hash", "GET", "/v1/torrents/" ZEROS "0", NULL, NULL, NULL, 400, "bad-request", "info_hash" },
        { "hash not hex", "GET", "/v1/torrents/zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", NULL, NULL, NULL, 400,
          "bad-request", "info_hash" },
        { "unknown hash", "GET", "/v1/torrents/" ZEROS, NULL, NULL, NULL, 404, "not-found" },
        { "action on a bad hash", "POST", "/v1/torrents/xyz/pause", NULL, NULL, NULL, 400, "bad-request", "info_hash" },
        { "files of an unknown torrent", "GET", "/v1/torrents/" ZEROS "/files", NULL, NULL, NULL, 404, "not-found" },
        { "event filter with a bad hash", "GET", "/v1/events?torrent=abc", NULL, NULL, NULL, 400, "bad-request",
          "torrent" },
        /* moves */
        { "move to ..", "POST", "/v1/torrents/{H}/move", NULL, "application/json", "{\"save_path\": \"/x/../etc\"}",
          400, "bad-request", "save_path" },
        { "move to a relative path", "POST", "/v1/torrents/{H}/move", NULL, "application/json",
          "{\"save_path\": \"dir\"}", 400, "bad-request", "save_path" },
        { "move to a number", "POST", "/v1/torrents/{H}/move", NULL, "application/json", "{\"save_path\": 5}", 400,
          "bad-request", "save_path" },
        { "move nowhere", "POST", "/v1/torrents/{H}/move", NULL, "application/json", "{}", 400, "bad-request",
          "save_path" },
        /* queries */
        { "limit not a number", "GET", "/v1/torrents?limit=abc", NULL, NULL, NULL, 400, "bad-request", "limit" },
        { "limit too large", "GET", "/v1/torrents?limit=99999999", NULL, NULL, NULL, 400, "bad-request", "limit" },
        { "forged cursor", "GET", "/v1/torrents?cursor=AAAA", NULL, NULL, NULL, 400, "bad-request", "cursor" },
        { "unknown state", "GET", "/v1/torrents?state=a,b", NULL, NULL, NULL, 400, "bad-request", "state" },
        { "empty labels", "GET", "/v1/torrents?label=,,", NULL, NULL, NULL, 400, "bad-request", "label" },
        { "unknown field", "GET", "/v1/torrents?fields=nope", NULL, NULL, NULL, 400, "bad-request", "fields" },
        { "history limit 0", "GET", "/v1/settings/engine/history?limit=0", NULL, NULL, NULL, 400, "bad-request",
          "limit" },
        { "negative event id", "GET", "/v1/events?last_event_id=-1", NULL, NULL, NULL, 400, "bad-request",
          "last_event_id" },
        { "reset is not a filter", "GET", "/v1/events?kind=reset", NULL, NULL, NULL, 400, "bad-request", "kind" },
        { "delete_data maybe", "DELETE", "/v1/torrents/{H}?delete_data=maybe", NULL, NULL, NULL, 400, "bad-request",
          "delete_data" },
        { "unknown section", "GET", "/v1/settings/network", NULL, NULL, NULL, 404, "not-found" },
        /* headers */
        { "a 20 KiB header", "GET", "/health", "X-Big: @20k\r\n", NULL, NULL, 431, "header-too-large" },
        { "70 headers", "GET", "/health", "@70-headers", NULL, NULL, 431, "header-too-large" },
        { "foreign Host", "GET", "/health", "Host: rebind.example\r\n", NULL, NULL, 421, "host-not-allowed" },
        { "two Hosts", "GET", "/health", "Host: 127.0.0.1\r\nHost: rebind.example\r\n", NULL, NULL, 400,
          "bad-request" },
        { "Basic credentials", "GET", "/v1/torrents", "NOAUTH Authorization: Basic dXNlcjpwYXNz\r\n", NULL, NULL, 401,
          "unauthorized" },
        { "Bearer garbage", "GET", "/v1/torrents", "NOAUTH Authorization: Bearer garbage\r\n", NULL, NULL, 401,
          "unauthorized" },
        { "key id without secret", "GET", "/v1/torrents", "NOAUTH X-API-Key: rk_nothing\r\n", NULL, NULL, 401,
          "unauthorized" },
        { "no key at all", "GET", "/v1/keys", "NOAUTH", NULL, NULL, 401, "unauthorized" },
        { "If-Match not a revision", "PATCH", "/v1/settings/engine", "If-Match: \"abc\"\r\n", "application/json",
          "{\"dht\": false}", 400, "bad-request", "If-Match" },
        { "stale If-Match", "PATCH", "/v1/settings/engine", "If-Match: \"1\"\r\n", "application/json",
          "{\"dht\": true}", 412, "precondition-failed", "If-Match" },
        { "setup start from a key", "POST", "/v1/setup/start", NULL, NULL, NULL, 409, "conflict" },
        /* methods and paths */
        { "PUT on the list", "PUT", "/v1/torrents", NULL, NULL, NULL, 405, "method-not-allowed" },
        { "DELETE on health", "DELETE", "/health", NULL, NULL, NULL, 405, "method-not-allowed" },
        { "unknown path", "GET", "/v2/torrents", NULL, NULL, NULL, 404, "not-found" },
        { "trailing slash", "GET", "/v1/torrents/", NULL, NULL, NULL, 404, "not-found" },
        { "target over 4 KiB", "GET", "@long-target", NULL, NULL, NULL, 414, "uri-too-long" },
};

/* malformed HTTP that libsoup answers itself, with the problem every request starts with */
static const struct {
        const char *what;
        const char *raw;
        guint status;
} bad_raw[] = {
        { "request line of garbage", "GARBAGE\r\n\r\n", 400 },
        { "unknown transfer coding", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n",
          501 },
        { "HTTP/9.9", "GET /health HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", 505 },
        { "Host with a slash", "GET /health HTTP/1.1\r\nHost: a/b\r\n\r\n", 400 },
        { "binary garbage", "\x01\x02\x03\r\n\r\n", 400 },
        { "Content-Length not a number", "POST /v1/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n",
          400 },
        { "HTTP/1.1 without Host", "GET /health HTTP/1.1\r\n\r\n", 400 },
};

static RvTestHttp t;
static char *hash;

static char *
make_body(const char *name)
{
        GString *s = g_string_new(NULL);

        if (g_str_equal(name, "@big")) {
                g_string_append(s, "{\"label\": \"");
                for (guint i = 0; i < 70000; i++)
                        g_string_append_c(s, 'a');
                g_string_append(s, "\"}");
        } else if (g_str_equal(name, "@deep-array")) {
                for (guint i = 0; i < 200; i++)
                        g_string_append_c(s, '[');
                for (guint i = 0; i < 200; i++)
                        g_string_append_c(s, ']');
        } else if (g_str_equal(name, "@deep-object")) {
                for (guint i = 0; i < 40; i++)
                        g_string_append(s, "{\"a\":");
                g_string_append(s, "1");
                for (guint i = 0; i < 40; i++)
                        g_string_append_c(s, '}');
        } else if (g_str_equal(name, "@long-magnet")) {
                g_string_append(s, "{\"magnet\": \"" MAGNET "&tr=http://");
                for (guint i = 0; i < 70000; i++)
                        g_string_append_c(s, 'x');
                g_string_append(s, "\"}");
        } else if (g_str_equal(name, "@many-labels")) {
                g_string_append(s, "{\"magnet\": \"" MAGNET "\", \"labels\": [");
                for (guint i = 0; i < 40; i++)
                        g_string_append_printf(s, "%s\"l%u\"", i > 0 ? ", " : "", i);
                g_string_append(s, "]}");
        }
        return g_string_free(s, FALSE);
}

static char *
make_headers(const char *headers)
{
        GString *s = g_string_new(NULL);

        if (headers == NULL)
                return g_string_free(s, FALSE);
        if (g_str_equal(headers, "@70-headers")) {
                for (guint i = 0; i < 70; i++)
                        g_string_append_printf(s, "X-Header-%u: %u\r\n", i, i);
        } else if (strstr(headers, "@20k") != NULL) {
                g_autofree char *big = g_strnfill(20000, 'b');
                g_string_append(s, headers);
                g_string_replace(s, "@20k", big, 1);
        } else {
                g_string_append(s, headers);
                g_string_replace(s, "NOAUTH", "", 0);
                while (s->len > 0 && s->str[0] == ' ')
                        g_string_erase(s, 0, 1);
        }
        return g_string_free(s, FALSE);
}

static GBytes *
build_request(const BadCase *c)
{
        GString *s = g_string_new(NULL);
        g_autofree char *path = NULL;
        g_autofree char *headers = make_headers(c->headers);
        g_autofree char *body = c->body != NULL && c->body[0] == '@' ? make_body(c->body) : g_strdup(c->body);
        gboolean own_host = headers != NULL && strstr(headers, "Host:") != NULL;

        if (g_str_equal(c->path, "@long-target")) {
                g_autofree char *pad = g_strnfill(5000, 'p');
                path = g_strdup_printf("/v1/torrents?fields=%s", pad);
        } else {
                GString *p = g_string_new(c->path);
                g_string_replace(p, "{H}", hash, 0);
                path = g_string_free(p, FALSE);
        }
        g_string_append_printf(s, "%s %s HTTP/1.1\r\n", c->method, path);
        if (!own_host)
                g_string_append(s, "Host: 127.0.0.1\r\n");
        if (c->headers == NULL || strstr(c->headers, "NOAUTH") == NULL)
                g_string_append_printf(s, "Authorization: Bearer %s\r\n", t.admin);
        g_string_append(s, "Connection: close\r\n");
        g_string_append(s, headers);
        if (c->type != NULL)
                g_string_append_printf(s, "Content-Type: %s\r\n", c->type);
        if (body != NULL)
                g_string_append_printf(s, "Content-Length: %" G_GSIZE_FORMAT "\r\n", strlen(body));
        g_string_append(s, "\r\n");
        if (body != NULL)
                g_string_append(s, body);
        return g_string_free_to_bytes(s);
}

/* the answer's status, a problem body of the right type, the field */
static void
check_answer(const char *what, GBytes *answer, guint status, const char *slug, const char *field)
{
        gsize len = 0;
        const char *data = g_bytes_get_data(answer, &len);
        g_autofree char *text = g_strndup(data != NULL ? data : "", len);
        const char *body = strstr(text, "\r\n\r\n");
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autofree char *type = NULL;
        JsonObject *obj;

        if (len == 0)
                g_error("%s: expected %u, got no answer at all (closed or timed out)", what, status);
        if (rv_test_raw_status(answer) != status)
                g_error("%s: expected %u, got: %.300s", what, status, text);
        if (g_strstr_len(text, body != NULL ? body - text : -1, "Content-Type: application/problem+json") == NULL)
                g_error("%s: not a problem: %.300s", what, text);
        g_assert_nonnull(body);
        if (!json_parser_load_from_data(parser, body + 4, -1, NULL))
                g_error("%s: the problem is not JSON: %s", what, body + 4);
        obj = json_node_get_object(json_parser_get_root(parser));
        g_assert_nonnull(json_object_get_string_member(obj, "title"));
        if (slug != NULL) {
                type = g_strdup_printf("https://revaer.dev/problems/%s", slug);
                if (g_strcmp0(json_object_get_string_member(obj, "type"), type) != 0)
                        g_error("%s: type %s, not %s", what, json_object_get_string_member(obj, "type"), type);
                /* libsoup's own answers carry the problem every request starts with, which has no status */
                if (!g_str_equal(slug, "malformed-request") &&
                    json_object_get_int_member_with_default(obj, "status", 0) != status)
                        g_error("%s: status member: %s", what, body + 4);
        }
        if (field != NULL && g_strcmp0(json_object_get_string_member_with_default(obj, "field", NULL), field) != 0)
                g_error("%s: field '%s', not '%s': %s", what,
                        json_object_get_string_member_with_default(obj, "field", ""), field, body + 4);
}

/* what must not change: the torrents and the settings */
static char *
snapshot(void)
{
        g_autoptr(RvTestResponse) torrents =
                rv_test_http_get(&t, "/v1/torrents?fields=name,state,labels,save_path,download_limit,include", t.admin);
        g_autoptr(RvTestResponse) settings = rv_test_http_get(&t, "/v1/settings/engine", t.admin);
        g_autoptr(RvTestResponse) keys = rv_test_http_get(&t, "/v1/keys", t.admin);
        JsonObject *obj = rv_test_response_object(torrents);
        g_autofree char *a = NULL;
        g_autofree char *b = NULL;
        g_autofree char *c = NULL;

        /* the event id moves on with anything; the rest must not */
        json_object_remove_member(obj, "event_id");
        a = json_to_string(torrents->json, FALSE);
        b = json_to_string(settings->json, FALSE);
        c = json_to_string(keys->json, FALSE);
        return g_strdup_printf("%s\n%s\n%s", a, b, c);
}

static void
test_bad_requests(void)
{
        g_autofree char *before = snapshot();
        g_autofree char *after = NULL;
        guint n = 0;

        for (guint i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
                const BadCase *c = &bad_cases[i];
                g_autoptr(GBytes) request = build_request(c);
                g_autoptr(GBytes) answer =
                        rv_test_http_raw(&t, g_bytes_get_data(request, NULL), g_bytes_get_size(request), 5000);
                check_answer(c->what, answer, c->status, c->slug, c->field);
                n++;
        }
        for (guint i = 0; i < G_N_ELEMENTS(bad_raw); i++) {
                g_autoptr(GBytes) answer = rv_test_http_raw(&t, bad_raw[i].raw, strlen(bad_raw[i].raw), 5000);
                check_answer(bad_raw[i].what, answer, bad_raw[i].status, "malformed-request", NULL);
                n++;
        }
        g_test_message("%u malformed requests, each answered with a problem", n);
        g_assert_cmpuint(n, >=, 50);
        /* the daemon is unharmed and nothing changed */
        g_assert_true(rv_test_harness_daemon_running(&t.h));
        after = snapshot();
        g_assert_cmpstr(after, ==, before);
}

/* too slow: a body or headers that trickle in get 408 within the request timeout */
static void
test_bad_slow(void)
{
        g_autofree char *head =
                g_strdup_printf("POST /v1/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                                "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"lab",
                                t.admin);
        gint64 start = g_get_monotonic_time();
        g_autoptr(GBytes) body = rv_test_http_raw(&t, head, strlen(head), 5000);
        g_autoptr(GBytes) headers = NULL;

        check_answer("slow body", body, 408, "request-timeout", NULL);
        g_assert_cmpint(g_get_monotonic_time() - start, <, 3 * G_USEC_PER_SEC);
        headers = rv_test_http_raw(&t, "GET /health HTTP/1.1\r\nHost: 12", 31, 5000);
        check_answer("slow headers", headers, 408, "request-timeout", NULL);
}

/*
 * headers past libsoup's own bound (64 KiB) never reach Revaer: libsoup
 * closes the connection without an answer; the daemon serves the next one
 */
static void
test_bad_huge_headers(void)
{
        GString *req = g_string_new("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        g_autoptr(GBytes) answer = NULL;
        g_autoptr(RvTestResponse) after = NULL;

        for (guint i = 0; i < 100; i++)
                g_string_append_printf(req, "X-Filler-%u: %01000u\r\n", i, i);
        g_string_append(req, "\r\n");
        answer = rv_test_http_raw(&t, req->str, req->len, 5000);
        g_string_free(req, TRUE);
        g_assert_true(answer == NULL || g_bytes_get_size(answer) == 0 ||
                      g_str_has_prefix(g_bytes_get_data(answer, NULL), "HTTP/1.1 4"));
        g_assert_true(rv_test_harness_daemon_running(&t.h));
        after = rv_test_http_get(&t, "/health", NULL);
        g_assert_cmpuint(after->status, ==, 200);
}

/* wrong keys from one address: after auth-failures of them, even a good key gets 429 from there */
static void
test_bad_auth_limit(void)
{
        guint refused = 0;

        for (guint i = 0; i < 40 && refused == 0; i++) {
                g_autoptr(RvTestResponse) r = rv_test_http_get(&t, "/v1/torrents", "rk_guess:wrong");
                if (r->status == 429)
                        refused = i;
                else
                        rv_test_assert_problem(r, 401, "unauthorized");
        }
        g_assert_cmpuint(refused, >, 0);
        {
                g_autoptr(RvTestResponse) good = rv_test_http_get(&t, "/v1/torrents", t.admin);
                rv_test_assert_problem(good, 429, "rate-limited");
                g_assert_cmpint(atoi(soup_message_headers_get_one(good->headers, "Retry-After")), >=, 1);
        }
}

int
main(int argc, char **argv)
{
        int status;

        g_test_init(&argc, &argv, NULL);
        rv_test_require_program("dbus-daemon");
        rv_test_http_start(&t, "request-timeout=1000\nauth-failures=20\n", TRUE);
        {
                g_autoptr(RvTestResponse) r = rv_test_http_json(
                        &t, "POST", "/v1/torrents", t.admin,
                        "{\"magnet\": \"magnet:?xt=urn:btih:1111111111111111111111111111111111111111&dn=target\", "
                        "\"paused\": true}");
                g_assert_cmpuint(r->status, ==, 201);
                hash = g_strdup("1111111111111111111111111111111111111111");
        }
        g_test_add_func("/bad/requests", test_bad_requests);
        g_test_add_func("/bad/slow", test_bad_slow);
        g_test_add_func("/bad/huge-headers", test_bad_huge_headers);
        g_test_add_func("/bad/auth-limit", test_bad_auth_limit);
        status = g_test_run();
        rv_test_http_stop(&t);
        g_free(hash);
        return status;
}
