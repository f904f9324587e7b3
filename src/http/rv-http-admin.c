/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-http"

#include "config.h"

#include <string.h>

#include "rv-http-private.h"
#include "rv-json.h"
#include "rv-settings.h"
#include "rv-validate.h"

/*
 * settings (with revisions and If-Match), setup, keys and health: thin
 * over RvLiveSettings and RvAccess, which validate, store and apply
 */

#define RV_HTTP_HISTORY_DEFAULT 50
#define RV_HTTP_HISTORY_MAX 1000
/* how long /health/full waits for a component before calling it unavailable */
#define RV_HTTP_PROBE_TIMEOUT_MS 2000

static gboolean
rv_http_need_settings(RvHttpRequest *req)
{
        if (req->http->settings != NULL)
                return TRUE;
        rv_http_respond_problem(req, SOUP_STATUS_SERVICE_UNAVAILABLE, "service-unavailable",
                                "the settings are not loaded yet", NULL);
        return FALSE;
}

static gboolean
rv_http_need_access(RvHttpRequest *req)
{
        if (req->http->access != NULL)
                return TRUE;
        rv_http_respond_problem(req, SOUP_STATUS_SERVICE_UNAVAILABLE, "service-unavailable",
                                "the API keys are not loaded yet", NULL);
        return FALSE;
}

/* the section the path names: 404 otherwise */
static const char *
rv_http_section(RvHttpRequest *req)
{
        for (guint i = 0; RV_SETTINGS_SECTIONS[i] != NULL; i++) {
                if (g_strcmp0(RV_SETTINGS_SECTIONS[i], req->params[0]) == 0)
                        return RV_SETTINGS_SECTIONS[i];
        }
        {
                g_autofree char *detail =
                        g_strdup_printf("no settings section '%.64s' (app, engine, fs)", req->params[0]);
                rv_http_respond_problem(req, SOUP_STATUS_NOT_FOUND, "not-found", detail, NULL);
        }
        return NULL;
}

/* what a client needs to write a setting: its type in JSON terms, and whether it may be written */
static const char *
rv_http_setting_type(const RvSettingDesc *desc)
{
        gboolean nullable = g_str_equal(desc->default_json, "null");

        switch (desc->type) {
        case RV_SETTING_BOOL:
                return "boolean";
        case RV_SETTING_INT:
                return nullable ? "integer_or_null" : "integer";
        case RV_SETTING_INT_OR_NULL:
                return "integer_or_null";
        case RV_SETTING_DOUBLE:
                return "number";
        case RV_SETTING_GLOBS:
        case RV_SETTING_PATHS:
        case RV_SETTING_STRINGS:
                return "list";
        default:
                return nullable ? "string_or_null" : "string";
        }
}

static void
rv_http_section_fields(JsonBuilder *b, const char *section)
{
        json_builder_set_member_name(b, "fields");
        json_builder_begin_object(b);
        for (const RvSettingDesc *d = rv_settings_fields(); d->name != NULL; d++) {
                if (!g_str_equal(d->section, section))
                        continue;
                json_builder_set_member_name(b, d->name);
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "type");
                json_builder_add_string_value(b, rv_http_setting_type(d));
                json_builder_set_member_name(b, "read_only");
                json_builder_add_boolean_value(b, d->read_only);
                json_builder_set_member_name(b, "description");
                json_builder_add_string_value(b, d->description != NULL ? d->description : "");
                json_builder_end_object(b);
        }
        json_builder_end_object(b);
}

static void
rv_http_respond_section(RvHttpRequest *req, guint status, const char *section)
{
        JsonNode *doc = rv_live_settings_get_document(req->http->settings);
        guint64 revision = rv_live_settings_get_revision(req->http->settings);
        JsonObject *values = rv_json_object_get_object(json_node_get_object(doc), section);
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *etag = g_strdup_printf("\"%" G_GUINT64_FORMAT "\"", revision);

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "section");
        json_builder_add_string_value(b, section);
        json_builder_set_member_name(b, "revision");
        json_builder_add_int_value(b, (gint64)revision);
        json_builder_set_member_name(b, "values");
        json_builder_add_value(
                b, values != NULL ? rv_json_deep_copy(json_object_get_member(json_node_get_object(doc), section))
                                  : rv_json_node_take_object(json_object_new()));
        rv_http_section_fields(b, section);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        soup_message_headers_replace(soup_server_message_get_response_headers(req->msg), "ETag", etag);
        rv_http_respond_json(req, status, root);
}

void
rv_http_settings_get(RvHttpRequest *req)
{
        const char *section = rv_http_need_settings(req) ? rv_http_section(req) : NULL;

        if (section != NULL)
                rv_http_respond_section(req, SOUP_STATUS_OK, section);
}

/* If-Match: "12", 12, W/"12" or *; ret 0 for none or * */
static gboolean
rv_http_if_match(RvHttpRequest *req, guint64 *ret_revision)
{
        const char *value = rv_http_request_header(req, "If-Match");
        g_autofree char *text = NULL;
        guint64 revision = 0;

        *ret_revision = 0;
        if (value == NULL || g_str_equal(value, "*"))
                return TRUE;
        text = g_strdup(g_str_has_prefix(value, "W/") ? value + 2 : value);
        g_strstrip(text);
        if (text[0] == '"' && strlen(text) >= 2 && text[strlen(text) - 1] == '"') {
                memmove(text, text + 1, strlen(text) - 2);
                text[strlen(text) - 2] = '\0';
        }
        if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXUINT64, &revision, NULL)) {
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                                        "If-Match: expected the settings revision as an entity tag (\"12\")",
                                        "If-Match");
                return FALSE;
        }
        *ret_revision = revision;
        return TRUE;
}

typedef struct {
        RvHttpRequest *req;
        const char *section;
        gboolean conditional;
} RvHttpSettingsWrite;

static void
rv_http_settings_updated_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvHttpSettingsWrite *w = user_data;
        g_autoptr(RvHttpRequest) req = w->req;
        g_autoptr(GError) error = NULL;

        (void)rv_live_settings_update_finish(RV_LIVE_SETTINGS(source), result, &error);
        if (error != NULL && w->conditional && g_error_matches(error, RV_ERROR, RV_ERROR_CONFLICT))
                rv_http_respond_problem(req, SOUP_STATUS_PRECONDITION_FAILED, "precondition-failed", error->message,
                                        "If-Match");
        else if (error != NULL)
                rv_http_respond_error(req, error);
        else if (req->http->settings != NULL)
                rv_http_respond_section(req, SOUP_STATUS_OK, w->section);
        g_free(w);
}

/* the body's members are fields of the section; each becomes "/section/name" */
JsonNode *
rv_http_settings_patch_from(const char *section, JsonObject *obj, GError **error)
{
        JsonObject *patch = json_object_new();
        JsonObjectIter iter;
        const char *name;
        JsonNode *value;

        json_object_iter_init(&iter, obj);
        while (json_object_iter_next(&iter, &name, &value)) {
                const RvSettingDesc *desc = rv_settings_find(section, name);
                if (desc == NULL) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "/%s/%.64s: unknown setting", section,
                                    name);
                        json_object_unref(patch);
                        return NULL;
                }
                json_object_set_member(patch, desc->pointer, json_node_copy(value));
        }
        return rv_json_node_take_object(patch);
}

void
rv_http_settings_patch(RvHttpRequest *req)
{
        const char *section = rv_http_need_settings(req) ? rv_http_section(req) : NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) patch = NULL;
        g_autofree char *reason = NULL;
        RvHttpSettingsWrite *w;
        JsonObject *obj;
        guint64 expected = 0;

        if (section == NULL || !rv_http_if_match(req, &expected))
                return;
        obj = rv_http_request_json_object(req, &error);
        if (obj == NULL || (patch = rv_http_settings_patch_from(section, obj, &error)) == NULL) {
                rv_http_respond_error(req, error);
                return;
        }
        if (expected != 0 && expected != rv_live_settings_get_revision(req->http->settings)) {
                g_autofree char *detail =
                        g_strdup_printf("the settings are at revision %" G_GUINT64_FORMAT ", not %" G_GUINT64_FORMAT,
                                        rv_live_settings_get_revision(req->http->settings), expected);
                rv_http_respond_problem(req, SOUP_STATUS_PRECONDITION_FAILED, "precondition-failed", detail,
                                        "If-Match");
                return;
        }
        w = g_new0(RvHttpSettingsWrite, 1);
        w->req = rv_http_request_pause(req);
        w->section = section;
        w->conditional = expected != 0;
        reason = g_strdup_printf("PATCH /v1/settings/%s", section);
        rv_live_settings_update_if_async(req->http->settings, expected, patch, req->caller.actor, reason, NULL,
                                         rv_http_settings_updated_cb, w);
}

/* does a history entry touch the section ("/engine/...") */
static gboolean
rv_http_history_touches(const RvStoreHistoryEntry *e, const char *section)
{
        g_autofree char *prefix = g_strdup_printf("/%s/", section);
        JsonObjectIter iter;
        const char *pointer;

        if (e->changes == NULL || !JSON_NODE_HOLDS_OBJECT(e->changes))
                return FALSE;
        json_object_iter_init(&iter, json_node_get_object(e->changes));
        while (json_object_iter_next(&iter, &pointer, NULL)) {
                if (g_str_has_prefix(pointer, prefix))
                        return TRUE;
        }
        return FALSE;
}

typedef struct {
        RvHttpRequest *req;
        const char *section;
        guint limit;
} RvHttpHistory;

static void
rv_http_history_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvHttpHistory *h = user_data;
        g_autoptr(RvHttpRequest) req = h->req;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) entries = rv_live_settings_history_finish(NULL, result, &error);
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) root = NULL;
        guint n = 0;

        if (entries == NULL) {
                rv_http_respond_error(req, error);
                g_free(h);
                return;
        }
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "section");
        json_builder_add_string_value(b, h->section);
        json_builder_set_member_name(b, "entries");
        json_builder_begin_array(b);
        for (guint i = 0; i < entries->len && n < h->limit; i++) {
                RvStoreHistoryEntry *e = g_ptr_array_index(entries, i);
                g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(e->timestamp / G_USEC_PER_SEC);
                g_autofree char *time = dt != NULL ? g_date_time_format_iso8601(dt) : g_strdup("");
                if (!rv_http_history_touches(e, h->section))
                        continue;
                n++;
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "revision");
                json_builder_add_int_value(b, (gint64)e->revision);
                json_builder_set_member_name(b, "time");
                json_builder_add_string_value(b, time);
                json_builder_set_member_name(b, "actor");
                json_builder_add_string_value(b, e->actor != NULL ? e->actor : "");
                json_builder_set_member_name(b, "reason");
                json_builder_add_string_value(b, e->reason != NULL ? e->reason : "");
                json_builder_set_member_name(b, "changes");
                json_builder_add_value(b, json_node_copy(e->changes));
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        rv_http_respond_json(req, SOUP_STATUS_OK, root);
        g_free(h);
}

void
rv_http_settings_history(RvHttpRequest *req)
{
        const char *section = rv_http_need_settings(req) ? rv_http_section(req) : NULL;
        const char *limit = rv_http_request_query(req, "limit");
        guint64 n = RV_HTTP_HISTORY_DEFAULT;
        RvHttpHistory *h;

        if (section == NULL)
                return;
        if (limit != NULL && !g_ascii_string_to_unsigned(limit, 10, 1, RV_HTTP_HISTORY_MAX, &n, NULL)) {
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                                        "limit: expected a number from 1 to 1000", "limit");
                return;
        }
        h = g_new0(RvHttpHistory, 1);
        h->req = rv_http_request_pause(req);
        h->section = section;
        h->limit = (guint)n;
        /* the history is of all sections: read enough to find this one's */
        rv_live_settings_history_async(req->http->settings, RV_HTTP_HISTORY_MAX, NULL, rv_http_history_cb, h);
}

/* setup */

static void
rv_http_token_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(RvHttpRequest) req = user_data;
        g_autoptr(GError) error = NULL;
        gint64 expires = 0;
        g_autofree char *token = rv_access_issue_setup_token_finish(RV_ACCESS(source), result, &expires, &error);
        GString *out;

        if (token == NULL) {
                rv_http_respond_error(req, error);
                return;
        }
        out = g_string_new("{\"token\":");
        rv_json_append_string(out, token);
        g_string_append_printf(out, ",\"expires_at\":%" G_GINT64_FORMAT "}", expires);
        explicit_bzero(token, strlen(token));
        rv_http_respond_string(req, SOUP_STATUS_CREATED, "application/json", out);
}

void
rv_http_setup_start(RvHttpRequest *req)
{
        g_autofree char *who = NULL;

        if (!rv_http_need_access(req))
                return;
        who = g_strdup_printf("http:%s", req->client);
        rv_access_issue_setup_token_async(req->http->access, who, rv_http_token_cb, rv_http_request_pause(req));
}

/* key_id, secret (shown once) and the token a client sends */
static GString *
rv_http_key_answer(const char *key_id, const char *secret, const char *scope)
{
        GString *out = g_string_new("{\"key_id\":");
        g_autofree char *token = g_strdup_printf("%s:%s", key_id, secret);

        rv_json_append_string(out, key_id);
        g_string_append(out, ",\"secret\":");
        rv_json_append_string(out, secret);
        g_string_append(out, ",\"key\":");
        rv_json_append_string(out, token);
        if (scope != NULL) {
                g_string_append(out, ",\"scope\":");
                rv_json_append_string(out, scope);
        }
        g_string_append_c(out, '}');
        explicit_bzero(token, strlen(token));
        return out;
}

typedef struct {
        RvHttpRequest *req;
        char *scope;
        guint status;
} RvHttpKeyCall;

static void
rv_http_key_made_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvHttpKeyCall *call = user_data;
        g_autoptr(RvHttpRequest) req = call->req;
        g_autoptr(GError) error = NULL;
        g_autofree char *key_id = NULL;
        g_autofree char *secret = NULL;

        if (!rv_access_key_finish(RV_ACCESS(source), result, &key_id, &secret, &error)) {
                /* a wrong setup token counts like a wrong key against the address */
                if (req->route->op == RV_OP_SETUP_COMPLETE && g_error_matches(error, RV_ERROR, RV_ERROR_ACCESS_DENIED))
                        rv_http_auth_record_failure(req->http, req);
                rv_http_respond_error(req, error);
        } else {
                rv_http_respond_string(req, call->status, "application/json",
                                       rv_http_key_answer(key_id, secret, call->scope));
                explicit_bzero(secret, strlen(secret));
        }
        g_free(call->scope);
        g_free(call);
}

static RvHttpKeyCall *
rv_http_key_call(RvHttpRequest *req, const char *scope, guint status)
{
        RvHttpKeyCall *call = g_new0(RvHttpKeyCall, 1);

        call->req = rv_http_request_pause(req);
        call->scope = g_strdup(scope);
        call->status = status;
        return call;
}

/* a string member, or NULL; FALSE after a problem when it has another type */
static gboolean
rv_http_string_member(RvHttpRequest *req, JsonObject *obj, const char *name, const char **ret)
{
        JsonNode *node = json_object_get_member(obj, name);

        *ret = NULL;
        if (node == NULL)
                return TRUE;
        if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
                g_autofree char *detail = g_strdup_printf("%s: expected a string", name);
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request", detail, name);
                return FALSE;
        }
        *ret = json_node_get_string(node);
        return TRUE;
}

static gboolean
rv_http_only_members(RvHttpRequest *req, JsonObject *obj, const char *const *allowed)
{
        JsonObjectIter iter;
        const char *name;

        json_object_iter_init(&iter, obj);
        while (json_object_iter_next(&iter, &name, NULL)) {
                if (!g_strv_contains(allowed, name)) {
                        g_autofree char *detail = g_strdup_printf("%.64s: unknown member", name);
                        rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request", detail, name);
                        return FALSE;
                }
        }
        return TRUE;
}

/* {"token": "...", "label": "..."}: the token is the proof, no key is needed */
void
rv_http_setup_complete(RvHttpRequest *req)
{
        static const char *const allowed[] = { "token", "label", NULL };
        g_autoptr(GError) error = NULL;
        JsonObject *obj;
        const char *token = NULL;
        const char *label = NULL;

        if (!rv_http_need_access(req))
                return;
        obj = rv_http_request_json_object(req, &error);
        if (obj == NULL) {
                rv_http_respond_error(req, error);
                return;
        }
        if (!rv_http_only_members(req, obj, allowed) || !rv_http_string_member(req, obj, "token", &token) ||
            !rv_http_string_member(req, obj, "label", &label))
                return;
        if (token == NULL || label == NULL) {
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                                        token == NULL ? "token: missing" : "label: missing",
                                        token == NULL ? "token" : "label");
                return;
        }
        rv_access_complete_setup_async(req->http->access, token, label, rv_http_key_made_cb,
                                       rv_http_key_call(req, "admin", SOUP_STATUS_CREATED));
}

/* keys */

static gint
rv_http_key_compare(gconstpointer a, gconstpointer b)
{
        return g_strcmp0((*(RvStoreApiKey *const *)a)->key_id, (*(RvStoreApiKey *const *)b)->key_id);
}

void
rv_http_keys_list(RvHttpRequest *req)
{
        g_autoptr(GPtrArray) keys = NULL;
        GString *out;

        if (!rv_http_need_access(req))
                return;
        keys = rv_access_list_keys(req->http->access);
        g_ptr_array_sort(keys, rv_http_key_compare);
        out = g_string_new("{\"keys\":[");
        /* never a hash */
        for (guint i = 0; i < keys->len; i++) {
                RvStoreApiKey *k = g_ptr_array_index(keys, i);
                if (i > 0)
                        g_string_append_c(out, ',');
                g_string_append(out, "{\"key_id\":");
                rv_json_append_string(out, k->key_id);
                g_string_append(out, ",\"label\":");
                rv_json_append_string(out, k->label);
                g_string_append(out, ",\"scope\":");
                rv_json_append_string(out, rv_scope_to_string(rv_access_key_scope(k)));
                g_string_append_printf(out,
                                       ",\"enabled\":%s,\"burst\":%u,\"period_s\":%u,\"created\":%" G_GINT64_FORMAT "}",
                                       k->enabled ? "true" : "false", k->burst, k->period_s, k->created);
        }
        g_string_append(out, "]}");
        rv_http_respond_string(req, SOUP_STATUS_OK, "application/json", out);
}

static gboolean
rv_http_uint_member(RvHttpRequest *req, JsonObject *obj, const char *name, guint *ret)
{
        JsonNode *node = json_object_get_member(obj, name);

        if (node == NULL)
                return TRUE;
        if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64 ||
            json_node_get_int(node) < 0 || json_node_get_int(node) > G_MAXUINT32) {
                g_autofree char *detail = g_strdup_printf("%s: expected an integer from 0 to %u", name, G_MAXUINT32);
                rv_http_respond_problem(req, SOUP_STATUS_BAD_REQUEST, "bad-request", detail, name);
                return FALSE;
        }
        *ret = (guint)json_node_get_int(node);
        return TRUE;
}

/* {"label": "...", "scope": "read", "burst": 60, "period_s": 60} */
void
rv_http_keys_create(RvHttpRequest *req)
{
        static const char *const allowed[] = { "label", "scope", "burst", "period_s", NULL };
        g_autoptr(GError) error = NULL;
        const char *label = NULL;
        const char *scope = NULL;
        guint burst = 0;
        guint period = 0;
        JsonObject *obj;

        if (!rv_http_need_access(req))
                return;
        obj = rv_http_request_json_object(req, &error);
        if (obj == NULL) {
                rv_http_respond_error(req, error);
                return;
        }
        if (!rv_http_only_members(req, obj, allowed) || !rv_http_string_member(req, obj, "label", &label) ||
            !rv_http_string_member(req, obj, "scope", &scope) || !rv_http_uint_member(req, obj, "burst", &burst) ||
            !rv_http_uint_member(req, obj, "period_s", &period))
                return;
        /* a new key can do no more than read unless asked: the least that is useful */
        if (scope == NULL)
                scope = "read";
        if (!rv_validate_key_label(label, &error) || !rv_validate_key_rate(burst, period, &error) ||
            !rv_validate_key_scope(scope, &error)) {
                rv_http_respond_error(req, error);
                return;
        }
        rv_access_create_key_scoped_async(req->http->access, label, scope, burst, period, rv_http_key_made_cb,
                                          rv_http_key_call(req, scope, SOUP_STATUS_CREATED));
}

static void
rv_http_key_revoked_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(RvHttpRequest) req = user_data;
        g_autoptr(GError) error = NULL;

        if (!rv_access_revoke_key_finish(RV_ACCESS(source), result, &error)) {
                rv_http_respond_error(req, error);
                return;
        }
        rv_http_auth_forget_key(req->http, req->params[0]);
        rv_http_respond_empty(req, SOUP_STATUS_NO_CONTENT);
}

void
rv_http_keys_revoke(RvHttpRequest *req)
{
        if (rv_http_need_access(req))
                rv_access_revoke_key_async(req->http->access, req->params[0], rv_http_key_revoked_cb,
                                           rv_http_request_pause(req));
}

void
rv_http_keys_rotate(RvHttpRequest *req)
{
        if (rv_http_need_access(req))
                rv_access_rotate_key_async(req->http->access, req->params[0], rv_http_key_made_cb,
                                           rv_http_key_call(req, NULL, SOUP_STATUS_OK));
}

/* health */

void
rv_http_health(RvHttpRequest *req)
{
        RvHttp *self = req->http;
        g_autoptr(JsonNode) node = rv_health_to_json(rv_manager_get_health(self->manager));
        JsonObject *obj = json_node_get_object(node);

        json_object_set_string_member(obj, "version", PACKAGE_VERSION);
        json_object_set_int_member(obj, "torrents", rv_manager_get_count(self->manager));
        /*
         * while the stored torrents come back the view is partial: "ok" with
         * a count that is still growing would tell a load balancer or a
         * socket-activating client the service is ready; 503 with
         * Retry-After is what they wait on (curl --retry honours it)
         */
        if (!self->ready) {
                json_object_set_string_member(obj, "status", "starting");
                soup_message_headers_replace(soup_server_message_get_response_headers(req->msg), "Retry-After", "1");
                rv_http_respond_json(req, SOUP_STATUS_SERVICE_UNAVAILABLE, node);
                return;
        }
        rv_http_respond_json(req, SOUP_STATUS_OK, node);
}

/*
 * /health/full asks every component something and times the answer: the
 * engine (a request through libtorrent's network thread), the store (a
 * read), and whatever the owner registered (the bus); each has
 * RV_HTTP_PROBE_TIMEOUT_MS to answer
 */
typedef struct _RvHttpHealthCheck RvHttpHealthCheck;

typedef struct {
        RvHttpHealthCheck *check;
        char *component;
        gint64 started_us;
        gint64 latency_us;
        char *error;
        gboolean done;
        gulong handler;
} RvHttpProbeRun;

struct _RvHttpHealthCheck {
        RvHttpRequest *req;
        GPtrArray *runs;
        guint waiting;
        guint timer;
        gboolean answered;
};

static void
rv_http_health_check_free(RvHttpHealthCheck *check)
{
        for (guint i = 0; i < check->runs->len; i++) {
                RvHttpProbeRun *run = g_ptr_array_index(check->runs, i);
                /* a probe that never answered keeps its run: its late answer finds it done */
                if (!run->done)
                        continue;
                g_free(run->component);
                g_free(run->error);
                g_free(run);
        }
        g_ptr_array_unref(check->runs);
        rv_http_request_unref(check->req);
        g_free(check);
}

static void
rv_http_health_answer(RvHttpHealthCheck *check)
{
        RvHttpRequest *req = check->req;
        RvHealth *health = rv_manager_get_health(req->http->manager);
        g_autoptr(JsonNode) root = rv_health_to_json(health);
        JsonObject *obj = json_node_get_object(root);
        JsonObject *components = json_object_new();
        gboolean ok = rv_health_is_ok(health) && req->http->ready;

        for (guint i = 0; i < check->runs->len; i++) {
                RvHttpProbeRun *run = g_ptr_array_index(check->runs, i);
                JsonObject *c = json_object_new();
                const char *why = run->error != NULL ? run->error : run->done ? NULL : "no answer in time";
                json_object_set_string_member(c, "status", why == NULL ? "ok" : "unavailable");
                if (run->done && run->error == NULL)
                        json_object_set_int_member(c, "latency_us", run->latency_us);
                if (why != NULL)
                        json_object_set_string_member(c, "reason", why);
                ok = ok && why == NULL;
                json_object_set_object_member(components, run->component, c);
        }
        json_object_set_object_member(obj, "components", components);
        json_object_set_string_member(obj, "status", !req->http->ready ? "starting" : ok ? "ok" : "degraded");
        json_object_set_string_member(obj, "version", PACKAGE_VERSION);
        json_object_set_int_member(obj, "torrents", rv_manager_get_count(req->http->manager));
        json_object_set_int_member(
                obj, "revision",
                req->http->settings != NULL ? (gint64)rv_live_settings_get_revision(req->http->settings) : 0);
        json_object_set_int_member(obj, "event_id",
                                   (gint64)rv_event_bus_get_last_id(rv_manager_get_events(req->http->manager)));
        rv_http_respond_json(req, ok ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE, root);
}

static void
rv_http_probe_finish(RvHttpProbeRun *run, const char *error)
{
        RvHttpHealthCheck *check = run->check;

        if (run->done)
                return;
        if (check == NULL) {
                /* the answer came after the deadline: the check is gone, only the run is left */
                g_free(run->component);
                g_free(run->error);
                g_free(run);
                return;
        }
        run->done = TRUE;
        run->latency_us = g_get_monotonic_time() - run->started_us;
        run->error = g_strdup(error);
        if (--check->waiting == 0 && !check->answered) {
                check->answered = TRUE;
                if (check->timer != 0)
                        g_source_remove(check->timer);
                check->timer = 0;
                rv_http_health_answer(check);
                rv_http_health_check_free(check);
        }
}

static void
rv_http_probe_done(const GError *error, gpointer done_data)
{
        rv_http_probe_finish(done_data, error != NULL ? error->message : NULL);
}

static gboolean
rv_http_health_timeout_cb(gpointer user_data)
{
        RvHttpHealthCheck *check = user_data;

        check->timer = 0;
        check->answered = TRUE;
        rv_http_health_answer(check);
        /* runs still waiting are left to their late answers */
        for (guint i = 0; i < check->runs->len; i++) {
                RvHttpProbeRun *run = g_ptr_array_index(check->runs, i);
                if (!run->done)
                        run->check = NULL;
        }
        rv_http_health_check_free(check);
        return G_SOURCE_REMOVE;
}

static void
rv_http_engine_alive_cb(RvManager *manager, gpointer user_data)
{
        RvHttpProbeRun *run = user_data;

        g_signal_handler_disconnect(manager, run->handler);
        run->handler = 0;
        rv_http_probe_finish(run, NULL);
}

static void
rv_http_store_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) entries = rv_store_list_history_finish(NULL, result, &error);

        rv_http_probe_finish(user_data, entries == NULL ? (error != NULL ? error->message : "no answer") : NULL);
}

static RvHttpProbeRun *
rv_http_probe_run_new(RvHttpHealthCheck *check, const char *component)
{
        RvHttpProbeRun *run = g_new0(RvHttpProbeRun, 1);

        run->check = check;
        run->component = g_strdup(component);
        run->started_us = g_get_monotonic_time();
        g_ptr_array_add(check->runs, run);
        check->waiting++;
        return run;
}

void
rv_http_health_full(RvHttpRequest *req)
{
        RvHttp *self = req->http;
        RvHttpHealthCheck *check = g_new0(RvHttpHealthCheck, 1);
        RvHttpProbeRun *engine;
        RvHttpProbeRun *store;

        check->req = rv_http_request_pause(req);
        check->runs = g_ptr_array_new();
        /* held until every probe started, so none answers the request half-asked */
        check->waiting = 1;
        engine = rv_http_probe_run_new(check, "engine");
        store = rv_http_probe_run_new(check, "store");
        for (guint i = 0; i < self->probes->len; i++)
                (void)rv_http_probe_run_new(check, ((RvHttpProbe *)g_ptr_array_index(self->probes, i))->component);
        check->timer = g_timeout_add(RV_HTTP_PROBE_TIMEOUT_MS, rv_http_health_timeout_cb, check);
        engine->handler = g_signal_connect(self->manager, "engine-alive", G_CALLBACK(rv_http_engine_alive_cb), engine);
        rv_engine_probe(rv_manager_get_engine(self->manager));
        rv_store_list_history_async(self->store, 1, NULL, rv_http_store_read_cb, store);
        for (guint i = 0; i < self->probes->len; i++) {
                RvHttpProbe *probe = g_ptr_array_index(self->probes, i);
                probe->func(rv_http_probe_done, g_ptr_array_index(check->runs, i + 2), probe->user_data);
        }
        if (--check->waiting == 0 && !check->answered) {
                check->answered = TRUE;
                g_source_remove(check->timer);
                rv_http_health_answer(check);
                rv_http_health_check_free(check);
        }
}
