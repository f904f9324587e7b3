/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-http"

#include "config.h"

#include <string.h>

#include "rv-password.h"
#include "rv-qbt.h"

/*
 * Who may use the WebAPI: a session from auth/login (the WebAPI user's
 * password, or any API key of scope manage or more given as the password),
 * or an API key as "Authorization: Bearer" (qBittorrent 5.2's API keys).
 * As qBittorrent: a request whose Origin or Referer names another host than
 * the one it was sent to is refused (cross-site request forgery), wrong
 * passwords count against the address (the same count as wrong keys on
 * /v1) and past the limit the address is refused for a while, sessions
 * expire after /app/webapi_session_timeout seconds without a request.
 */

#define RV_QBT_BANNED "Your IP address has been banned after too many failed authentication attempts."

void
rv_qbt_session_free(RvQbtSession *session)
{
        if (session == NULL)
                return;
        g_free(session->actor);
        g_free(session->key_id);
        g_free(session->server_state);
        g_free(session);
}

static gint64
rv_qbt_session_lifetime_us(RvHttp *http)
{
        JsonNode *doc = http->settings != NULL ? rv_live_settings_get_document(http->settings) : NULL;

        return rv_settings_get_int(doc, "app", "webapi_session_timeout", 3600) * G_USEC_PER_SEC;
}

/* "host:port" of a URL against the Host header (a missing port is the scheme's) */
static gboolean
rv_qbt_same_host(const char *url, const char *host_header)
{
        g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
        g_autoptr(GUri) host = NULL;
        g_autofree char *as_url = NULL;
        int port;
        int host_port;

        if (uri == NULL || g_uri_get_host(uri) == NULL || host_header == NULL)
                return FALSE;
        as_url = g_strdup_printf("%s://%s/", g_uri_get_scheme(uri), host_header);
        host = g_uri_parse(as_url, G_URI_FLAGS_NONE, NULL);
        if (host == NULL || g_ascii_strcasecmp(g_uri_get_host(uri), g_uri_get_host(host)) != 0)
                return FALSE;
        port = g_uri_get_port(uri);
        host_port = g_uri_get_port(host);
        if (port == -1)
                port = g_str_equal(g_uri_get_scheme(uri), "https") ? 443 : 80;
        if (host_port == -1)
                host_port = g_str_equal(g_uri_get_scheme(uri), "https") ? 443 : 80;
        return port == host_port;
}

static gboolean
rv_qbt_csrf_ok(RvHttpRequest *req)
{
        const char *host = rv_http_request_header(req, "Host");
        const char *origin = rv_http_request_header(req, "Origin");
        const char *referer = rv_http_request_header(req, "Referer");

        if (origin != NULL && !rv_qbt_same_host(origin, host))
                return FALSE;
        return referer == NULL || rv_qbt_same_host(referer, host);
}

static char *
rv_qbt_cookie_sid(RvHttpRequest *req)
{
        const char *header = rv_http_request_header(req, "Cookie");
        g_auto(GStrv) cookies = header != NULL ? g_strsplit(header, ";", 64) : NULL;

        for (guint i = 0; cookies != NULL && cookies[i] != NULL; i++) {
                char *c = g_strstrip(cookies[i]);
                if (g_str_has_prefix(c, RV_QBT_COOKIE "="))
                        return g_strdup(c + strlen(RV_QBT_COOKIE "="));
        }
        return NULL;
}

/* the session of the request's cookie, extended; NULL when there is none or it expired */
static RvQbtSession *
rv_qbt_session_find(RvHttp *http, RvHttpRequest *req)
{
        g_autofree char *sid = rv_qbt_cookie_sid(req);
        RvQbtSession *session = sid != NULL ? g_hash_table_lookup(http->qbt->sessions, sid) : NULL;
        gint64 now = g_get_monotonic_time();

        if (session == NULL)
                return NULL;
        if (session->expires_us <= now) {
                g_hash_table_remove(http->qbt->sessions, sid);
                return NULL;
        }
        session->expires_us = now + rv_qbt_session_lifetime_us(http);
        return session;
}

static gboolean
rv_qbt_refuse(RvHttpRequest *req, guint status, const char *text)
{
        rv_qbt_respond_text(req, status, text);
        return FALSE;
}

/* Authorization: Bearer KEY_ID:SECRET, as qBittorrent 5.2 takes its API keys */
static gboolean
rv_qbt_auth_bearer(RvHttp *http, RvHttpRequest *req, const char *authorization)
{
        const char *token = authorization + 7;
        const RvStoreApiKey *key;

        while (*token == ' ')
                token++;
        key = http->access != NULL ? rv_access_verify_token(http->access, token) : NULL;
        if (key == NULL) {
                rv_http_auth_record_failure(http, req);
                return rv_qbt_refuse(req, SOUP_STATUS_FORBIDDEN, "Forbidden");
        }
        return rv_http_auth_accept_key(http, req, key);
}

gboolean
rv_qbt_auth_check(RvHttp *http, RvHttpRequest *req)
{
        const char *authorization = rv_http_request_header(req, "Authorization");
        RvQbtSession *session;

        if (!rv_qbt_csrf_ok(req))
                return rv_qbt_refuse(req, SOUP_STATUS_UNAUTHORIZED, "Unauthorized");
        /* as qbittorrent-nox: a banned address may not try credentials (a login or a Bearer
         * key), but its sessions made before keep working; behind a reverse proxy every client
         * has the same address, and one client's wrong password must not log out the others */
        session = req->route->op != RV_OP_LOGIN ? rv_qbt_session_find(http, req) : NULL;
        if (session == NULL && rv_http_auth_blocked(http, req) > 0)
                return rv_qbt_refuse(req, SOUP_STATUS_FORBIDDEN, RV_QBT_BANNED);
        /* the login checks what it is given itself */
        if (req->route->op == RV_OP_LOGIN)
                return TRUE;
        if (session == NULL && authorization != NULL && g_ascii_strncasecmp(authorization, "Bearer ", 7) == 0) {
                if (!rv_qbt_auth_bearer(http, req, authorization))
                        return FALSE;
        } else if (session != NULL) {
                req->qbt_session = session;
                req->authenticated = TRUE;
                req->scope = session->scope;
                req->caller.transport = RV_TRANSPORT_QBITTORRENT;
                req->caller.key_id = g_strdup(session->key_id);
                req->caller.actor = g_strdup(session->actor);
        } else {
                /* 403, not 401: the *arr probe reads 403 as "WebAPI v2, log in first" */
                return rv_qbt_refuse(req, SOUP_STATUS_FORBIDDEN, "Forbidden");
        }
        if (!rv_scope_allows(req->scope, rv_op_scope(req->route->op)))
                return rv_qbt_refuse(req, SOUP_STATUS_FORBIDDEN, "Forbidden");
        return TRUE;
}

/* auth/login */

static gboolean
rv_qbt_session_expired(gpointer key, gpointer value, gpointer user_data)
{
        const RvQbtSession *session = value;

        return session->expires_us <= *(gint64 *)user_data;
}

static void
rv_qbt_login_ok(RvHttpRequest *req, RvScope scope, const char *actor, const char *key_id)
{
        RvQbt *qbt = req->http->qbt;
        RvQbtSession *session = g_new0(RvQbtSession, 1);
        gint64 now = g_get_monotonic_time();
        guint8 raw[24];
        g_autofree char *sid = NULL;
        g_autofree char *cookie = NULL;

        for (guint i = 0; i < sizeof(raw); i += 4) {
                guint32 r = g_random_int();
                memcpy(raw + i, &r, 4);
        }
        sid = g_base64_encode(raw, sizeof(raw));
        /* a cookie value without '+', '/' and '=' */
        g_strcanon(sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 'x');
        if (g_hash_table_size(qbt->sessions) >= RV_QBT_MAX_SESSIONS)
                g_hash_table_foreach_remove(qbt->sessions, rv_qbt_session_expired, &now);
        if (g_hash_table_size(qbt->sessions) >= RV_QBT_MAX_SESSIONS)
                g_hash_table_remove_all(qbt->sessions);
        session->scope = scope;
        session->actor = g_strdup(actor);
        session->key_id = g_strdup(key_id);
        session->expires_us = now + rv_qbt_session_lifetime_us(req->http);
        g_hash_table_replace(qbt->sessions, g_strdup(sid), session);
        cookie = g_strdup_printf(RV_QBT_COOKIE "=%s; HttpOnly; SameSite=Strict; path=/", sid);
        soup_message_headers_append(soup_server_message_get_response_headers(req->msg), "Set-Cookie", cookie);
        g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "REVAER_REQUEST_ID", req->request_id, "REVAER_CLIENT",
                         req->client, "MESSAGE", "WebAPI login of %s from %s", actor, req->client);
        rv_qbt_respond_text(req, SOUP_STATUS_OK, "Ok.");
}

static void
rv_qbt_login_failed(RvHttpRequest *req)
{
        rv_http_auth_record_failure(req->http, req);
        g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "REVAER_REQUEST_ID", req->request_id, "REVAER_CLIENT",
                         req->client, "MESSAGE", "WebAPI login failed from %s", req->client);
        rv_qbt_respond_text(req, SOUP_STATUS_OK, "Fails.");
}

typedef struct {
        RvHttpRequest *req;
        char *stored;
        char *password;
        char *user;
} RvQbtLogin;

static void
rv_qbt_login_free(RvQbtLogin *login)
{
        g_free(login->stored);
        if (login->password != NULL)
                memset(login->password, 0, strlen(login->password));
        g_free(login->password);
        g_free(login->user);
        g_free(login);
}

/* PBKDF2 is slow on purpose: off the main loop */
static void
rv_qbt_verify_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
        RvQbtLogin *login = task_data;

        g_task_return_boolean(task, rv_password_verify(login->stored, login->password));
}

static void
rv_qbt_verified_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvQbtLogin *login = g_task_get_task_data(G_TASK(result));
        RvHttpRequest *req = login->req;
        g_autofree char *actor = g_strdup_printf("webapi:%s", login->user);

        if (g_task_propagate_boolean(G_TASK(result), NULL))
                rv_qbt_login_ok(req, RV_SCOPE_CONFIGURE, actor, NULL);
        else
                rv_qbt_login_failed(req);
        rv_http_request_unref(req);
}

void
rv_qbt_auth_login(RvHttpRequest *req)
{
        const char *user = rv_qbt_param(req, "username");
        const char *password = rv_qbt_param(req, "password");
        JsonNode *doc = rv_qbt_settings(req);
        const char *want_user = doc != NULL ? rv_settings_get_string(doc, "app", "webapi_username") : NULL;
        const char *stored = doc != NULL ? rv_settings_get_string(doc, "app", "webapi_password") : NULL;
        const RvStoreApiKey *key;
        RvQbtLogin *login;
        g_autoptr(GTask) task = NULL;

        if (user == NULL || password == NULL) {
                rv_qbt_login_failed(req);
                return;
        }
        /* an API key as the password: its scope, if it may manage torrents */
        key = req->http->access != NULL && strchr(password, ':') != NULL
                      ? rv_access_verify_token(req->http->access, password)
                      : NULL;
        if (key != NULL && rv_scope_allows(rv_access_key_scope(key), RV_SCOPE_MANAGE)) {
                g_autofree char *actor = g_strdup_printf("key:%s", key->key_id);
                rv_qbt_login_ok(req, rv_access_key_scope(key), actor, key->key_id);
                return;
        }
        if (want_user == NULL || stored == NULL || !g_str_equal(want_user, user)) {
                rv_qbt_login_failed(req);
                return;
        }
        login = g_new0(RvQbtLogin, 1);
        login->req = rv_http_request_pause(req);
        login->stored = g_strdup(stored);
        login->password = g_strdup(password);
        login->user = g_strdup(user);
        task = g_task_new(NULL, NULL, rv_qbt_verified_cb, NULL);
        g_task_set_task_data(task, login, (GDestroyNotify)rv_qbt_login_free);
        g_task_run_in_thread(task, rv_qbt_verify_thread);
}

void
rv_qbt_auth_logout(RvHttpRequest *req)
{
        g_autofree char *sid = rv_qbt_cookie_sid(req);

        if (sid != NULL)
                g_hash_table_remove(req->http->qbt->sessions, sid);
        rv_qbt_respond_ok(req);
}
