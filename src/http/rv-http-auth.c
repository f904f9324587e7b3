/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-http"

#include "config.h"

#include <math.h>
#include <string.h>

#include "rv-http-private.h"
#include "rv-qbt.h"

/*
 * who is asking, and may they: the key (Authorization: Bearer key_id:secret,
 * or X-API-Key) is checked against the stored hashes in constant time
 * (rv_access_verify), its scope against the route's operation (the one
 * table that also gives polkit its actions), and its token bucket; wrong
 * keys count against the client's address, which is refused for a while
 * after too many
 */

static double
rv_http_bucket_rate(const RvHttpBucket *b)
{
        return (double)b->burst / (double)b->period_s;
}

/*
 * takes a token when there is one; the X-RateLimit-* figures either way; a
 * key without a limit of its own has the server's ([http] rate-limit per second)
 */
static gboolean
rv_http_bucket_take(RvHttp *http, RvHttpRequest *req, const RvStoreApiKey *key, guint *ret_retry_s)
{
        RvHttpBucket *b = g_hash_table_lookup(http->buckets, key->key_id);
        guint burst = key->burst > 0 ? key->burst : http->rate_limit;
        guint period_s = key->burst > 0 ? key->period_s : 1;
        gint64 now = g_get_monotonic_time();
        gboolean ok;
        double rate;

        if (b == NULL || b->burst != burst || b->period_s != period_s) {
                /* a new key, or new limits: a full bucket */
                b = g_new0(RvHttpBucket, 1);
                b->burst = burst;
                b->period_s = period_s;
                b->tokens = burst;
                b->updated_us = now;
                g_hash_table_replace(http->buckets, g_strdup(key->key_id), b);
        }
        rate = rv_http_bucket_rate(b);
        b->tokens = MIN((double)b->burst, b->tokens + rate * (double)(now - b->updated_us) / G_USEC_PER_SEC);
        b->updated_us = now;
        ok = b->tokens >= 1.0;
        if (ok)
                b->tokens -= 1.0;
        req->rate_limit = b->burst;
        req->rate_remaining = (guint)floor(b->tokens);
        req->rate_reset_s = (guint)ceil(((double)b->burst - b->tokens) / rate);
        *ret_retry_s = ok ? 0 : MAX((guint)ceil((1.0 - b->tokens) / rate), 1);
        return ok;
}

void
rv_http_auth_forget_key(RvHttp *http, const char *key_id)
{
        g_hash_table_remove(http->buckets, key_id);
}

static void rv_http_failures_record(RvHttp *http, const char *client);

/* too many wrong keys from this address lately: seconds until it may try again, else 0 */
static guint
rv_http_failures_blocked(RvHttp *http, const char *client)
{
        RvHttpFailures *f = g_hash_table_lookup(http->failures, client);
        gint64 now = g_get_monotonic_time();
        gint64 end;

        if (f == NULL)
                return 0;
        end = f->window_start_us + (gint64)RV_HTTP_AUTH_WINDOW_S * G_USEC_PER_SEC;
        if (now >= end) {
                g_hash_table_remove(http->failures, client);
                return 0;
        }
        if (f->failures < http->auth_failure_limit)
                return 0;
        return (guint)((end - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

guint
rv_http_auth_blocked(RvHttp *http, RvHttpRequest *req)
{
        return rv_http_failures_blocked(http, req->client);
}

static gboolean
rv_http_failures_expired(gpointer key, gpointer value, gpointer user_data)
{
        const RvHttpFailures *f = value;

        return *(gint64 *)user_data - f->window_start_us >= (gint64)RV_HTTP_AUTH_WINDOW_S * G_USEC_PER_SEC;
}

void
rv_http_auth_record_failure(RvHttp *http, RvHttpRequest *req)
{
        rv_http_failures_record(http, req->client);
}

static void
rv_http_failures_record(RvHttp *http, const char *client)
{
        RvHttpFailures *f = g_hash_table_lookup(http->failures, client);
        gint64 now = g_get_monotonic_time();

        if (f == NULL) {
                /* bounded: expired entries go first, and if that is not enough, the oldest knowledge goes */
                if (g_hash_table_size(http->failures) >= RV_HTTP_MAX_TRACKED_ADDRESSES)
                        g_hash_table_foreach_remove(http->failures, rv_http_failures_expired, &now);
                if (g_hash_table_size(http->failures) >= RV_HTTP_MAX_TRACKED_ADDRESSES)
                        g_hash_table_remove_all(http->failures);
                f = g_new0(RvHttpFailures, 1);
                f->window_start_us = now;
                g_hash_table_replace(http->failures, g_strdup(client), f);
        }
        f->failures++;
        http->auth_failed++;
}

/* the key a request carries: Bearer first, then X-API-Key */
static const char *
rv_http_auth_token(RvHttpRequest *req)
{
        const char *authorization = rv_http_request_header(req, "Authorization");
        const char *api_key = rv_http_request_header(req, "X-API-Key");

        if (authorization != NULL) {
                if (g_ascii_strncasecmp(authorization, "Bearer ", 7) != 0)
                        return "";
                authorization += 7;
                while (*authorization == ' ')
                        authorization++;
                return authorization;
        }
        return api_key;
}

static void
rv_http_auth_refuse(RvHttpRequest *req, const char *error_code, const char *detail)
{
        g_autofree char *challenge = error_code != NULL
                                             ? g_strdup_printf("Bearer realm=\"revaer\", error=\"%s\"", error_code)
                                             : g_strdup("Bearer realm=\"revaer\"");

        soup_message_headers_replace(soup_server_message_get_response_headers(req->msg), "WWW-Authenticate", challenge);
        rv_http_respond_problem(req, SOUP_STATUS_UNAUTHORIZED, "unauthorized", detail, NULL);
}

static void
rv_http_auth_too_many(RvHttpRequest *req, guint retry_s, const char *detail)
{
        g_autofree char *retry = g_strdup_printf("%u", retry_s);

        soup_message_headers_replace(soup_server_message_get_response_headers(req->msg), "Retry-After", retry);
        rv_http_respond_problem(req, 429, rv_error_to_problem_slug(RV_ERROR_RATE_LIMITED), detail, NULL);
}

gboolean
rv_http_auth_accept_key(RvHttp *http, RvHttpRequest *req, const RvStoreApiKey *key)
{
        guint retry_s = 0;

        req->authenticated = TRUE;
        req->scope = rv_access_key_scope(key);
        req->caller.transport = req->route->auth == RV_HTTP_AUTH_QBT ? RV_TRANSPORT_QBITTORRENT : RV_TRANSPORT_HTTP;
        g_free(req->caller.key_id);
        req->caller.key_id = g_strdup(key->key_id);
        g_free(req->caller.actor);
        req->caller.actor = g_strdup_printf("key:%s", key->key_id);
        if (!rv_http_bucket_take(http, req, key, &retry_s)) {
                http->rate_limited++;
                rv_http_auth_too_many(req, retry_s, "this key's rate limit is used up for now");
                return FALSE;
        }
        return TRUE;
}

static gboolean
rv_http_auth_key(RvHttp *http, RvHttpRequest *req)
{
        const char *token = rv_http_auth_token(req);
        const RvStoreApiKey *key;
        RvScope needed = rv_op_scope(req->route->op);
        guint retry_s = rv_http_failures_blocked(http, req->client);

        if (retry_s > 0) {
                http->rate_limited++;
                rv_http_auth_too_many(req, retry_s, "too many failed authentications from this address");
                return FALSE;
        }
        if (http->access == NULL) {
                rv_http_respond_problem(req, SOUP_STATUS_SERVICE_UNAVAILABLE, "service-unavailable",
                                        "the API keys are not loaded yet", NULL);
                return FALSE;
        }
        if (token == NULL) {
                if (rv_access_in_setup(http->access))
                        rv_http_respond_problem(req, rv_error_to_http_status(RV_ERROR_SETUP_REQUIRED),
                                                rv_error_to_problem_slug(RV_ERROR_SETUP_REQUIRED),
                                                "no API key exists yet: POST /v1/setup/start from this machine, "
                                                "then /v1/setup/complete",
                                                NULL);
                else
                        rv_http_auth_refuse(req, NULL, "an API key is needed (Authorization: Bearer KEY_ID:SECRET)");
                return FALSE;
        }
        key = rv_access_verify_token(http->access, token);
        if (key == NULL) {
                rv_http_failures_record(http, req->client);
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "REVAER_REQUEST_ID", req->request_id, "REVAER_CLIENT",
                                 req->client, "MESSAGE", "HTTP %s %s: wrong API key from %s", req->method, req->path,
                                 req->client);
                rv_http_auth_refuse(req, "invalid_token", "the API key is wrong, revoked or malformed");
                return FALSE;
        }
        if (!rv_http_auth_accept_key(http, req, key))
                return FALSE;
        if (!rv_scope_allows(req->scope, needed)) {
                g_autofree char *detail = g_strdup_printf("the key's scope '%s' does not cover %s (it needs '%s')",
                                                          rv_scope_to_string(req->scope),
                                                          rv_op_to_string(req->route->op), rv_scope_to_string(needed));
                rv_http_respond_problem(req, rv_error_to_http_status(RV_ERROR_ACCESS_DENIED),
                                        rv_error_to_problem_slug(RV_ERROR_ACCESS_DENIED), detail, NULL);
                return FALSE;
        }
        return TRUE;
}

gboolean
rv_http_auth_check(RvHttp *http, RvHttpRequest *req)
{
        guint retry_s;

        switch (req->route->auth) {
        case RV_HTTP_AUTH_NONE:
                return TRUE;
        case RV_HTTP_AUTH_TOKEN:
                retry_s = rv_http_failures_blocked(http, req->client);
                if (retry_s == 0)
                        return TRUE;
                http->rate_limited++;
                rv_http_auth_too_many(req, retry_s, "too many failed authentications from this address");
                return FALSE;
        case RV_HTTP_AUTH_LOOPBACK:
                if (req->client_loopback)
                        return TRUE;
                rv_http_respond_problem(req, rv_error_to_http_status(RV_ERROR_ACCESS_DENIED),
                                        rv_error_to_problem_slug(RV_ERROR_ACCESS_DENIED),
                                        "the setup token is handed out on the loopback interface only", NULL);
                return FALSE;
        case RV_HTTP_AUTH_QBT:
                return rv_qbt_auth_check(http, req);
        case RV_HTTP_AUTH_KEY:
        default:
                return rv_http_auth_key(http, req);
        }
}
