/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-http-private.h"
#include "rv-json.h"

/*
 * RFC 9457 problem details. Errors of the core come with a code of the one
 * error table (rv-error.c: code -> HTTP status -> slug, as D-Bus has it);
 * what only HTTP can get wrong (a method, a length, a header, a host) has a
 * slug of its own here. Titles are per slug, details per occurrence.
 */
static const struct {
        const char *slug;
        const char *title;
} rv_http_titles[] = {
        /* the core's, from the error table */
        { "not-found", "Not found" },
        { "bad-request", "Invalid request" },
        { "conflict", "Conflict" },
        { "setup-required", "Setup required" },
        { "rate-limited", "Too many requests" },
        { "service-unavailable", "Service unavailable" },
        { "internal", "Internal error" },
        { "forbidden", "Forbidden" },
        { "gateway-timeout", "Another node did not answer in time" },
        /* HTTP's own */
        { "unauthorized", "Authentication required" },
        { "method-not-allowed", "Method not allowed" },
        { "request-timeout", "Request timeout" },
        { "length-required", "Length required" },
        { "precondition-failed", "Precondition failed" },
        { "payload-too-large", "Payload too large" },
        { "unsupported-media-type", "Unsupported media type" },
        { "host-not-allowed", "Host not allowed" },
        { "header-too-large", "Request header fields too large" },
        { "malformed-request", "Malformed request" },
        { "uri-too-long", "Request target too long" },
};

const char *
rv_http_problem_title(const char *slug)
{
        for (guint i = 0; i < G_N_ELEMENTS(rv_http_titles); i++) {
                if (g_strcmp0(rv_http_titles[i].slug, slug) == 0)
                        return rv_http_titles[i].title;
        }
        return "Error";
}

char *
rv_http_problem_text(guint status, const char *slug, const char *detail, const char *field, const char *instance,
                     const char *request_id)
{
        GString *out = g_string_sized_new(256);

        g_string_append_printf(out, "{\"type\":\"https://revaer.dev/problems/%s\",\"title\":", slug);
        rv_json_append_string(out, rv_http_problem_title(slug));
        if (status != 0)
                g_string_append_printf(out, ",\"status\":%u", status);
        if (detail != NULL) {
                g_string_append(out, ",\"detail\":");
                /* a detail names what the client sent; it must stay valid UTF-8 in the answer */
                if (g_utf8_validate(detail, -1, NULL)) {
                        rv_json_append_string(out, detail);
                } else {
                        g_autofree char *valid = g_utf8_make_valid(detail, -1);
                        rv_json_append_string(out, valid);
                }
        }
        if (instance != NULL) {
                g_string_append(out, ",\"instance\":");
                rv_json_append_string(out, instance);
        }
        if (field != NULL) {
                g_string_append(out, ",\"field\":");
                rv_json_append_string(out, field);
        }
        if (request_id != NULL) {
                g_string_append(out, ",\"request_id\":");
                rv_json_append_string(out, request_id);
        }
        g_string_append_c(out, '}');
        return g_string_free(out, FALSE);
}

/*
 * the core's validation errors start with the field they are about
 * ("save_path: ...", "/engine/download_limit: ...", "labels[1]: ...")
 */
char *
rv_http_error_field(const char *message)
{
        const char *colon = message != NULL ? strstr(message, ": ") : NULL;
        gsize n;

        if (colon == NULL || colon == message)
                return NULL;
        n = (gsize)(colon - message);
        if (n > 128 || strspn(message, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./[]-") != n)
                return NULL;
        return g_strndup(message, n);
}

gboolean
rv_http_json_too_deep(const char *text, gsize len, guint max_depth)
{
        guint depth = 0;
        gboolean in_string = FALSE;

        for (gsize i = 0; i < len; i++) {
                char c = text[i];
                if (in_string) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_string = FALSE;
                        continue;
                }
                if (c == '"') {
                        in_string = TRUE;
                } else if (c == '{' || c == '[') {
                        if (++depth > max_depth)
                                return TRUE;
                } else if ((c == '}' || c == ']') && depth > 0) {
                        depth--;
                }
        }
        return FALSE;
}

static gboolean
rv_http_is_json_type(const char *content_type)
{
        return content_type != NULL && (g_ascii_strcasecmp(content_type, "application/json") == 0 ||
                                        g_ascii_strcasecmp(content_type, "application/merge-patch+json") == 0);
}

JsonNode *
rv_http_json_body_parse(const char *content_type, const char *data, gsize len, GError **error)
{
        g_autoptr(GError) error_local = NULL;
        g_autoptr(JsonNode) root = NULL;

        if (len == 0) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "the request needs a JSON object as its body");
                return NULL;
        }
        if (!rv_http_is_json_type(content_type)) {
                /* the caller answers 415 for this one */
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "the body must be application/json, not '%s'",
                            content_type != NULL ? content_type : "");
                return NULL;
        }
        if (rv_http_json_too_deep(data, len, RV_HTTP_MAX_JSON_DEPTH)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "JSON nested deeper than %d levels",
                            RV_HTTP_MAX_JSON_DEPTH);
                return NULL;
        }
        if (!g_utf8_validate(data, (gssize)len, NULL)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "the body is not UTF-8");
                return NULL;
        }
        root = rv_json_parse(data, (gssize)len, TRUE, &error_local);
        if (root == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "the body is not JSON: %s",
                            error_local->message);
                return NULL;
        }
        if (!JSON_NODE_HOLDS_OBJECT(root)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "the body must be a JSON object");
                return NULL;
        }
        return g_steal_pointer(&root);
}

JsonObject *
rv_http_request_json_object(RvHttpRequest *req, GError **error)
{
        SoupMessageBody *body = soup_server_message_get_request_body(req->msg);
        const char *content_type =
                soup_message_headers_get_content_type(soup_server_message_get_request_headers(req->msg), NULL);
        g_autoptr(GBytes) bytes = NULL;
        gsize len = 0;
        const char *data;

        if (req->json != NULL)
                return JSON_NODE_HOLDS_OBJECT(req->json) ? json_node_get_object(req->json) : NULL;
        bytes = soup_message_body_flatten(body);
        data = g_bytes_get_data(bytes, &len);
        req->json = rv_http_json_body_parse(content_type, data, len, error);
        return req->json != NULL ? json_node_get_object(req->json) : NULL;
}
