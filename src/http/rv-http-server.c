/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-http"

#include "config.h"

#include <string.h>

#include <libsoup/soup.h>
#include <systemd/sd-daemon.h>

#include "rv-http-server.h"
#include "rv-json.h"

struct _RvHttp {
        RvManager *manager;
        SoupServer *server;
        guint activated;
        gboolean ready;
};

GSocketAddress *
rv_http_parse_listen(const char *listen, GError **error)
{
        g_autofree char *host = NULL;
        const char *colon;
        guint64 port = 0;

        if (listen == NULL || listen[0] == '\0') {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "listen: empty address");
                return NULL;
        }
        colon = strrchr(listen, ':');
        if (colon == NULL || !g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &port, NULL)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "listen: '%s' is not host:port with a port from 0 (any) to 65535", listen);
                return NULL;
        }
        host = g_strndup(listen, (gsize)(colon - listen));
        if (host[0] == '[' && g_str_has_suffix(host, "]")) {
                char *inner = g_strndup(host + 1, strlen(host) - 2);
                g_free(host);
                host = inner;
        }
        if (host[0] == '\0') {
                g_free(host);
                host = g_strdup("127.0.0.1");
        }
        if (!g_hostname_is_ip_address(host)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "listen: '%s' is not an IP address", host);
                return NULL;
        }
        return g_inet_socket_address_new_from_string(host, (guint)port);
}

static void
rv_http_send_json(SoupServerMessage *msg, guint status, JsonNode *node)
{
        g_autofree char *text = json_to_string(node, FALSE);
        gsize len = strlen(text);

        soup_server_message_set_status(msg, status, NULL);
        soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, g_steal_pointer(&text), len);
}

/* RFC 9457: every error a client sees says what went wrong */
static void
rv_http_send_problem(SoupServerMessage *msg, RvError code, const char *detail)
{
        JsonObject *obj = json_object_new();
        g_autofree char *type = g_strdup_printf("https://revaer.dev/problems/%s", rv_error_to_problem_slug(code));
        g_autoptr(JsonNode) node = NULL;
        g_autofree char *text = NULL;
        guint status = rv_error_to_http_status(code);

        json_object_set_string_member(obj, "type", type);
        json_object_set_string_member(obj, "title", rv_error_to_string(code));
        json_object_set_int_member(obj, "status", status);
        if (detail != NULL)
                json_object_set_string_member(obj, "detail", detail);
        node = rv_json_node_take_object(obj);
        text = json_to_string(node, FALSE);
        soup_server_message_set_status(msg, status, NULL);
        soup_server_message_set_response(msg, "application/problem+json", SOUP_MEMORY_COPY, text, strlen(text));
}

static void
rv_http_health_cb(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
        RvHttp *self = user_data;
        const char *method = soup_server_message_get_method(msg);
        g_autoptr(JsonNode) node = NULL;
        JsonObject *obj;

        if (g_strcmp0(path, "/health") != 0) {
                g_autofree char *detail = g_strdup_printf("no resource at '%s'", path);
                rv_http_send_problem(msg, RV_ERROR_NOT_FOUND, detail);
                return;
        }
        if (g_strcmp0(method, "GET") != 0 && g_strcmp0(method, "HEAD") != 0) {
                soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "GET, HEAD");
                rv_http_send_problem(msg, RV_ERROR_INVALID_ARGUMENT, "only GET and HEAD are allowed on /health");
                soup_server_message_set_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
                return;
        }
        node = rv_health_to_json(rv_manager_get_health(self->manager));
        obj = json_node_get_object(node);
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
                soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", "1");
                rv_http_send_json(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, node);
                return;
        }
        rv_http_send_json(msg, SOUP_STATUS_OK, node);
}

static gboolean
rv_http_wanted_fd_name(const char *name)
{
        /* systemd names an unnamed socket after its unit; systemd-socket-activate says "unknown" */
        return name == NULL || g_strcmp0(name, "http") == 0 || g_strcmp0(name, "unknown") == 0 ||
               g_str_has_suffix(name, ".socket");
}

static gboolean
rv_http_take_activated(RvHttp *self, GError **error)
{
        char **names = NULL;
        int n = sd_listen_fds_with_names(1, &names);

        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                g_autoptr(GSocket) socket = NULL;
                if (!rv_http_wanted_fd_name(names != NULL ? names[i] : NULL)) {
                        g_debug("ignoring passed socket '%s'", names[i]);
                        continue;
                }
                socket = g_socket_new_from_fd(fd, error);
                if (socket == NULL || !soup_server_listen_socket(self->server, socket, 0, error)) {
                        g_strfreev(names);
                        rv_error_convert(error);
                        return FALSE;
                }
                self->activated++;
        }
        g_strfreev(names);
        return TRUE;
}

RvHttp *
rv_http_new(RvManager *manager, const char *listen, GError **error)
{
        g_autoptr(RvHttp) self = g_new0(RvHttp, 1);
        g_autofree char *header = g_strdup_printf("revaer/%s", PACKAGE_VERSION);

        self->manager = g_object_ref(manager);
        self->server = soup_server_new("server-header", header, NULL);
        soup_server_add_handler(self->server, NULL, rv_http_health_cb, self, NULL);
        if (!rv_http_take_activated(self, error))
                return NULL;
        if (self->activated == 0) {
                g_autoptr(GSocketAddress) address = rv_http_parse_listen(listen, error);
                g_autoptr(GError) error_local = NULL;
                if (address == NULL)
                        return NULL;
                if (!soup_server_listen(self->server, address, 0, &error_local)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, "cannot listen on %s: %s", listen,
                                    error_local->message);
                        return NULL;
                }
        }
        return g_steal_pointer(&self);
}

void
rv_http_free(RvHttp *self)
{
        if (self == NULL)
                return;
        if (self->server != NULL) {
                soup_server_disconnect(self->server);
                g_object_unref(self->server);
        }
        g_clear_object(&self->manager);
        g_free(self);
}

void
rv_http_set_ready(RvHttp *self)
{
        self->ready = TRUE;
}

guint
rv_http_get_activated(RvHttp *self)
{
        return self->activated;
}

guint16
rv_http_get_port(RvHttp *self)
{
        GSList *uris = soup_server_get_uris(self->server);
        guint16 port = uris != NULL ? (guint16)g_uri_get_port(uris->data) : 0;

        g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
        return port;
}
