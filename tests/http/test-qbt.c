/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-http-private.h"
#include "rv-test-data.h"
#include "rv-test-http.h"

/*
 * The qBittorrent WebAPI v2 facade against the real daemon on 127.0.0.1:
 * the *arr probe and login, sessions and keys, categories and tags, adds by
 * magnet and by multipart .torrent, the reads with qBittorrent's fields and
 * types, a download from a local seeder to its completed state, share
 * limits, pause and resume in both vocabularies, delete with files,
 * sync/maindata full and by rid, and the bad inputs, each answered as
 * qBittorrent would with nothing changed. One daemon, in order; the ban
 * comes last, since it locks 127.0.0.1 out.
 */

#define MIB (1024 * 1024)
#define FORM "application/x-www-form-urlencoded"
#define AUTH_FAILURES 20

static RvTestHttp t;
/* the WebAPI user's session cookie ("SID=...") */
static char *cookie;
static char *tv_path;

static const char *
text_of(RvTestResponse *r)
{
        gsize len = 0;
        const char *data = g_bytes_get_data(r->body, &len);
        static char buf[4096];

        len = MIN(len, sizeof(buf) - 1);
        if (len > 0)
                memcpy(buf, data, len);
        buf[len] = '\0';
        return buf;
}

static void
assert_status(RvTestResponse *r, guint status, const char *what)
{
        if (r->status != status)
                g_error("%s: expected %u, got %u: %s", what, status, r->status, text_of(r));
}

/* a call with the admin key as Bearer; body a form or NULL */
static RvTestResponse *
api(const char *method, const char *path, const char *form)
{
        g_autofree char *full = g_strconcat("/api/v2/", path, NULL);

        return rv_test_http_request(&t, method, full, t.admin, form != NULL ? FORM : NULL, form, NULL);
}

/* the same with the session cookie and no key */
static RvTestResponse *
api_cookie(const char *method, const char *path, const char *form, const char *with_cookie)
{
        g_autofree char *full = g_strconcat("/api/v2/", path, NULL);

        return rv_test_http_request(&t, method, full, NULL, form != NULL ? FORM : NULL, form, "Cookie", with_cookie,
                                    NULL);
}

static JsonArray *
info(const char *query)
{
        g_autofree char *path = g_strdup_printf("torrents/info%s", query != NULL ? query : "");
        g_autoptr(RvTestResponse) r = api("GET", path, NULL);

        assert_status(r, 200, path);
        g_assert_true(JSON_NODE_HOLDS_ARRAY(r->json));
        return json_array_ref(json_node_get_array(r->json));
}

static guint
count_torrents(void)
{
        g_autoptr(JsonArray) all = info(NULL);

        return json_array_get_length(all);
}

static JsonObject *
categories(void)
{
        g_autoptr(RvTestResponse) r = api("GET", "torrents/categories", NULL);

        assert_status(r, 200, "categories");
        return json_object_ref(json_node_get_object(r->json));
}

static char *
login(const char *user, const char *password, const char *expect)
{
        g_autofree char *user_e = g_uri_escape_string(user, NULL, FALSE);
        g_autofree char *password_e = g_uri_escape_string(password, NULL, FALSE);
        g_autofree char *body = g_strdup_printf("username=%s&password=%s", user_e, password_e);
        g_autoptr(RvTestResponse) r = rv_test_http_request(&t, "POST", "/api/v2/auth/login", NULL, FORM, body, NULL);
        const char *set = soup_message_headers_get_one(r->headers, "Set-Cookie");

        assert_status(r, 200, "login");
        if (!g_str_equal(text_of(r), expect))
                g_error("login of %s: expected %s, got %s", user, expect, text_of(r));
        if (!g_str_equal(expect, "Ok."))
                return NULL;
        g_assert_nonnull(set);
        g_assert_true(g_str_has_prefix(set, "SID="));
        return g_strndup(set, strcspn(set, ";"));
}

/* a key of its own for a scope, "key_id:secret" */
static char *
make_key(const char *scope)
{
        g_autofree char *body = g_strdup_printf("{\"label\": \"qbt %s\", \"scope\": \"%s\"}", scope, scope);
        g_autoptr(RvTestResponse) r = rv_test_http_json(&t, "POST", "/v1/keys", t.admin, body);

        assert_status(r, 201, "key");
        return g_strdup(json_object_get_string_member(rv_test_response_object(r), "key"));
}

static gint64
settings_revision(void)
{
        g_autoptr(RvTestResponse) r = rv_test_http_get(&t, "/v1/settings/app", t.admin);

        assert_status(r, 200, "settings");
        return json_object_get_int_member(rv_test_response_object(r), "revision");
}

/* revaerctl config webapi-password USER, the password on standard input, over HTTP */
static void
set_webapi_user(const char *user, const char *password)
{
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
                G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
        g_autoptr(GSubprocess) proc = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *input = g_strdup_printf("%s\n", password);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;

        g_subprocess_launcher_setenv(launcher, "REVAER_URL", t.base, TRUE);
        g_subprocess_launcher_setenv(launcher, "REVAER_API_KEY", t.admin, TRUE);
        proc = g_subprocess_launcher_spawn(launcher, &error, g_getenv("REVAERCTL"), "config", "webapi-password", user,
                                           NULL);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_communicate_utf8(proc, input, NULL, &out, &err, &error));
        g_assert_no_error(error);
        if (!g_subprocess_get_successful(proc))
                g_error("revaerctl config webapi-password: %s", err);
        /* the password itself is printed nowhere */
        g_assert_null(strstr(out, password));
        g_assert_null(strstr(err, password));
}

/* the *arr probe, logins (user, key as password, Bearer), CSRF, logout */
static void
test_qbt_login(void)
{
        g_autofree char *manage = make_key("manage");
        g_autofree char *read = make_key("read");
        g_autofree char *key_cookie = NULL;
        g_autofree char *origin = g_strdup_printf("http://127.0.0.1:%u", t.port);

        {
                g_autoptr(RvTestResponse) probe = rv_test_http_get(&t, "/api/v2/app/webapiVersion", NULL);
                /* 403, not 401: "WebAPI v2 here, log in" */
                assert_status(probe, 403, "probe without login");
        }
        (void)login("sonarr", "s3cret", "Fails.");
        set_webapi_user("sonarr", "s3cret");
        {
                g_autoptr(RvTestResponse) bad = rv_test_http_json(&t, "PATCH", "/v1/settings/app", t.admin,
                                                                  "{\"webapi_password\": \"s3cret\"}");
                g_autoptr(RvTestResponse) app = rv_test_http_get(&t, "/v1/settings/app", t.admin);
                assert_status(bad, 400, "a password that is no hash");
                g_assert_true(
                        g_str_has_prefix(json_object_get_string_member(
                                                 json_object_get_object_member(rv_test_response_object(app), "values"),
                                                 "webapi_password"),
                                         "pbkdf2-sha256$"));
        }
        (void)login("sonarr", "wrong", "Fails.");
        (void)login("radarr", "s3cret", "Fails.");
        cookie = login("sonarr", "s3cret", "Ok.");
        {
                g_autoptr(RvTestResponse) v = api_cookie("GET", "app/webapiVersion", NULL, cookie);
                g_autoptr(RvTestResponse) app = api_cookie("GET", "app/version", NULL, cookie);
                g_auto(GStrv) parts = NULL;
                assert_status(v, 200, "webapiVersion");
                parts = g_strsplit(text_of(v), ".", -1);
                /* what .NET's Version.Parse takes: numbers only */
                g_assert_cmpuint(g_strv_length(parts), ==, 3);
                g_assert_cmpstr(parts[0], ==, "2");
                g_assert_cmpint(g_ascii_strtoll(parts[1], NULL, 10), >=, 11);
                assert_status(app, 200, "version");
                g_assert_cmpstr(text_of(app), ==, "v5.0.4");
        }
        /* an API key as the password, as the *arr "password" field takes it */
        key_cookie = login("anyone", manage, "Ok.");
        (void)login("anyone", read, "Fails.");
        {
                g_autoptr(RvTestResponse) k = api_cookie("GET", "torrents/info", NULL, key_cookie);
                g_autoptr(RvTestResponse) bearer = api("GET", "app/webapiVersion", NULL);
                g_autoptr(RvTestResponse) wrong =
                        rv_test_http_request(&t, "GET", "/api/v2/app/webapiVersion", "nope:nope", NULL, NULL, NULL);
                g_autoptr(RvTestResponse) bogus = api_cookie("GET", "app/webapiVersion", NULL, "SID=forged");
                assert_status(k, 200, "a key's session");
                assert_status(bearer, 200, "Bearer");
                assert_status(wrong, 403, "a wrong Bearer key");
                assert_status(bogus, 403, "a forged cookie");
        }
        {
                /* cross-site: another origin is refused, the same one is fine */
                g_autofree char *full = g_strdup("/api/v2/torrents/createCategory");
                g_autoptr(RvTestResponse) evil =
                        rv_test_http_request(&t, "POST", full, NULL, FORM, "category=evil", "Cookie", cookie, "Origin",
                                             "http://evil.example", NULL);
                g_autoptr(RvTestResponse) evil_ref =
                        rv_test_http_request(&t, "GET", "/api/v2/app/version", NULL, NULL, NULL, "Cookie", cookie,
                                             "Referer", "http://127.0.0.1:1/x", NULL);
                g_autoptr(RvTestResponse) same = rv_test_http_request(&t, "GET", "/api/v2/app/version", NULL, NULL,
                                                                      NULL, "Cookie", cookie, "Origin", origin, NULL);
                g_autoptr(JsonObject) cats = categories();
                assert_status(evil, 401, "CSRF by Origin");
                assert_status(evil_ref, 401, "CSRF by Referer");
                assert_status(same, 200, "same origin");
                g_assert_false(json_object_has_member(cats, "evil"));
        }
        {
                g_autoptr(RvTestResponse) out = api_cookie("POST", "auth/logout", "", key_cookie);
                g_autoptr(RvTestResponse) after = api_cookie("GET", "torrents/info", NULL, key_cookie);
                g_autoptr(RvTestResponse) still = api_cookie("GET", "torrents/info", NULL, cookie);
                assert_status(out, 200, "logout");
                assert_status(after, 403, "after logout");
                assert_status(still, 200, "the other session");
        }
}

/* the WebAPI session timeout: a request within it renews the session, none for longer ends it */
static void
test_qbt_session_expiry(void)
{
        g_autofree char *sid = login("sonarr", "s3cret", "Ok.");

        {
                g_autoptr(RvTestResponse) set =
                        rv_test_http_json(&t, "PATCH", "/v1/settings/app", t.admin, "{\"webapi_session_timeout\": 2}");
                assert_status(set, 200, "a session timeout of 2 s");
        }
        /* three requests 1.2 s apart outlive 2 s: each renewed the session */
        for (guint i = 0; i < 3; i++) {
                g_autoptr(RvTestResponse) r = api_cookie("GET", "app/version", NULL, sid);
                assert_status(r, 200, "a request within the timeout");
                g_usleep(1200 * 1000);
        }
        g_usleep(1500 * 1000);
        {
                g_autoptr(RvTestResponse) late = api_cookie("GET", "app/version", NULL, sid);
                g_autoptr(RvTestResponse) again = api_cookie("GET", "app/version", NULL, sid);
                g_autoptr(RvTestResponse) back = rv_test_http_json(&t, "PATCH", "/v1/settings/app", t.admin,
                                                                   "{\"webapi_session_timeout\": 3600}");
                assert_status(late, 403, "a session past its timeout");
                assert_status(again, 403, "an expired session stays gone");
                assert_status(back, 200, "the default session timeout");
        }
}

/* preferences as the *arr test reads them, unknown endpoints, reads by POST */
static void
test_qbt_app(void)
{
        g_autoptr(RvTestResponse) prefs = api("GET", "app/preferences", NULL);
        g_autoptr(RvTestResponse) path = api("GET", "app/defaultSavePath", NULL);
        g_autoptr(RvTestResponse) unknown = api("GET", "app/nothing", NULL);
        g_autoptr(RvTestResponse) unknown2 = api("POST", "torrents/frobnicate", "hashes=all");
        g_autoptr(RvTestResponse) posted = api("POST", "torrents/info", "filter=all");
        g_autoptr(RvTestResponse) set = NULL;
        g_autoptr(RvTestResponse) again = NULL;
        g_autoptr(RvTestResponse) transfer = api("GET", "transfer/info", NULL);
        JsonObject *p;

        assert_status(prefs, 200, "preferences");
        p = rv_test_response_object(prefs);
        g_assert_cmpstr(json_object_get_string_member(p, "save_path"), ==, t.h.downloads);
        g_assert_false(json_object_get_boolean_member(p, "queueing_enabled"));
        g_assert_false(json_object_get_boolean_member(p, "max_ratio_enabled"));
        g_assert_cmpint(json_object_get_int_member(p, "max_ratio_act"), ==, 0);
        g_assert_true(json_object_has_member(p, "dht"));
        assert_status(path, 200, "defaultSavePath");
        g_assert_cmpstr(text_of(path), ==, t.h.downloads);
        assert_status(unknown, 404, "unknown endpoint");
        assert_status(unknown2, 404, "unknown command");
        assert_status(posted, 200, "info by POST");
        g_assert_true(JSON_NODE_HOLDS_ARRAY(posted->json));
        assert_status(transfer, 200, "transfer/info");
        {
                /* the Host allow-list of /v1 holds here too (DNS rebinding) */
                g_autoptr(RvTestResponse) evil = rv_test_http_request(&t, "GET", "/api/v2/app/version", t.admin, NULL,
                                                                      NULL, "Host", "evil.example", NULL);
                assert_status(evil, 421, "a Host not of this service");
        }
        g_assert_true(json_object_has_member(rv_test_response_object(transfer), "dl_info_speed"));
        /* setPreferences: seeding goals as settings, with a revision */
        set = api("POST", "app/setPreferences",
                  "json=%7B%22max_ratio_enabled%22%3Atrue%2C%22max_ratio%22%3A2.5%2C%22max_ratio_act%22%3A0%7D");
        assert_status(set, 200, "setPreferences");
        again = api("GET", "app/preferences", NULL);
        g_assert_true(json_object_get_boolean_member(rv_test_response_object(again), "max_ratio_enabled"));
        g_assert_cmpfloat(json_object_get_double_member(rv_test_response_object(again), "max_ratio"), ==, 2.5);
        {
                /* {"max_inactive_seeding_time_enabled":true,"max_inactive_seeding_time":90} */
                g_autoptr(RvTestResponse) inactive = api("POST", "app/setPreferences",
                                                         "json=%7B%22max_inactive_seeding_time_enabled%22%3Atrue%2C%"
                                                         "22max_inactive_seeding_time%22%3A90%7D");
                g_autoptr(RvTestResponse) read = api("GET", "app/preferences", NULL);
                g_autoptr(RvTestResponse) off =
                        api("POST", "app/setPreferences", "json=%7B%22max_inactive_seeding_time_enabled%22%3Afalse%7D");
                g_autoptr(RvTestResponse) read_off = api("GET", "app/preferences", NULL);
                assert_status(inactive, 200, "setPreferences max_inactive_seeding_time");
                g_assert_true(json_object_get_boolean_member(rv_test_response_object(read),
                                                             "max_inactive_seeding_time_enabled"));
                g_assert_cmpint(json_object_get_int_member(rv_test_response_object(read), "max_inactive_seeding_time"),
                                ==, 90);
                assert_status(off, 200, "setPreferences max_inactive_seeding_time off");
                g_assert_false(json_object_get_boolean_member(rv_test_response_object(read_off),
                                                              "max_inactive_seeding_time_enabled"));
        }
        {
                g_autoptr(RvTestResponse) off =
                        api("POST", "app/setPreferences", "json=%7B%22max_ratio_enabled%22%3Afalse%7D");
                g_autoptr(RvTestResponse) bad = api("POST", "app/setPreferences", "json=nope");
                g_autoptr(RvTestResponse) none = api("POST", "app/setPreferences", "");
                assert_status(off, 200, "setPreferences off");
                assert_status(bad, 400, "setPreferences garbage");
                assert_status(none, 400, "setPreferences without json");
        }
}

/* categories stored as settings with revisions; their paths confined; tags */
static void
test_qbt_categories(void)
{
        g_autofree char *body = NULL;
        g_autofree char *edited = g_build_filename(t.h.downloads, "tv2", NULL);
        g_autofree char *edit_body = g_strdup_printf("category=tv&savePath=%s", edited);
        gint64 rev;

        tv_path = g_build_filename(t.h.downloads, "tv", NULL);
        body = g_strdup_printf("category=tv&savePath=%s", tv_path);
        {
                /* the allowed roots: the test's directory */
                g_autofree char *roots = g_strdup_printf("{\"allowed_paths\": [\"%s\"]}", t.h.dir);
                g_autoptr(RvTestResponse) r = rv_test_http_json(&t, "PATCH", "/v1/settings/fs", t.admin, roots);
                assert_status(r, 200, "allowed paths");
        }
        rev = settings_revision();
        {
                g_autoptr(RvTestResponse) r = api_cookie("POST", "torrents/createCategory", body, cookie);
                g_autoptr(JsonObject) cats = categories();
                JsonObject *tv = json_object_get_object_member(cats, "tv");
                assert_status(r, 200, "createCategory");
                g_assert_nonnull(tv);
                g_assert_cmpstr(json_object_get_string_member(tv, "name"), ==, "tv");
                g_assert_cmpstr(json_object_get_string_member(tv, "savePath"), ==, tv_path);
                g_assert_cmpint(settings_revision(), ==, rev + 1);
        }
        {
                g_autoptr(RvTestResponse) dup = api("POST", "torrents/createCategory", body);
                g_autoptr(RvTestResponse) missing = api("POST", "torrents/createCategory", "savePath=/tmp");
                g_autoptr(RvTestResponse) outside =
                        api("POST", "torrents/createCategory", "category=out&savePath=/nonexistent-root/out");
                g_autoptr(RvTestResponse) bad_name = api("POST", "torrents/createCategory", "category=a%5Cb");
                g_autoptr(RvTestResponse) edit_unknown = api("POST", "torrents/editCategory", "category=nope");
                g_autoptr(JsonObject) cats = NULL;
                assert_status(dup, 409, "createCategory twice");
                assert_status(missing, 400, "createCategory without a name");
                assert_status(outside, 400, "a category outside the allowed paths");
                assert_status(bad_name, 400, "a category name with a backslash");
                assert_status(edit_unknown, 409, "editCategory of an unknown one");
                cats = categories();
                g_assert_cmpuint(json_object_get_size(cats), ==, 1);
                g_assert_cmpint(settings_revision(), ==, rev + 1);
        }
        {
                g_autoptr(RvTestResponse) edit = api("POST", "torrents/editCategory", edit_body);
                g_autoptr(RvTestResponse) movies = api("POST", "torrents/createCategory", "category=movies");
                g_autoptr(RvTestResponse) gone = api("POST", "torrents/removeCategories", "categories=movies%0Anope");
                g_autoptr(JsonObject) cats = categories();
                g_autoptr(RvTestResponse) back = api("POST", "torrents/editCategory", body);
                assert_status(edit, 200, "editCategory");
                assert_status(movies, 200, "createCategory without a path");
                assert_status(gone, 200, "removeCategories");
                g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(cats, "tv"), "savePath"),
                                ==, edited);
                g_assert_false(json_object_has_member(cats, "movies"));
                assert_status(back, 200, "editCategory back");
        }
        {
                /* a command's parameters as a multipart form, as some clients send them */
                g_autoptr(SoupMultipart) form = soup_multipart_new(SOUP_FORM_MIME_TYPE_MULTIPART);
                g_autofree char *url = g_strconcat(t.base, "/api/v2/torrents/createCategory", NULL);
                g_autoptr(SoupMessage) msg = NULL;
                g_autoptr(RvTestResponse) r = NULL;
                g_autoptr(RvTestResponse) gone = NULL;
                g_autoptr(JsonObject) cats = NULL;
                soup_multipart_append_form_string(form, "category", "multi");
                msg = soup_message_new_from_multipart(url, form);
                soup_message_headers_replace(soup_message_get_request_headers(msg), "Cookie", cookie);
                r = rv_test_http_send(&t, msg);
                assert_status(r, 200, "createCategory by multipart");
                cats = categories();
                g_assert_true(json_object_has_member(cats, "multi"));
                gone = api("POST", "torrents/removeCategories", "categories=multi");
                assert_status(gone, 200, "removeCategories multi");
        }
}

static char *
hash_of_only(const char *query)
{
        g_autoptr(JsonArray) list = info(query);

        g_assert_cmpuint(json_array_get_length(list), ==, 1);
        return g_strdup(json_object_get_string_member(json_array_get_object_element(list, 0), "hash"));
}

static RvTestResponse *add_multipart(GBytes *data, ...) G_GNUC_NULL_TERMINATED;

/* the name of add_multipart's file part: Sonarr's; @ctrl/qbittorrent names it "file" */
static const char *file_part = "torrents";

/* torrents/add as multipart: a .torrent file part (may be NULL) and name/value text parts */
static RvTestResponse *
add_multipart(GBytes *data, ...)
{
        g_autoptr(SoupMultipart) form = soup_multipart_new(SOUP_FORM_MIME_TYPE_MULTIPART);
        g_autofree char *url = g_strconcat(t.base, "/api/v2/torrents/add", NULL);
        g_autoptr(SoupMessage) msg = NULL;
        va_list ap;
        const char *name;

        if (data != NULL)
                soup_multipart_append_form_file(form, file_part, "a.torrent", "application/x-bittorrent", data);
        va_start(ap, data);
        while ((name = va_arg(ap, const char *)) != NULL)
                soup_multipart_append_form_string(form, name, va_arg(ap, const char *));
        va_end(ap);
        msg = soup_message_new_from_multipart(url, form);
        soup_message_headers_replace(soup_message_get_request_headers(msg), "Cookie", cookie);
        return rv_test_http_send(&t, msg);
}

/* adds by .torrent and magnet with category, save path, tags, limits; the reads and their types */
static void
test_qbt_add(void)
{
        g_autoptr(GBytes) one = rv_test_data_tiny_torrent("qbt", 1);
        g_autoptr(GBytes) garbage = g_bytes_new_static("d8:announce", 11);
        g_autofree char *save = g_build_filename(t.h.downloads, "custom", NULL);
        g_autofree char *hash = NULL;
        guint before = count_torrents();

        {
                g_autoptr(RvTestResponse) r = add_multipart(
                        one, "savepath", save, "category", "tv", "tags", "a,b", "paused", "true", "stopped", "true",
                        "ratioLimit", "1.5", "seedingTimeLimit", "120", "sequentialDownload", "true", "upLimit",
                        "20000", "firstLastPiecePrio", "true", "inactiveSeedingTimeLimit", "30", NULL);
                assert_status(r, 200, "add .torrent");
                g_assert_cmpstr(text_of(r), ==, "Ok.");
        }
        hash = hash_of_only("?category=tv");
        {
                g_autofree char *query =
                        g_strdup_printf("?hashes=%s%%7C0000000000000000000000000000000000000000", hash);
                g_autoptr(JsonArray) by_hash = info(query);
                g_autoptr(JsonArray) by_tag = info("?tag=a");
                g_autoptr(JsonArray) none = info("?category=nope");
                g_autoptr(JsonArray) stopped = info("?filter=stopped");
                JsonObject *o = json_array_get_object_element(by_hash, 0);
                g_assert_cmpuint(json_array_get_length(by_hash), ==, 1);
                g_assert_cmpuint(json_array_get_length(by_tag), ==, 1);
                g_assert_cmpuint(json_array_get_length(none), ==, 0);
                g_assert_cmpuint(json_array_get_length(stopped), >=, 1);
                g_assert_cmpstr(json_object_get_string_member(o, "hash"), ==, hash);
                g_assert_cmpstr(json_object_get_string_member(o, "category"), ==, "tv");
                g_assert_cmpstr(json_object_get_string_member(o, "tags"), ==, "a, b");
                g_assert_cmpstr(json_object_get_string_member(o, "save_path"), ==, save);
                g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "stoppedDL");
                g_assert_cmpint(json_object_get_int_member(o, "eta"), ==, 8640000);
                g_assert_cmpfloat(json_object_get_double_member(o, "ratio_limit"), ==, 1.5);
                g_assert_cmpint(json_object_get_int_member(o, "seeding_time_limit"), ==, 120);
                g_assert_cmpint(json_object_get_int_member(o, "up_limit"), ==, 20000);
                g_assert_cmpint(json_object_get_int_member(o, "dl_limit"), ==, -1);
                g_assert_true(json_object_get_boolean_member(o, "seq_dl"));
                g_assert_true(json_object_get_boolean_member(o, "f_l_piece_prio"));
                g_assert_cmpint(json_object_get_int_member(o, "inactive_seeding_time_limit"), ==, 30);
                g_assert_cmpint(json_object_get_int_member(o, "completion_on"), ==, -1);
                g_assert_cmpint(json_object_get_int_member(o, "added_on"), >, 0);
                g_assert_cmpint(json_object_get_int_member(o, "last_activity"), >, 0);
                g_assert_cmpint(json_object_get_int_member(o, "amount_left"), ==,
                                json_object_get_int_member(o, "size"));
                /* types as qBittorrent sends them */
                /* a number (qBittorrent, through Qt, writes 0.0 as 0 too) */
                g_assert_true(JSON_NODE_HOLDS_VALUE(json_object_get_member(o, "progress")));
                g_assert_cmpint(json_node_get_value_type(json_object_get_member(o, "progress")), !=, G_TYPE_STRING);
                g_assert_cmpint(json_node_get_value_type(json_object_get_member(o, "size")), ==, G_TYPE_INT64);
                g_assert_true(g_str_has_prefix(json_object_get_string_member(o, "content_path"), save));
        }
        {
                g_autofree char *props = g_strdup_printf("torrents/properties?hash=%s", hash);
                g_autofree char *files = g_strdup_printf("torrents/files?hash=%s", hash);
                g_autofree char *trackers = g_strdup_printf("torrents/trackers?hash=%s", hash);
                g_autoptr(RvTestResponse) p = api("GET", props, NULL);
                g_autoptr(RvTestResponse) f = api("GET", files, NULL);
                g_autoptr(RvTestResponse) tr = api("GET", trackers, NULL);
                g_autoptr(RvTestResponse) unknown =
                        api("GET", "torrents/properties?hash=0000000000000000000000000000000000000000", NULL);
                g_autoptr(RvTestResponse) missing = api("GET", "torrents/properties", NULL);
                JsonArray *rows;
                assert_status(p, 200, "properties");
                g_assert_cmpstr(json_object_get_string_member(rv_test_response_object(p), "save_path"), ==, save);
                g_assert_cmpint(json_object_get_int_member(rv_test_response_object(p), "seeding_time"), ==, 0);
                assert_status(f, 200, "files");
                rows = json_node_get_array(f->json);
                g_assert_cmpuint(json_array_get_length(rows), >=, 1);
                g_assert_nonnull(json_object_get_string_member(json_array_get_object_element(rows, 0), "name"));
                assert_status(tr, 200, "trackers");
                g_assert_cmpuint(json_array_get_length(json_node_get_array(tr->json)), >=, 3);
                assert_status(unknown, 404, "properties of an unknown hash");
                assert_status(missing, 400, "properties without a hash");
        }
        {
                /* a magnet with the category's save path */
                g_autoptr(RvTestResponse) r =
                        add_multipart(NULL, "urls", "magnet:?xt=urn:btih:1111111111111111111111111111111111111111&dn=m",
                                      "category", "tv", "paused", "true", NULL);
                g_autoptr(JsonArray) list = NULL;
                assert_status(r, 200, "add magnet");
                list = info("?hashes=1111111111111111111111111111111111111111");
                g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(list, 0), "save_path"), ==,
                                tv_path);
                g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(list, 0), "state"), ==,
                                "stoppedDL");
        }
        {
                /* regression: a file part named "file" (@ctrl/qbittorrent) was answered 400; as
                 * qBittorrent, any part with a filename is a .torrent */
                g_autoptr(GBytes) named = rv_test_data_tiny_torrent("qbt-file", 1);
                g_autoptr(RvTestResponse) r = NULL;
                file_part = "file";
                r = add_multipart(named, "paused", "true", NULL);
                file_part = "torrents";
                assert_status(r, 200, "add with a file part named file");
                g_assert_cmpstr(text_of(r), ==, "Ok.");
        }
        {
                /* bad adds change nothing */
                guint now = count_torrents();
                g_autoptr(GBytes) two = rv_test_data_tiny_torrent("qbt", 2);
                g_autoptr(RvTestResponse) bad = add_multipart(garbage, "category", "tv", NULL);
                g_autoptr(RvTestResponse) empty = add_multipart(NULL, "category", "tv", NULL);
                g_autoptr(RvTestResponse) outside = add_multipart(two, "savepath", "/nonexistent-root/x", NULL);
                g_autoptr(RvTestResponse) dup = add_multipart(one, NULL);
                g_autoptr(RvTestResponse) ratio = add_multipart(two, "ratioLimit", "lots", NULL);
                g_autoptr(JsonObject) cats = NULL;
                g_assert_cmpuint(now, ==, before + 3);
                assert_status(bad, 415, "garbage .torrent");
                assert_status(empty, 400, "no urls, no torrents");
                assert_status(outside, 400, "a save path outside the allowed paths");
                assert_status(dup, 200, "the same torrent again");
                g_assert_cmpstr(text_of(dup), ==, "Fails.");
                assert_status(ratio, 400, "a ratio that is no number");
                g_assert_cmpuint(count_torrents(), ==, now);
                /* an unknown category is created by the add, as qBittorrent does */
                {
                        g_autoptr(RvTestResponse) newcat =
                                add_multipart(two, "category", "anime", "paused", "true", NULL);
                        assert_status(newcat, 200, "add with a new category");
                }
                cats = categories();
                g_assert_true(json_object_has_member(cats, "anime"));
                g_assert_cmpuint(count_torrents(), ==, now + 1);
        }
        {
                /* sort, reverse, limit, offset (negative: from the end) */
                g_autoptr(JsonArray) by_name = info("?sort=name");
                g_autoptr(JsonArray) reversed = info("?sort=name&reverse=true");
                g_autoptr(JsonArray) page = info("?sort=name&limit=1&offset=1");
                g_autoptr(JsonArray) last = info("?sort=name&offset=-1");
                guint n = json_array_get_length(by_name);
                g_assert_cmpuint(n, >=, 3);
                for (guint i = 1; i < n; i++)
                        g_assert_cmpstr(
                                json_object_get_string_member(json_array_get_object_element(by_name, i - 1), "name"),
                                <=, json_object_get_string_member(json_array_get_object_element(by_name, i), "name"));
                g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(reversed, 0), "hash"), ==,
                                json_object_get_string_member(json_array_get_object_element(by_name, n - 1), "hash"));
                g_assert_cmpuint(json_array_get_length(page), ==, 1);
                g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(page, 0), "hash"), ==,
                                json_object_get_string_member(json_array_get_object_element(by_name, 1), "hash"));
                g_assert_cmpuint(json_array_get_length(last), ==, 1);
                g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(last, 0), "hash"), ==,
                                json_object_get_string_member(json_array_get_object_element(by_name, n - 1), "hash"));
        }
}

static JsonObject *
one_torrent(const char *hash)
{
        g_autofree char *query = g_strdup_printf("?hashes=%s", hash);
        g_autoptr(JsonArray) list = info(query);

        if (json_array_get_length(list) != 1)
                g_error("torrent %s: %u listed", hash, json_array_get_length(list));
        return json_object_ref(json_array_get_object_element(list, 0));
}

/* the state torrents/info shows */
static char *
state_of(const char *hash)
{
        g_autoptr(JsonObject) o = one_torrent(hash);

        return g_strdup(json_object_get_string_member(o, "state"));
}

static void
command_ok(const char *name, const char *form)
{
        g_autofree char *path = g_strconcat("torrents/", name, NULL);
        g_autoptr(RvTestResponse) r = api_cookie("POST", path, form, cookie);

        assert_status(r, 200, name);
}

/*
 * torrents/add as a form (the way the *arr clients send magnets): every add
 * option read from it; autoTMM puts the data in the category's folder whatever
 * savepath says, without it savepath wins
 */
static void
test_qbt_add_form(void)
{
        const char *auto_hash = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
        const char *manual_hash = "b1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
        g_autofree char *other = g_build_filename(t.h.downloads, "other", NULL);
        g_autofree char *auto_form =
                g_strdup_printf("urls=%s&category=tv&savepath=%s&autoTMM=true&paused=true&firstLastPiecePrio=true&"
                                "inactiveSeedingTimeLimit=7&contentLayout=NoSubfolder&sequentialDownload=true",
                                auto_hash, other);
        g_autofree char *manual_form =
                g_strdup_printf("urls=%s&category=tv&savepath=%s&autoTMM=false&paused=true", manual_hash, other);
        g_autofree char *bad_form = g_strdup_printf("urls=%s&contentLayout=Sideways", manual_hash);

        {
                g_autoptr(RvTestResponse) bad = api("POST", "torrents/add", bad_form);
                assert_status(bad, 400, "a form add with a bad contentLayout");
                g_assert_nonnull(strstr(text_of(bad), "contentLayout"));
        }
        {
                g_autoptr(RvTestResponse) a = api("POST", "torrents/add", auto_form);
                g_autoptr(RvTestResponse) m = api("POST", "torrents/add", manual_form);
                assert_status(a, 200, "a form add with autoTMM");
                assert_status(m, 200, "a form add without autoTMM");
        }
        {
                g_autofree char *q_auto = g_strdup_printf("?hashes=%s", auto_hash);
                g_autofree char *q_manual = g_strdup_printf("?hashes=%s", manual_hash);
                g_autoptr(JsonArray) a = info(q_auto);
                g_autoptr(JsonArray) m = info(q_manual);
                JsonObject *ao;
                JsonObject *mo;
                g_assert_cmpuint(json_array_get_length(a), ==, 1);
                g_assert_cmpuint(json_array_get_length(m), ==, 1);
                ao = json_array_get_object_element(a, 0);
                mo = json_array_get_object_element(m, 0);
                g_assert_cmpstr(json_object_get_string_member(ao, "save_path"), ==, tv_path);
                g_assert_true(json_object_get_boolean_member(ao, "f_l_piece_prio"));
                g_assert_true(json_object_get_boolean_member(ao, "seq_dl"));
                g_assert_cmpint(json_object_get_int_member(ao, "inactive_seeding_time_limit"), ==, 7);
                g_assert_cmpstr(json_object_get_string_member(mo, "save_path"), ==, other);
                g_assert_cmpstr(json_object_get_string_member(mo, "category"), ==, "tv");
        }
        {
                g_autofree char *del = g_strdup_printf("hashes=%s%%7C%s&deleteFiles=false", auto_hash, manual_hash);
                g_autoptr(RvTestResponse) r = api("POST", "torrents/delete", del);
                assert_status(r, 200, "delete the form adds");
        }
}

/* category, tags, share limits, limits, sequential, queue, pause/resume in both vocabularies */
static void
test_qbt_commands(void)
{
        g_autofree char *hash = hash_of_only("?tag=b");
        g_autofree char *h = g_strdup_printf("hashes=%s", hash);
        g_autofree char *form = NULL;

        {
                g_autoptr(RvTestResponse) unknown =
                        api("POST", "torrents/setCategory", (form = g_strdup_printf("%s&category=nope", h)));
                g_autoptr(JsonObject) o = one_torrent(hash);
                assert_status(unknown, 409, "setCategory unknown");
                g_assert_cmpstr(json_object_get_string_member(o, "category"), ==, "tv");
                g_clear_pointer(&form, g_free);
        }
        command_ok("setCategory", (form = g_strdup_printf("%s&category=anime", h)));
        g_clear_pointer(&form, g_free);
        command_ok("addTags", (form = g_strdup_printf("%s&tags=c,d", h)));
        g_clear_pointer(&form, g_free);
        command_ok("removeTags", (form = g_strdup_printf("%s&tags=a", h)));
        g_clear_pointer(&form, g_free);
        {
                g_autoptr(JsonObject) o = one_torrent(hash);
                g_autoptr(RvTestResponse) tags = api("GET", "torrents/tags", NULL);
                g_assert_cmpstr(json_object_get_string_member(o, "category"), ==, "anime");
                g_assert_cmpstr(json_object_get_string_member(o, "tags"), ==, "b, c, d");
                assert_status(tags, 200, "tags");
                g_assert_cmpuint(json_array_get_length(json_node_get_array(tags->json)), >=, 3);
        }
        {
                /* createTags checks names and stores nothing; deleteTags takes a tag off every torrent */
                g_autoptr(RvTestResponse) bad = api("POST", "torrents/createTags", "tags=a%5Cb");
                g_autoptr(RvTestResponse) none = api("POST", "torrents/deleteTags", "");
                g_autoptr(JsonObject) o = NULL;
                command_ok("createTags", "tags=fresh,d");
                command_ok("deleteTags", "tags=d");
                assert_status(bad, 400, "createTags with a backslash");
                assert_status(none, 400, "deleteTags without tags");
                o = one_torrent(hash);
                g_assert_cmpstr(json_object_get_string_member(o, "tags"), ==, "b, c");
                g_assert_cmpstr(json_object_get_string_member(o, "category"), ==, "anime");
        }
        command_ok("setCategory", (form = g_strdup_printf("%s&category=", h)));
        g_clear_pointer(&form, g_free);
        command_ok("setShareLimits", (form = g_strdup_printf("%s&ratioLimit=2&seedingTimeLimit=-1", h)));
        g_clear_pointer(&form, g_free);
        command_ok("setDownloadLimit", (form = g_strdup_printf("%s&limit=50000", h)));
        g_clear_pointer(&form, g_free);
        command_ok("toggleSequentialDownload", h);
        {
                g_autoptr(JsonObject) o = one_torrent(hash);
                g_autoptr(RvTestResponse) share_missing = api("POST", "torrents/setShareLimits", h);
                g_autoptr(RvTestResponse) share_bad =
                        api("POST", "torrents/setShareLimits",
                            (form = g_strdup_printf("%s&ratioLimit=-7&seedingTimeLimit=1", h)));
                g_autoptr(RvTestResponse) top = api("POST", "torrents/topPrio", h);
                g_autoptr(RvTestResponse) no_hashes = api("POST", "torrents/pause", "");
                g_autoptr(JsonObject) after = NULL;
                g_clear_pointer(&form, g_free);
                g_assert_cmpstr(json_object_get_string_member(o, "category"), ==, "");
                g_assert_cmpfloat(json_object_get_double_member(o, "ratio_limit"), ==, 2);
                g_assert_cmpint(json_object_get_int_member(o, "seeding_time_limit"), ==, -1);
                g_assert_cmpint(json_object_get_int_member(o, "dl_limit"), ==, 50000);
                g_assert_false(json_object_get_boolean_member(o, "seq_dl"));
                assert_status(share_missing, 400, "setShareLimits without limits");
                assert_status(share_bad, 400, "setShareLimits out of range");
                assert_status(top, 409, "topPrio without queueing");
                assert_status(no_hashes, 400, "pause without hashes");
                after = one_torrent(hash);
                g_assert_cmpfloat(json_object_get_double_member(after, "ratio_limit"), ==, 2);
        }
        /* pause and resume, in 5.x's words and then in 4.x's */
        command_ok("start", h);
        {
                /* a resume takes effect when the engine reports it */
                gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
                for (;;) {
                        g_autofree char *state = state_of(hash);
                        if (!g_str_equal(state, "stoppedDL"))
                                break;
                        if (g_get_monotonic_time() > deadline)
                                g_error("%s is still stoppedDL after start", hash);
                        g_usleep(20000);
                }
        }
        command_ok("stop", h);
        {
                g_autoptr(JsonObject) o = one_torrent(hash);
                g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "stoppedDL");
        }
        {
                g_autoptr(RvTestResponse) r =
                        rv_test_http_json(&t, "PATCH", "/v1/settings/app", t.admin, "{\"webapi_version\": \"4.6.7\"}");
                g_autoptr(RvTestResponse) v = api("GET", "app/webapiVersion", NULL);
                g_autoptr(JsonObject) o = NULL;
                assert_status(r, 200, "report 4.6.7");
                g_assert_cmpstr(text_of(v), ==, "2.9.3");
                o = one_torrent(hash);
                g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "pausedDL");
        }
        command_ok("resume", h);
        command_ok("pause", h);
        {
                g_autoptr(RvTestResponse) r =
                        rv_test_http_json(&t, "PATCH", "/v1/settings/app", t.admin, "{\"webapi_version\": \"5.0.4\"}");
                assert_status(r, 200, "report 5.0.4");
        }
        {
                g_autofree char *state = state_of(hash);
                g_assert_cmpstr(state, ==, "stoppedDL");
        }
}

/* polls torrents/info until the torrent's state is want (10 s) */
#define wait_state(hash, want) wait_state_at(hash, want, __LINE__)

static void
wait_state_at(const char *hash, const char *want, int line)
{
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        for (;;) {
                g_autofree char *state = state_of(hash);
                if (g_str_equal(state, want))
                        return;
                if (g_get_monotonic_time() > deadline)
                        g_error("%s: state %s, expected %s (line %d)", hash, state, want, line);
                g_usleep(50000);
        }
}

/* the torrent's row once it completed; fails after 30 s */
static JsonObject *
wait_completed(const char *hash)
{
        g_autofree char *query = g_strdup_printf("?hashes=%s", hash);
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        for (;;) {
                g_autoptr(JsonArray) list = info(query);
                JsonObject *row = json_array_get_length(list) > 0 ? json_array_get_object_element(list, 0) : NULL;
                if (row != NULL && json_object_get_int_member(row, "completion_on") > 0)
                        return json_object_ref(row);
                if (g_get_monotonic_time() > deadline)
                        g_error("no download of %s from the seeder", hash);
                g_usleep(100000);
        }
}

/* a magnet from a local seeder to its completed state; then delete with its files */
static void
test_qbt_download(void)
{
        g_autofree char *query = NULL;
        g_autofree char *urls = NULL;
        g_autofree char *content = NULL;
        g_autofree char *payload = NULL;
        g_autoptr(JsonObject) o = NULL;
        g_autofree char *hash = NULL;
        gint64 deadline;

        rv_test_harness_start_seeder(&t.h, "qbtdl", 4 * MIB, 3, FALSE, 0);
        hash = g_strdup(t.h.seeder.hash);
        {
                g_autoptr(RvTestResponse) r = add_multipart(NULL, "urls", t.h.seeder.magnet, "category", "tv", NULL);
                assert_status(r, 200, "add the seeder's magnet");
                g_assert_cmpstr(text_of(r), ==, "Ok.");
        }
        query = g_strdup_printf("?hashes=%s", hash);
        o = wait_completed(hash);
        g_assert_true(g_str_equal(json_object_get_string_member(o, "state"), "uploading") ||
                      g_str_equal(json_object_get_string_member(o, "state"), "stalledUP"));
        g_assert_cmpfloat(json_object_get_double_member(o, "progress"), ==, 1.0);
        g_assert_cmpint(json_object_get_int_member(o, "amount_left"), ==, 0);
        g_assert_cmpint(json_object_get_int_member(o, "size"), ==, 4 * MIB);
        g_assert_cmpint(json_object_get_int_member(o, "eta"), ==, 8640000);
        g_assert_cmpstr(json_object_get_string_member(o, "save_path"), ==, tv_path);
        content = g_strdup(json_object_get_string_member(o, "content_path"));
        /* a multi-file torrent: its root folder, never the save path itself */
        g_assert_cmpstr(content, !=, tv_path);
        g_assert_true(g_str_has_prefix(content, tv_path));
        g_assert_true(g_file_test(content, G_FILE_TEST_IS_DIR));
        {
                g_autofree char *files = g_strdup_printf("torrents/files?hash=%s", hash);
                g_autoptr(RvTestResponse) f = api("GET", files, NULL);
                JsonArray *rows = json_node_get_array(f->json);
                g_assert_cmpuint(json_array_get_length(rows), ==, 3);
                for (guint i = 0; i < 3; i++) {
                        JsonObject *row = json_array_get_object_element(rows, i);
                        g_assert_cmpfloat(json_object_get_double_member(row, "progress"), ==, 1.0);
                        g_assert_cmpint(json_object_get_int_member(row, "priority"), ==, 1);
                }
        }
        rv_test_harness_stop_seeder(&t.h);
        /* an hour without an upload is far off; none at all (0) is now: nobody downloads from this torrent */
        {
                g_autofree char *form = g_strdup_printf(
                        "hashes=%s&ratioLimit=-1&seedingTimeLimit=-1&inactiveSeedingTimeLimit=60", hash);
                g_autofree char *bad = g_strdup_printf(
                        "hashes=%s&ratioLimit=-1&seedingTimeLimit=-1&inactiveSeedingTimeLimit=-7", hash);
                g_autoptr(RvTestResponse) refused = api("POST", "torrents/setShareLimits", bad);
                g_autoptr(JsonArray) list = NULL;
                JsonObject *row;
                assert_status(refused, 400, "an inactive seeding time out of range");
                g_assert_nonnull(strstr(text_of(refused), "inactive_seeding_time_limit"));
                command_ok("setShareLimits", form);
                list = info(query);
                row = json_array_get_object_element(list, 0);
                g_assert_cmpint(json_object_get_int_member(row, "inactive_seeding_time_limit"), ==, 60);
                g_assert_cmpint(json_object_get_int_member(row, "max_inactive_seeding_time"), ==, 60);
                g_assert_cmpstr(json_object_get_string_member(row, "state"), !=, "stoppedUP");
        }
        {
                g_autofree char *form =
                        g_strdup_printf("hashes=%s&ratioLimit=-1&seedingTimeLimit=-1&inactiveSeedingTimeLimit=0", hash);
                g_autofree char *resume = g_strdup_printf("hashes=%s", hash);
                g_autofree char *none = g_strdup_printf(
                        "hashes=%s&ratioLimit=-1&seedingTimeLimit=-1&inactiveSeedingTimeLimit=-1", hash);
                command_ok("setShareLimits", form);
                wait_state(hash, "stoppedUP");
                /* back to no goal of its own, running again, for the ratio goal below */
                command_ok("setShareLimits", none);
                command_ok("start", resume);
                wait_state(hash, "stalledUP");
        }
        /* a seeding goal of ratio 0 is met at once: the torrent stops, as qBittorrent's would */
        {
                g_autofree char *form = g_strdup_printf("hashes=%s&ratioLimit=0&seedingTimeLimit=-1", hash);
                g_autofree char *state = NULL;
                command_ok("setShareLimits", form);
                state = state_of(hash);
                g_assert_cmpstr(state, ==, "stoppedUP");
        }
        {
                g_autofree char *form = g_strdup_printf("hashes=%s&deleteFiles=true", hash);
                command_ok("delete", form);
        }
        deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        while (g_file_test(content, G_FILE_TEST_EXISTS)) {
                if (g_get_monotonic_time() > deadline)
                        g_error("%s was not deleted", content);
                g_usleep(50000);
        }
        {
                g_autoptr(JsonArray) list = info(query);
                g_assert_cmpuint(json_array_get_length(list), ==, 0);
        }
}

/* the queue's slots: downloads and torrents in all (slow torrents count only there) */
static void
set_active(int downloads, int torrents)
{
        g_autofree char *form =
                g_strdup_printf("json=%%7B%%22max_active_downloads%%22%%3A%d%%2C%%22max_active_torrents%%22%%3A%d%%7D",
                                downloads, torrents);
        g_autoptr(RvTestResponse) r = api("POST", "app/setPreferences", form);

        assert_status(r, 200, "setPreferences max_active_downloads, max_active_torrents");
}

/* setForceStart runs a torrent that libtorrent's queue holds back (no download slots), and gives it back */
static void
test_qbt_force_start(void)
{
        const char *idle = "3333333333333333333333333333333333333333";
        g_autofree char *hash = NULL;
        g_autofree char *h = NULL;
        g_autofree char *form = NULL;
        gint64 deadline;

        set_active(0, 0);
        {
                /* a magnet nobody seeds: the queue holds it (no slot at all, so not even as a slow
                 * torrent), forced it runs, given back it is held again */
                g_autoptr(RvTestResponse) r = add_multipart(NULL, "urls", idle, NULL);
                g_autoptr(JsonObject) o = NULL;
                assert_status(r, 200, "add a magnet");
                wait_state(idle, "queuedDL");
                command_ok("setForceStart", "hashes=3333333333333333333333333333333333333333&value=true");
                wait_state(idle, "forcedMetaDL");
                /* the queue looks again within a second or so; a forced torrent stays out of it */
                g_usleep(2 * G_USEC_PER_SEC);
                o = one_torrent(idle);
                g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "forcedMetaDL");
                g_assert_true(json_object_get_boolean_member(o, "force_start"));
                command_ok("setForceStart", "hashes=3333333333333333333333333333333333333333&value=false");
                o = one_torrent(idle);
                g_assert_false(json_object_get_boolean_member(o, "force_start"));
                /* back in the queue, which holds it at its next look (libtorrent looks every 30 s, and
                 * when its limits change) */
                set_active(0, 1);
                set_active(0, 0);
                wait_state(idle, "queuedDL");
                command_ok("delete", "hashes=3333333333333333333333333333333333333333");
        }
        /* a stopped torrent, forced: it downloads from the seeder although there is no download slot */
        rv_test_harness_start_seeder(&t.h, "qbtforce", 2 * MIB, 1, FALSE, 0);
        hash = g_strdup(t.h.seeder.hash);
        h = g_strdup_printf("hashes=%s", hash);
        {
                g_autoptr(RvTestResponse) r = add_multipart(NULL, "urls", t.h.seeder.magnet, "stopped", "true", NULL);
                assert_status(r, 200, "add the seeder's magnet");
        }
        command_ok("setForceStart", (form = g_strdup_printf("%s&value=true", h)));
        deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
        for (;;) {
                g_autoptr(JsonObject) o = one_torrent(hash);
                if (json_object_get_int_member(o, "completion_on") > 0)
                        break;
                if (g_get_monotonic_time() > deadline)
                        g_error("a forced torrent did not download past the queue: %s",
                                json_object_get_string_member(o, "state"));
                g_usleep(100000);
        }
        wait_state(hash, "forcedUP");
        g_clear_pointer(&form, g_free);
        {
                /* super seeding, on and off */
                g_autoptr(JsonObject) on = NULL;
                g_autoptr(JsonObject) off = NULL;
                command_ok("setSuperSeeding", (form = g_strdup_printf("%s&value=true", h)));
                on = one_torrent(hash);
                g_assert_true(json_object_get_boolean_member(on, "super_seeding"));
                g_clear_pointer(&form, g_free);
                command_ok("setSuperSeeding", (form = g_strdup_printf("%s&value=false", h)));
                off = one_torrent(hash);
                g_assert_false(json_object_get_boolean_member(off, "super_seeding"));
                g_clear_pointer(&form, g_free);
        }
        {
                /* a stop ends the force start, as in qBittorrent */
                g_autoptr(JsonObject) o = NULL;
                command_ok("stop", h);
                o = one_torrent(hash);
                g_assert_false(json_object_get_boolean_member(o, "force_start"));
                g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "stoppedUP");
        }
        command_ok("delete", (form = g_strdup_printf("%s&deleteFiles=true", h)));
        rv_test_harness_stop_seeder(&t.h);
        set_active(3, 500);
}

/* skip_checking: data on disk is taken as complete without hashing it (here it is zeros: a check would say 0 %) */
static void
test_qbt_skip_checking(void)
{
        g_autofree char *dir = g_build_filename(t.h.downloads, "skip", NULL);
        g_autofree char *name = NULL;
        g_autofree char *file = NULL;
        g_autofree char *zeros = g_malloc0(MIB);
        g_autofree char *hash = NULL;
        g_autoptr(GBytes) torrent = NULL;

        rv_test_harness_start_seeder(&t.h, "qbtskip", MIB, 1, FALSE, 0);
        hash = g_strdup(t.h.seeder.hash);
        torrent = rv_test_harness_seeder_torrent(&t.h);
        name = g_path_get_basename(t.h.seeder.payload);
        rv_test_harness_stop_seeder(&t.h);
        file = g_build_filename(dir, name, NULL);
        g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
        g_assert_true(g_file_set_contents(file, zeros, MIB, NULL));
        {
                g_autoptr(RvTestResponse) r = add_multipart(torrent, "savepath", dir, "skip_checking", "true", NULL);
                g_autoptr(JsonObject) o = NULL;
                assert_status(r, 200, "add with skip_checking");
                wait_state(hash, "stalledUP");
                o = one_torrent(hash);
                g_assert_cmpfloat(json_object_get_double_member(o, "progress"), ==, 1.0);
                g_assert_cmpint(json_object_get_int_member(o, "amount_left"), ==, 0);
        }
        {
                g_autofree char *form = g_strdup_printf("hashes=%s", hash);
                command_ok("delete", form);
        }
}

/* a magnet from the seeder downloaded with a content layout into dir; the torrent's files rows */
static JsonArray *
download_with_layout(const char *name, guint files, const char *layout, const char *dir, char **ret_hash,
                     char **ret_content)
{
        g_autofree char *query = NULL;
        g_autoptr(JsonObject) o = NULL;

        rv_test_harness_start_seeder(&t.h, name, MIB, files, FALSE, 0);
        *ret_hash = g_strdup(t.h.seeder.hash);
        {
                g_autoptr(RvTestResponse) r =
                        add_multipart(NULL, "urls", t.h.seeder.magnet, "savepath", dir, "contentLayout", layout, NULL);
                assert_status(r, 200, "add with a content layout");
        }
        o = wait_completed(*ret_hash);
        *ret_content = g_strdup(json_object_get_string_member(o, "content_path"));
        query = g_strdup_printf("torrents/files?hash=%s", *ret_hash);
        {
                g_autoptr(RvTestResponse) f = api("GET", query, NULL);
                JsonArray *rows = json_node_get_array(f->json);
                g_assert_cmpuint(json_array_get_length(rows), ==, files);
                for (guint i = 0; i < files; i++) {
                        JsonObject *row = json_array_get_object_element(rows, i);
                        g_autofree char *path = g_build_filename(dir, json_object_get_string_member(row, "name"), NULL);
                        /* reported where it is on disk, all of it */
                        g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
                }
                rv_test_harness_stop_seeder(&t.h);
                return json_array_ref(rows);
        }
}

static void
delete_with_files(const char *hash)
{
        g_autofree char *form = g_strdup_printf("hashes=%s&deleteFiles=true", hash);

        command_ok("delete", form);
}

/* contentLayout: NoSubfolder strips a multi-file torrent's folder, Subfolder gives a lone file one; others 400 */
static void
test_qbt_content_layout(void)
{
        g_autoptr(GBytes) tiny = rv_test_data_tiny_torrent("qbt-layout", 1);
        g_autofree char *flat = g_build_filename(t.h.downloads, "flat", NULL);
        g_autofree char *sub = g_build_filename(t.h.downloads, "sub", NULL);
        g_autofree char *folder = g_build_filename(flat, "qbtflat", NULL);
        g_autofree char *lone = g_build_filename(sub, "qbtsub", "qbtsub.bin", NULL);
        g_autofree char *hash = NULL;
        g_autofree char *content = NULL;
        g_autoptr(JsonArray) rows = NULL;
        guint before = count_torrents();

        {
                g_autoptr(RvTestResponse) bad = add_multipart(tiny, "contentLayout", "Flat", "paused", "true", NULL);
                assert_status(bad, 400, "an unknown content layout");
                g_assert_nonnull(strstr(text_of(bad), "contentLayout"));
                g_assert_cmpuint(count_torrents(), ==, before);
        }
        /* a .torrent: laid out at add (libtorrent's renamed files), reported so before any data */
        {
                g_autoptr(RvTestResponse) r = add_multipart(tiny, "contentLayout", "Subfolder", "paused", "true", NULL);
                g_autoptr(RvTestResponse) f = NULL;
                g_autoptr(JsonArray) list = info("?filter=all");
                g_autofree char *path = NULL;
                g_autofree char *form = NULL;
                const char *added = NULL;
                assert_status(r, 200, "add a .torrent with a content layout");
                for (guint i = 0; i < json_array_get_length(list); i++) {
                        JsonObject *row = json_array_get_object_element(list, i);
                        if (g_str_equal(json_object_get_string_member(row, "name"), "qbt-layout-0000001"))
                                added = json_object_get_string_member(row, "hash");
                }
                g_assert_nonnull(added);
                path = g_strdup_printf("torrents/files?hash=%s", added);
                f = api("GET", path, NULL);
                g_assert_cmpstr(json_object_get_string_member(
                                        json_array_get_object_element(json_node_get_array(f->json), 0), "name"),
                                ==, "qbt-layout-0000001/qbt-layout-0000001");
                form = g_strdup_printf("hashes=%s", added);
                command_ok("delete", form);
        }
        /* the files side by side in the save path, which is the content path; the metadata's folder gone */
        rows = download_with_layout("qbtflat", 3, "NoSubfolder", flat, &hash, &content);
        for (guint i = 0; i < 3; i++)
                g_assert_null(
                        strchr(json_object_get_string_member(json_array_get_object_element(rows, i), "name"), '/'));
        g_assert_false(g_file_test(folder, G_FILE_TEST_EXISTS));
        g_assert_cmpstr(content, ==, flat);
        delete_with_files(hash);
        g_clear_pointer(&rows, json_array_unref);
        g_clear_pointer(&hash, g_free);
        g_clear_pointer(&content, g_free);
        /* a folder named after the file, without its extension */
        rows = download_with_layout("qbtsub.bin", 1, "Subfolder", sub, &hash, &content);
        g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(rows, 0), "name"), ==,
                        "qbtsub/qbtsub.bin");
        g_assert_cmpstr(content, ==, lone);
        delete_with_files(hash);
}

/* the row of torrents/trackers with this url, NULL when there is none */
static JsonObject *
tracker_row(const char *hash, const char *url)
{
        g_autofree char *path = g_strdup_printf("torrents/trackers?hash=%s", hash);
        g_autoptr(RvTestResponse) r = api("GET", path, NULL);
        JsonArray *rows;

        assert_status(r, 200, "trackers");
        rows = json_node_get_array(r->json);
        /* DHT, PeX and LSD come first, always */
        g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(rows, 0), "url"), ==,
                        "** [DHT] **");
        for (guint i = 0; i < json_array_get_length(rows); i++) {
                JsonObject *row = json_array_get_object_element(rows, i);
                if (g_str_equal(json_object_get_string_member(row, "url"), url))
                        return json_object_ref(row);
        }
        return NULL;
}

/*
 * tracker rows with libtorrent's status: a tracker on a closed loopback port
 * is "not working" (4) with the error as msg; a torrent without trackers
 * has only the DHT, PeX and LSD rows; tracker and trackers_count in the list
 */
static void
test_qbt_trackers(void)
{
        static const char url[] = "http://127.0.0.1:1/announce";
        g_autoptr(GBytes) plain = rv_test_data_tiny_torrent("qbt-trackers", 2);
        g_autoptr(GBytes) tiny = rv_test_data_tiny_torrent("qbt-trackers", 1);
        g_autoptr(GString) with = g_string_new(NULL);
        g_autoptr(GBytes) announced = NULL;
        g_autoptr(JsonObject) row = NULL;
        g_autoptr(JsonObject) o = NULL;
        g_autofree char *hash = NULL;
        g_autofree char *bare = NULL;
        g_autoptr(JsonArray) list = NULL;
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        /* the same info dict behind an announce key (keys sorted: announce before info) */
        g_string_append_printf(with, "d8:announce%zu:%s", strlen(url), url);
        g_string_append_len(with, (const char *)g_bytes_get_data(tiny, NULL) + 1, (gssize)g_bytes_get_size(tiny) - 1);
        announced = g_string_free_to_bytes(g_steal_pointer(&with));
        {
                g_autoptr(RvTestResponse) a = add_multipart(announced, NULL);
                g_autoptr(RvTestResponse) b = add_multipart(plain, "paused", "true", NULL);
                assert_status(a, 200, "add with a tracker");
                assert_status(b, 200, "add without trackers");
        }
        list = info("?sort=name");
        for (guint i = 0; i < json_array_get_length(list); i++) {
                JsonObject *r = json_array_get_object_element(list, i);
                const char *name = json_object_get_string_member(r, "name");
                if (g_str_equal(name, "qbt-trackers-0000001"))
                        hash = g_strdup(json_object_get_string_member(r, "hash"));
                else if (g_str_equal(name, "qbt-trackers-0000002"))
                        bare = g_strdup(json_object_get_string_member(r, "hash"));
        }
        g_assert_nonnull(hash);
        g_assert_nonnull(bare);
        for (;;) {
                g_clear_pointer(&row, json_object_unref);
                row = tracker_row(hash, url);
                g_assert_nonnull(row);
                if (json_object_get_int_member(row, "status") == 4)
                        break;
                /* not contacted (1) or updating (3) until the connection is refused */
                g_assert_cmpint(json_object_get_int_member(row, "status"), !=, 2);
                if (g_get_monotonic_time() > deadline)
                        g_error("the tracker on a closed port never showed as not working");
                g_usleep(200000);
        }
        g_assert_cmpstr(json_object_get_string_member(row, "msg"), !=, "");
        g_assert_cmpint(json_object_get_int_member(row, "tier"), ==, 0);
        g_assert_cmpint(json_object_get_int_member(row, "num_seeds"), ==, -1);
        g_assert_cmpint(json_object_get_int_member(row, "num_downloaded"), ==, -1);
        o = one_torrent(hash);
        g_assert_cmpint(json_object_get_int_member(o, "trackers_count"), ==, 1);
        /* none worked */
        g_assert_cmpstr(json_object_get_string_member(o, "tracker"), ==, "");
        g_clear_pointer(&o, json_object_unref);
        o = one_torrent(bare);
        g_assert_cmpint(json_object_get_int_member(o, "trackers_count"), ==, 0);
        {
                g_autofree char *path = g_strdup_printf("torrents/trackers?hash=%s", bare);
                g_autoptr(RvTestResponse) r = api("GET", path, NULL);
                g_autofree char *form = g_strdup_printf("hashes=%s|%s", hash, bare);
                assert_status(r, 200, "trackers of a torrent without any");
                g_assert_cmpuint(json_array_get_length(json_node_get_array(r->json)), ==, 3);
                command_ok("delete", form);
        }
}

/* rename at add: the torrent's name is the user's, and stays; a name with a control character adds nothing */
static void
test_qbt_rename(void)
{
        g_autoptr(GBytes) data = rv_test_data_tiny_torrent("qbt-rename", 1);
        guint before = count_torrents();
        g_autofree char *hash = NULL;

        {
                g_autoptr(RvTestResponse) bad = add_multipart(data, "rename", "a\001b", "paused", "true", NULL);
                assert_status(bad, 400, "rename with a control character");
                g_assert_cmpuint(count_torrents(), ==, before);
        }
        {
                g_autoptr(RvTestResponse) r = add_multipart(data, "rename", "My Show S01", "paused", "true", NULL);
                g_autoptr(JsonArray) list = NULL;
                assert_status(r, 200, "add with rename");
                list = info("?sort=name");
                for (guint i = 0; i < json_array_get_length(list); i++) {
                        JsonObject *row = json_array_get_object_element(list, i);
                        if (g_str_equal(json_object_get_string_member(row, "name"), "My Show S01"))
                                hash = g_strdup(json_object_get_string_member(row, "hash"));
                }
                g_assert_nonnull(hash);
        }
        {
                g_autofree char *form = g_strdup_printf("hashes=%s", hash);
                command_ok("delete", form);
        }
}

/* a web server of the test's own, in a thread (the test's client calls block its main loop) */
typedef struct {
        GMutex lock;
        GCond ready;
        GMainLoop *loop;
        guint16 port;
        GBytes *torrent;
} FileServer;

static void
file_server_cb(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
        FileServer *fs = user_data;

        if (g_str_equal(path, "/a.torrent")) {
                soup_server_message_set_status(msg, 200, NULL);
                soup_server_message_set_response(msg, "application/x-bittorrent", SOUP_MEMORY_COPY,
                                                 g_bytes_get_data(fs->torrent, NULL), g_bytes_get_size(fs->torrent));
        } else if (g_str_equal(path, "/garbage.torrent")) {
                soup_server_message_set_status(msg, 200, NULL);
                soup_server_message_set_response(msg, "application/x-bittorrent", SOUP_MEMORY_STATIC, "d8:announce",
                                                 11);
        } else {
                soup_server_message_set_status(msg, 404, NULL);
        }
}

static gpointer
file_server_thread(gpointer user_data)
{
        FileServer *fs = user_data;
        GMainContext *context = g_main_context_new();
        g_autoptr(SoupServer) server = NULL;
        g_autoptr(GError) error = NULL;
        GSList *uris;

        g_main_context_push_thread_default(context);
        server = soup_server_new(NULL, NULL);
        soup_server_add_handler(server, NULL, file_server_cb, fs, NULL);
        g_assert_true(soup_server_listen_local(server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
        g_assert_no_error(error);
        uris = soup_server_get_uris(server);
        g_mutex_lock(&fs->lock);
        fs->port = (guint16)g_uri_get_port(uris->data);
        fs->loop = g_main_loop_new(context, FALSE);
        g_cond_signal(&fs->ready);
        g_mutex_unlock(&fs->lock);
        g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
        g_main_loop_run(fs->loop);
        g_clear_object(&server);
        g_main_context_pop_thread_default(context);
        g_main_loop_unref(fs->loop);
        g_main_context_unref(context);
        return NULL;
}

/* urls with http(s) .torrent files: fetched and added; one that is not there, or not a .torrent, adds nothing */
static void
test_qbt_add_url(void)
{
        FileServer fs = { 0 };
        GThread *thread;
        g_autofree char *ok = NULL;
        g_autofree char *garbage = NULL;
        g_autofree char *missing = NULL;
        g_autofree char *hash = NULL;
        guint before = count_torrents();

        g_mutex_init(&fs.lock);
        g_cond_init(&fs.ready);
        fs.torrent = rv_test_data_tiny_torrent("qbt-url", 1);
        thread = g_thread_new("file-server", file_server_thread, &fs);
        g_mutex_lock(&fs.lock);
        while (fs.port == 0)
                g_cond_wait(&fs.ready, &fs.lock);
        g_mutex_unlock(&fs.lock);
        ok = g_strdup_printf("urls=http%%3A%%2F%%2F127.0.0.1%%3A%u%%2Fa.torrent&category=tv&paused=true", fs.port);
        garbage = g_strdup_printf("urls=http%%3A%%2F%%2F127.0.0.1%%3A%u%%2Fgarbage.torrent", fs.port);
        missing = g_strdup_printf("urls=http%%3A%%2F%%2F127.0.0.1%%3A%u%%2Fnope.torrent", fs.port);
        {
                g_autoptr(RvTestResponse) bad = api("POST", "torrents/add", garbage);
                g_autoptr(RvTestResponse) gone = api("POST", "torrents/add", missing);
                assert_status(bad, 415, "a URL that is not a .torrent");
                assert_status(gone, 400, "a URL that answers 404");
                g_assert_nonnull(strstr(text_of(gone), "nope.torrent"));
                g_assert_cmpuint(count_torrents(), ==, before);
        }
        {
                g_autoptr(RvTestResponse) r = api("POST", "torrents/add", ok);
                g_autoptr(JsonObject) o = NULL;
                g_autoptr(JsonArray) tv = NULL;
                assert_status(r, 200, "add by URL");
                g_assert_cmpstr(text_of(r), ==, "Ok.");
                g_assert_cmpuint(count_torrents(), ==, before + 1);
                tv = info("?category=tv");
                for (guint i = 0; i < json_array_get_length(tv); i++) {
                        JsonObject *row = json_array_get_object_element(tv, i);
                        if (g_str_has_prefix(json_object_get_string_member(row, "name"), "qbt-url"))
                                hash = g_strdup(json_object_get_string_member(row, "hash"));
                }
                g_assert_nonnull(hash);
                o = one_torrent(hash);
                g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "stoppedDL");
        }
        {
                g_autofree char *form = g_strdup_printf("hashes=%s", hash);
                command_ok("delete", form);
        }
        g_main_loop_quit(fs.loop);
        g_thread_join(thread);
        g_bytes_unref(fs.torrent);
        g_mutex_clear(&fs.lock);
        g_cond_clear(&fs.ready);
}

/* the rest of the commands with their bad inputs, every read by POST, and then: every route was called */
static void
test_qbt_every_route(void)
{
        g_autofree char *hash = hash_of_only("?tag=b");
        g_autofree char *h = g_strdup_printf("hashes=%s", hash);
        g_autofree char *moved = g_build_filename(t.h.downloads, "moved", NULL);
        g_autofree char *form = NULL;
        g_autoptr(RvTestResponse) m = NULL;
        const char *text;

        command_ok("recheck", h);
        command_ok("reannounce", h);
        command_ok("setForceStart", (form = g_strdup_printf("%s&value=false", h)));
        g_clear_pointer(&form, g_free);
        command_ok("setSuperSeeding", (form = g_strdup_printf("%s&value=true", h)));
        g_clear_pointer(&form, g_free);
        {
                g_autofree char *q = g_strdup_printf("?hashes=%s", hash);
                g_autoptr(JsonArray) before = info(q);
                g_autoptr(JsonArray) after = NULL;
                gboolean was =
                        json_object_get_boolean_member(json_array_get_object_element(before, 0), "f_l_piece_prio");
                command_ok("toggleFirstLastPiecePrio", h);
                after = info(q);
                g_assert_true(json_object_get_boolean_member(json_array_get_object_element(after, 0),
                                                             "f_l_piece_prio") == !was);
        }
        command_ok("setUploadLimit", (form = g_strdup_printf("%s&limit=-1", h)));
        g_clear_pointer(&form, g_free);
        command_ok("setLocation", (form = g_strdup_printf("%s&location=%s", h, moved)));
        g_clear_pointer(&form, g_free);
        command_ok("filePrio", (form = g_strdup_printf("hash=%s&id=0&priority=6", hash)));
        g_clear_pointer(&form, g_free);
        {
                g_autoptr(RvTestResponse) outside = api("POST", "torrents/setLocation",
                                                        (form = g_strdup_printf("%s&location=/nonexistent-root/x", h)));
                g_autoptr(RvTestResponse) bad_prio = NULL;
                g_autoptr(RvTestResponse) bad_index = NULL;
                g_autoptr(RvTestResponse) unknown = NULL;
                g_autoptr(RvTestResponse) limit = NULL;
                g_autoptr(JsonObject) o = NULL;
                g_clear_pointer(&form, g_free);
                bad_prio = api("POST", "torrents/filePrio", (form = g_strdup_printf("hash=%s&id=0&priority=3", hash)));
                g_clear_pointer(&form, g_free);
                bad_index =
                        api("POST", "torrents/filePrio", (form = g_strdup_printf("hash=%s&id=99&priority=1", hash)));
                g_clear_pointer(&form, g_free);
                unknown = api("POST", "torrents/filePrio",
                              "hash=0000000000000000000000000000000000000000&id=0&priority=1");
                limit = api("POST", "torrents/setUploadLimit", (form = g_strdup_printf("%s&limit=fast", h)));
                g_clear_pointer(&form, g_free);
                assert_status(outside, 400, "setLocation outside the allowed paths");
                assert_status(bad_prio, 400, "filePrio with priority 3");
                assert_status(bad_index, 409, "filePrio past the files");
                assert_status(unknown, 404, "filePrio of an unknown torrent");
                assert_status(limit, 400, "setUploadLimit with no number");
                {
                        /* the new save path shows once libtorrent has moved the data (its disk thread) */
                        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
                        for (;;) {
                                o = one_torrent(hash);
                                if (g_str_equal(json_object_get_string_member(o, "save_path"), moved) ||
                                    g_get_monotonic_time() > deadline)
                                        break;
                                g_clear_pointer(&o, json_object_unref);
                                g_usleep(20000);
                        }
                }
                g_assert_cmpstr(json_object_get_string_member(o, "save_path"), ==, moved);
                g_assert_cmpint(json_object_get_int_member(o, "up_limit"), ==, -1);
        }
        for (guint i = 0; i < 3; i++) {
                const char *name =
                        (const char *[]){ "torrents/bottomPrio", "torrents/increasePrio", "torrents/decreasePrio" }[i];
                g_autoptr(RvTestResponse) r = api("POST", name, h);
                assert_status(r, 409, name);
        }
        for (const RvHttpRoute *r = rv_http_routes(); r->method != NULL; r++) {
                g_autofree char *query = NULL;
                g_autoptr(RvTestResponse) read = NULL;
                if (r->auth != RV_HTTP_AUTH_QBT || r->body != RV_HTTP_BODY_FORM || r == rv_http_routes() ||
                    !g_str_equal(r[-1].method, "GET") || !g_str_equal(r[-1].pattern, r->pattern))
                        continue;
                /* a read, by POST */
                query = g_strdup_printf("hash=%s&rid=0", hash);
                read = api("POST", r->pattern + strlen("/api/v2/"), query);
                assert_status(read, 200, r->pattern);
                g_clear_pointer(&query, g_free);
                query = g_strdup_printf("%s?hash=%s", r->pattern + strlen("/api/v2/"), hash);
                g_clear_pointer(&read, rv_test_response_free);
                read = api("GET", query, NULL);
                assert_status(read, 200, r->pattern);
        }
        m = rv_test_http_get(&t, "/metrics", t.admin);
        text = g_bytes_get_data(m->body, NULL);
        for (const RvHttpRoute *r = rv_http_routes(); r->method != NULL; r++) {
                g_autofree char *seen = NULL;
                if (r->auth != RV_HTTP_AUTH_QBT)
                        continue;
                seen = g_strdup_printf("revaer_http_requests_total{method=\"%s\",route=\"%s\",code=\"", r->method,
                                       r->pattern);
                if (strstr(text, seen) == NULL)
                        g_error("%s %s was never called", r->method, r->pattern);
        }
}

static JsonObject *
maindata(guint64 rid)
{
        g_autofree char *path = g_strdup_printf("sync/maindata?rid=%" G_GUINT64_FORMAT, rid);
        g_autoptr(RvTestResponse) r = api("GET", path, NULL);

        assert_status(r, 200, "maindata");
        return json_object_ref(rv_test_response_object(r));
}

/* sync/maindata: everything, then only what changed since the rid */
static void
test_qbt_sync(void)
{
        g_autoptr(JsonObject) full = maindata(0);
        g_autoptr(JsonObject) delta = NULL;
        g_autoptr(JsonObject) quiet = NULL;
        g_autoptr(JsonObject) removed = NULL;
        g_autoptr(JsonObject) unknown = NULL;
        g_autofree char *hash = hash_of_only("?tag=b");
        g_autofree char *form = g_strdup_printf("hashes=%s&tags=synced", hash);
        g_autofree char *del = g_strdup_printf("hashes=%s&deleteFiles=false", hash);
        guint64 rid = (guint64)json_object_get_int_member(full, "rid");
        guint n = count_torrents();
        JsonObject *torrents;

        g_assert_true(json_object_get_boolean_member(full, "full_update"));
        g_assert_cmpuint(json_object_get_size(json_object_get_object_member(full, "torrents")), ==, n);
        g_assert_true(json_object_has_member(json_object_get_object_member(full, "categories"), "tv"));
        g_assert_true(json_object_has_member(full, "server_state"));
        g_assert_nonnull(json_object_get_array_member(full, "tags"));
        command_ok("addTags", form);
        delta = maindata(rid);
        /* as qBittorrent: a delta has no full_update, and nothing of what did not change */
        g_assert_false(json_object_has_member(delta, "full_update"));
        g_assert_false(json_object_has_member(delta, "torrents_removed"));
        torrents = json_object_get_object_member(delta, "torrents");
        g_assert_cmpuint(json_object_get_size(torrents), ==, 1);
        {
                /* only what changed: the tags, not the category, the name or the sizes */
                JsonObject *one = json_object_get_object_member(torrents, hash);
                g_assert_true(g_str_has_suffix(json_object_get_string_member(one, "tags"), "synced"));
                g_assert_false(json_object_has_member(one, "category"));
                g_assert_false(json_object_has_member(one, "name"));
                g_assert_false(json_object_has_member(one, "total_size"));
                g_assert_false(json_object_has_member(one, "added_on"));
        }
        g_assert_cmpuint(json_object_get_int_member(delta, "rid"), >, rid);
        rid = (guint64)json_object_get_int_member(delta, "rid");
        quiet = maindata(rid);
        g_assert_false(json_object_has_member(quiet, "full_update"));
        {
                /* nothing was asked for since: at most a late report of the engine about that torrent, never
                 * its labels again, never another torrent */
                JsonObject *since = json_object_has_member(quiet, "torrents")
                                            ? json_object_get_object_member(quiet, "torrents")
                                            : NULL;
                g_assert_true(since == NULL || json_object_get_size(since) == 1);
                if (since != NULL)
                        g_assert_false(json_object_has_member(json_object_get_object_member(since, hash), "tags"));
        }
        command_ok("delete", del);
        {
                /* the removal is announced once libtorrent has let go of the torrent */
                gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
                for (;;) {
                        removed = maindata(rid);
                        if (json_object_has_member(removed, "torrents_removed"))
                                break;
                        if (g_get_monotonic_time() > deadline)
                                g_error("no torrents_removed after a delete");
                        g_clear_pointer(&removed, json_object_unref);
                        g_usleep(20000);
                }
        }
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(removed, "torrents_removed")), ==, 1);
        g_assert_cmpstr(json_array_get_string_element(json_object_get_array_member(removed, "torrents_removed"), 0), ==,
                        hash);
        unknown = maindata(G_MAXINT64);
        g_assert_true(json_object_get_boolean_member(unknown, "full_update"));
        g_assert_cmpuint(json_object_get_size(json_object_get_object_member(unknown, "torrents")), ==, n - 1);
}

/* GET path as the wire has it (no decoding by the client): the body and the Content-Encoding */
static GBytes *
get_raw(const char *path, const char *accept, char **ret_encoding)
{
        g_autofree char *url = g_strconcat(t.base, path, NULL);
        g_autofree char *bearer = g_strdup_printf("Bearer %s", t.admin);
        g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
        g_autoptr(GError) error = NULL;
        SoupMessageHeaders *h = soup_message_get_request_headers(msg);
        GBytes *body;

        soup_message_disable_feature(msg, SOUP_TYPE_CONTENT_DECODER);
        soup_message_headers_replace(h, "Authorization", bearer);
        soup_message_headers_replace(h, "Accept-Encoding", accept);
        body = soup_session_send_and_read(t.session, msg, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
        *ret_encoding =
                g_strdup(soup_message_headers_get_one(soup_message_get_response_headers(msg), "Content-Encoding"));
        return body;
}

static GBytes *
gunzip(GBytes *data)
{
        g_autoptr(GZlibDecompressor) zlib = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
        g_autoptr(GInputStream) mem = g_memory_input_stream_new_from_bytes(data);
        g_autoptr(GInputStream) in = g_converter_input_stream_new(mem, G_CONVERTER(zlib));
        g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();

        g_assert_cmpint(g_output_stream_splice(out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, NULL), >, 0);
        return g_memory_output_stream_steal_as_bytes(G_MEMORY_OUTPUT_STREAM(out));
}

/* big answers of /api/v2 and /v1 are gzip when the client asks for it (web UIs, node's fetch), plain otherwise */
static void
test_qbt_gzip(void)
{
        const char *paths[] = { "/api/v2/torrents/info", "/v1/torrents?fields=all" };

        for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
                g_autofree char *enc_packed = NULL;
                g_autofree char *enc_plain = NULL;
                g_autofree char *enc_refused = NULL;
                g_autoptr(GBytes) packed = get_raw(paths[i], "gzip, deflate", &enc_packed);
                g_autoptr(GBytes) plain = get_raw(paths[i], "identity", &enc_plain);
                g_autoptr(GBytes) refused = get_raw(paths[i], "gzip;q=0", &enc_refused);
                g_autoptr(GBytes) unpacked = NULL;
                g_assert_cmpuint(g_bytes_get_size(plain), >=, 1024);
                g_assert_cmpstr(enc_packed, ==, "gzip");
                g_assert_null(enc_plain);
                g_assert_null(enc_refused);
                g_assert_cmpuint(g_bytes_get_size(packed), <, g_bytes_get_size(plain));
                unpacked = gunzip(packed);
                g_assert_true(g_bytes_equal(unpacked, plain));
        }
}

/* the categories as stored: the embedded store's settings file, read while the address is banned */
static gboolean
stored_category(const char *name)
{
        g_autofree char *path = g_build_filename(t.h.state, "settings.json", NULL);
        g_autofree char *text = NULL;
        g_autofree char *quoted = g_strdup_printf("\"%s\"", name);

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_assert_nonnull(strstr(text, "\"categories\""));
        return strstr(text, quoted) != NULL;
}

/* wrong passwords past the limit: the address is refused for a while, even with the right one;
 * sessions made before the ban keep working, as in qbittorrent-nox (behind a reverse proxy every
 * client has the same address) */
static void
test_qbt_ban(void)
{
        guint tries = 0;

        g_assert_true(stored_category("tv"));
        for (;;) {
                g_autoptr(RvTestResponse) r = rv_test_http_request(&t, "POST", "/api/v2/auth/login", NULL, FORM,
                                                                   "username=sonarr&password=guess", NULL);
                if (r->status == 403)
                        break;
                assert_status(r, 200, "a wrong password");
                g_assert_cmpstr(text_of(r), ==, "Fails.");
                tries++;
                g_assert_cmpuint(tries, <=, AUTH_FAILURES);
        }
        {
                g_autoptr(RvTestResponse) r = rv_test_http_request(&t, "POST", "/api/v2/auth/login", NULL, FORM,
                                                                   "username=sonarr&password=s3cret", NULL);
                g_autoptr(RvTestResponse) add = api_cookie("POST", "torrents/createCategory", "category=late", cookie);
                g_autoptr(RvTestResponse) bearer = api("POST", "torrents/createCategory", "category=later");
                g_autoptr(RvTestResponse) none = api_cookie("GET", "torrents/info", NULL, "SID=unknown");
                g_autoptr(RvTestResponse) v1 = rv_test_http_get(&t, "/v1/torrents", t.admin);
                assert_status(r, 403, "login after the ban");
                g_assert_null(soup_message_headers_get_one(r->headers, "Set-Cookie"));
                assert_status(add, 200, "a session made before the ban");
                assert_status(bearer, 403, "a Bearer key from a banned address");
                assert_status(none, 403, "an unknown session from a banned address");
                /* one count of failures for the address, whatever the API */
                assert_status(v1, 429, "/v1 from a banned address");
        }
        g_assert_true(stored_category("late"));
        g_assert_false(stored_category("later"));
        g_assert_true(stored_category("tv"));
}

int
main(int argc, char **argv)
{
        g_autofree char *extra = g_strdup_printf("auth-failures=%d\n", AUTH_FAILURES);
        int status;

        g_test_init(&argc, &argv, NULL);
        rv_test_http_start(&t, extra, TRUE);
        g_test_add_func("/qbt/login", test_qbt_login);
        g_test_add_func("/qbt/session-expiry", test_qbt_session_expiry);
        g_test_add_func("/qbt/app", test_qbt_app);
        g_test_add_func("/qbt/categories", test_qbt_categories);
        g_test_add_func("/qbt/add", test_qbt_add);
        g_test_add_func("/qbt/add-form", test_qbt_add_form);
        g_test_add_func("/qbt/commands", test_qbt_commands);
        g_test_add_func("/qbt/download", test_qbt_download);
        g_test_add_func("/qbt/force-start", test_qbt_force_start);
        g_test_add_func("/qbt/skip-checking", test_qbt_skip_checking);
        g_test_add_func("/qbt/add-url", test_qbt_add_url);
        g_test_add_func("/qbt/rename", test_qbt_rename);
        g_test_add_func("/qbt/content-layout", test_qbt_content_layout);
        g_test_add_func("/qbt/trackers", test_qbt_trackers);
        g_test_add_func("/qbt/every-route", test_qbt_every_route);
        g_test_add_func("/qbt/sync", test_qbt_sync);
        g_test_add_func("/qbt/gzip", test_qbt_gzip);
        g_test_add_func("/qbt/ban", test_qbt_ban);
        status = g_test_run();
        rv_test_http_stop(&t);
        g_free(cookie);
        g_free(tv_path);
        return status;
}
