/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "rv-cli.h"

/*
 * revaerctl over HTTP (--url): the commands keep speaking in the service's
 * D-Bus terms (object paths, methods, properties), and this file answers
 * those calls from the REST API, so every command works the same over
 * either transport. Problem+JSON answers become the RvError of their type,
 * with the problem's detail as the message.
 */

#define RV_CLI_HTTP_TIMEOUT_S 60
/* the history of every section, merged: at most this much per section */
#define RV_CLI_HTTP_HISTORY_MAX 1000

struct _RvCliHttp {
        SoupSession *session;
        char *base;
        char *key;
};

void
rv_cli_http_free(RvCliHttp *http)
{
        if (http == NULL)
                return;
        g_clear_object(&http->session);
        g_free(http->base);
        if (http->key != NULL)
                explicit_bzero(http->key, strlen(http->key));
        g_free(http->key);
        g_free(http);
}

RvCliHttp *
rv_cli_http_new(const char *url, const char *key, GError **error)
{
        g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
        RvCliHttp *http;

        if (uri == NULL ||
            (g_strcmp0(g_uri_get_scheme(uri), "http") != 0 && g_strcmp0(g_uri_get_scheme(uri), "https") != 0) ||
            g_uri_get_host(uri) == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("'%s' is not an http:// or https:// URL"),
                            url);
                return NULL;
        }
        http = g_new0(RvCliHttp, 1);
        http->session = soup_session_new_with_options("timeout", RV_CLI_HTTP_TIMEOUT_S, "user-agent",
                                                      "revaerctl/" PACKAGE_VERSION, NULL);
        http->base = g_strdup(url);
        while (g_str_has_suffix(http->base, "/"))
                http->base[strlen(http->base) - 1] = '\0';
        http->key = g_strdup(key);
        return http;
}

/* a Problem+JSON answer as an RvError: the type's slug names the code */
static void
rv_cli_http_problem(guint status, JsonNode *node, GError **error)
{
        JsonObject *obj = node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
        const char *type = obj != NULL ? json_object_get_string_member_with_default(obj, "type", "") : "";
        const char *slash = strrchr(type, '/');
        const char *detail = obj != NULL ? json_object_get_string_member_with_default(obj, "detail", NULL) : NULL;
        const char *title = obj != NULL ? json_object_get_string_member_with_default(obj, "title", NULL) : NULL;
        RvError code = RV_ERROR_LAST;

        for (guint i = 0; slash != NULL && i < RV_ERROR_LAST; i++) {
                if (g_str_equal(rv_error_to_problem_slug((RvError)i), slash + 1))
                        code = (RvError)i;
        }
        if (code == RV_ERROR_LAST) {
                if (status == 401 || status == 403)
                        code = RV_ERROR_ACCESS_DENIED;
                else if (status == 412 || status == 409)
                        code = RV_ERROR_CONFLICT;
                else if (status == 429)
                        code = RV_ERROR_RATE_LIMITED;
                else if (status >= 400 && status < 500)
                        code = RV_ERROR_INVALID_ARGUMENT;
                else if (status == 502 || status == 503 || status == 504)
                        code = RV_ERROR_UNAVAILABLE;
                else
                        code = RV_ERROR_INTERNAL;
        }
        if (status == 401)
                g_set_error(error, RV_ERROR, RV_ERROR_ACCESS_DENIED, _("the API key was refused: %s"),
                            detail != NULL ? detail : _("no key (--api-key or REVAER_API_KEY)"));
        else
                g_set_error_literal(error, RV_ERROR, code,
                                    detail != NULL  ? detail
                                    : title != NULL ? title
                                                    : soup_status_get_phrase(status));
}

static gboolean
rv_cli_http_accept_cb(SoupMessage *msg, GTlsCertificate *certificate, GTlsCertificateFlags errors, gpointer data)
{
        /* REVAER_CA_FILE trusts one certificate more, for a service with a certificate of its own making */
        const char *ca = g_getenv("REVAER_CA_FILE");
        g_autoptr(GTlsCertificate) trusted = ca != NULL ? g_tls_certificate_new_from_file(ca, NULL) : NULL;

        return trusted != NULL && g_tls_certificate_is_same(trusted, certificate);
}

static SoupMessage *
rv_cli_http_message(RvCli *cli, const char *method, const char *target)
{
        g_autofree char *url = g_strconcat(cli->http->base, target, NULL);
        SoupMessage *msg = soup_message_new(method, url);

        if (msg == NULL)
                return NULL;
        g_signal_connect(msg, "accept-certificate", G_CALLBACK(rv_cli_http_accept_cb), NULL);
        if (cli->http->key != NULL) {
                g_autofree char *bearer = g_strdup_printf("Bearer %s", cli->http->key);
                soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", bearer);
                explicit_bzero(bearer, strlen(bearer));
        }
        return msg;
}

static void
rv_cli_http_connect_error(RvCli *cli, GError *transport, GError **error)
{
        g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, _("cannot reach the Revaer service at %s: %s"),
                    cli->http->base, transport->message);
}

/*
 * one request: body is sent as JSON when given; the answer's JSON is
 * returned (NULL for an empty one, with no error); problems become errors
 */
JsonNode *
rv_cli_http_request(RvCli *cli, const char *method, const char *target, JsonNode *body, GError **error)
{
        g_autoptr(SoupMessage) msg = rv_cli_http_message(cli, method, target);
        g_autoptr(GBytes) answer = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonNode *root = NULL;
        guint status;
        gsize len = 0;
        const char *data;

        if (msg == NULL) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, _("cannot make a request for '%s'"), target);
                return NULL;
        }
        if (body != NULL) {
                g_autofree char *text = json_to_string(body, FALSE);
                g_autoptr(GBytes) bytes = g_bytes_new(text, strlen(text));
                soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
        }
        answer = soup_session_send_and_read(cli->http->session, msg, NULL, &error_local);
        if (answer == NULL) {
                rv_cli_http_connect_error(cli, error_local, error);
                return NULL;
        }
        status = soup_message_get_status(msg);
        data = g_bytes_get_data(answer, &len);
        if (len > 0 && json_parser_load_from_data(parser, data, (gssize)len, NULL))
                root = json_node_copy(json_parser_get_root(parser));
        if (status >= 300) {
                rv_cli_http_problem(status, root, error);
                if (root != NULL)
                        json_node_unref(root);
                return NULL;
        }
        if (root == NULL && len > 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, _("%s %s: the answer is not JSON"), method, target);
                return NULL;
        }
        return root;
}

/* a request whose answer may be empty: TRUE when it succeeded */
static gboolean
rv_cli_http_do(RvCli *cli, const char *method, const char *target, JsonNode *body, GError **error)
{
        g_autoptr(GError) error_local = NULL;
        /* the answer, if any, is not needed: only whether there was one */
        g_autoptr(JsonNode) answer = rv_cli_http_request(cli, method, target, body, &error_local);

        (void)answer;
        if (error_local != NULL) {
                g_propagate_error(error, g_steal_pointer(&error_local));
                return FALSE;
        }
        return TRUE;
}

/* JSON values as the service's D-Bus types would carry them */

static GVariant *
rv_cli_http_json_to_variant(JsonNode *node)
{
        if (node == NULL || JSON_NODE_HOLDS_NULL(node))
                return g_variant_new_string("");
        if (JSON_NODE_HOLDS_ARRAY(node)) {
                JsonArray *array = json_node_get_array(node);
                GVariantBuilder b;
                g_variant_builder_init(&b, G_VARIANT_TYPE_STRING_ARRAY);
                for (guint i = 0; i < json_array_get_length(array); i++) {
                        JsonNode *e = json_array_get_element(array, i);
                        g_variant_builder_add(&b, "s", JSON_NODE_HOLDS_VALUE(e) ? json_node_get_string(e) : "");
                }
                return g_variant_builder_end(&b);
        }
        if (JSON_NODE_HOLDS_OBJECT(node))
                return g_variant_new_string("");
        if (json_node_get_value_type(node) == G_TYPE_BOOLEAN)
                return g_variant_new_boolean(json_node_get_boolean(node));
        if (json_node_get_value_type(node) == G_TYPE_INT64)
                return g_variant_new_int64(json_node_get_int(node));
        if (json_node_get_value_type(node) == G_TYPE_DOUBLE)
                return g_variant_new_double(json_node_get_double(node));
        return g_variant_new_string(json_node_get_string(node));
}

/* "download_rate" -> "DownloadRate" */
static char *
rv_cli_http_property_name(const char *field)
{
        GString *out = g_string_new(NULL);
        gboolean upper = TRUE;

        for (const char *p = field; *p != '\0'; p++) {
                if (*p == '_') {
                        upper = TRUE;
                        continue;
                }
                g_string_append_c(out, upper ? g_ascii_toupper(*p) : *p);
                upper = FALSE;
        }
        return g_string_free(out, FALSE);
}

/* the info hash of a torrent's object path, or NULL when path is no torrent's */
static const char *
rv_cli_http_hash_of(const char *path)
{
        if (!g_str_has_prefix(path, RV_BUS_TORRENT_PREFIX "/"))
                return NULL;
        return path + strlen(RV_BUS_TORRENT_PREFIX "/");
}

static const char *
rv_cli_http_section_of(const char *path)
{
        if (!g_str_has_prefix(path, RV_BUS_POLICY_PREFIX "/"))
                return NULL;
        return path + strlen(RV_BUS_POLICY_PREFIX "/");
}

static GVariant *
rv_cli_http_torrent_props(RvCli *cli, const char *hash, GError **error)
{
        g_autofree char *target = g_strdup_printf("/v1/torrents/%s", hash);
        g_autoptr(JsonNode) node = rv_cli_http_request(cli, "GET", target, NULL, error);
        GVariantBuilder b;
        JsonObjectIter iter;
        const char *name;
        JsonNode *value;

        if (node == NULL)
                return NULL;
        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        json_object_iter_init(&iter, json_node_get_object(node));
        while (json_object_iter_next(&iter, &name, &value)) {
                g_autofree char *property = rv_cli_http_property_name(name);
                g_variant_builder_add(&b, "{sv}", property, rv_cli_http_json_to_variant(value));
        }
        return g_variant_ref_sink(g_variant_builder_end(&b));
}

/* the manager's properties: /health, and the torrents for the rates and counts */
static GVariant *
rv_cli_http_manager_props(RvCli *cli, GError **error)
{
        g_autoptr(JsonNode) health = rv_cli_http_request(cli, "GET", "/health", NULL, error);
        g_autoptr(JsonNode) list = NULL;
        g_autoptr(GError) error_local = NULL;
        GVariantBuilder b;
        GVariantBuilder degraded;
        GVariantBuilder counts;
        JsonObject *h;
        JsonArray *items;
        guint64 down = 0;
        guint64 up = 0;
        g_autoptr(GHashTable) states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        gboolean setup = FALSE;

        if (health == NULL)
                return NULL;
        h = json_node_get_object(health);
        list = rv_cli_http_request(cli, "GET", "/v1/torrents?fields=state,download_rate,upload_rate", NULL,
                                   &error_local);
        if (list == NULL && g_error_matches(error_local, RV_ERROR, RV_ERROR_SETUP_REQUIRED))
                setup = TRUE;
        else if (list == NULL) {
                g_propagate_error(error, g_steal_pointer(&error_local));
                return NULL;
        }
        items = list != NULL ? json_object_get_array_member(json_node_get_object(list), "torrents") : NULL;
        for (guint i = 0; items != NULL && i < json_array_get_length(items); i++) {
                JsonObject *t = json_array_get_object_element(items, i);
                const char *state = json_object_get_string_member(t, "state");
                down += (guint64)json_object_get_int_member(t, "download_rate");
                up += (guint64)json_object_get_int_member(t, "upload_rate");
                g_hash_table_insert(states, g_strdup(state),
                                    GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(states, state)) + 1));
        }
        g_variant_builder_init(&degraded, G_VARIANT_TYPE("a(ss)"));
        items = json_object_get_array_member(h, "degraded");
        for (guint i = 0; items != NULL && i < json_array_get_length(items); i++) {
                JsonObject *d = json_array_get_object_element(items, i);
                g_variant_builder_add(&degraded, "(ss)", json_object_get_string_member(d, "component"),
                                      json_object_get_string_member_with_default(d, "reason", ""));
        }
        g_variant_builder_init(&counts, G_VARIANT_TYPE("a{su}"));
        {
                GHashTableIter iter;
                gpointer key;
                gpointer value;
                g_hash_table_iter_init(&iter, states);
                while (g_hash_table_iter_next(&iter, &key, &value))
                        g_variant_builder_add(&counts, "{su}", (const char *)key, GPOINTER_TO_UINT(value));
        }
        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&b, "{sv}", "Version",
                              g_variant_new_string(json_object_get_string_member_with_default(h, "version", "")));
        g_variant_builder_add(
                &b, "{sv}", "ServiceState",
                g_variant_new_string(g_strcmp0(json_object_get_string_member(h, "status"), "starting") == 0
                                             ? "starting"
                                             : "running"));
        g_variant_builder_add(
                &b, "{sv}", "Health",
                g_variant_new_string(g_strcmp0(json_object_get_string_member(h, "status"), "degraded") == 0 ? "degraded"
                                                                                                            : "ok"));
        g_variant_builder_add(&b, "{sv}", "Degraded", g_variant_builder_end(&degraded));
        g_variant_builder_add(&b, "{sv}", "DownloadRate", g_variant_new_uint64(down));
        g_variant_builder_add(&b, "{sv}", "UploadRate", g_variant_new_uint64(up));
        g_variant_builder_add(&b, "{sv}", "TorrentCount",
                              g_variant_new_uint32((guint32)json_object_get_int_member_with_default(h, "torrents", 0)));
        g_variant_builder_add(&b, "{sv}", "StateCounts", g_variant_builder_end(&counts));
        g_variant_builder_add(&b, "{sv}", "SetupRequired", g_variant_new_boolean(setup));
        return g_variant_ref_sink(g_variant_builder_end(&b));
}

/* a section's settings and their types, from its GET */
static JsonNode *
rv_cli_http_section(RvCli *cli, const char *section, GError **error)
{
        g_autofree char *target = g_strdup_printf("/v1/settings/%s", section);
        JsonNode *node = rv_cli_http_request(cli, "GET", target, NULL, error);
        JsonObject *obj = node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;

        if (node != NULL &&
            (obj == NULL || !json_object_has_member(obj, "fields") || !json_object_has_member(obj, "values"))) {
                json_node_unref(node);
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL,
                            _("the service's settings answer has no field types (is it an older version?)"));
                return NULL;
        }
        return node;
}

/* a setting's D-Bus signature, as the policy objects have it */
static const char *
rv_cli_http_setting_signature(const char *type)
{
        if (g_strcmp0(type, "boolean") == 0)
                return "b";
        if (g_strcmp0(type, "integer") == 0 || g_strcmp0(type, "integer_or_null") == 0)
                return "x";
        if (g_strcmp0(type, "number") == 0)
                return "d";
        if (g_strcmp0(type, "list") == 0)
                return "as";
        return "s";
}

static GVariant *
rv_cli_http_setting_value(JsonNode *value, const char *signature)
{
        /* null reads as -1 for an integer and "" for a string, as on D-Bus */
        if (value == NULL || JSON_NODE_HOLDS_NULL(value))
                return g_str_equal(signature, "x") ? g_variant_new_int64(-1) : g_variant_new_string("");
        if (g_str_equal(signature, "d"))
                return g_variant_new_double(json_node_get_double(value));
        return rv_cli_http_json_to_variant(value);
}

static GVariant *
rv_cli_http_section_props(RvCli *cli, const char *section, const char *iface, GError **error)
{
        g_autoptr(JsonNode) node = rv_cli_http_section(cli, section, error);
        JsonObject *obj;
        JsonObject *values;
        JsonObject *fields;
        JsonObjectIter iter;
        const char *name;
        JsonNode *desc;
        GVariantBuilder b;

        if (node == NULL)
                return NULL;
        obj = json_node_get_object(node);
        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        if (g_str_equal(iface, RV_BUS_POLICY_IFACE)) {
                g_variant_builder_add(&b, "{sv}", "Section", g_variant_new_string(section));
                g_variant_builder_add(&b, "{sv}", "Revision",
                                      g_variant_new_uint64((guint64)json_object_get_int_member(obj, "revision")));
                return g_variant_ref_sink(g_variant_builder_end(&b));
        }
        values = json_object_get_object_member(obj, "values");
        fields = json_object_get_object_member(obj, "fields");
        json_object_iter_init(&iter, fields);
        while (json_object_iter_next(&iter, &name, &desc)) {
                g_autofree char *property = rv_cli_http_property_name(name);
                const char *type = json_object_get_string_member(json_node_get_object(desc), "type");
                g_variant_builder_add(&b, "{sv}", property,
                                      rv_cli_http_setting_value(json_object_get_member(values, name),
                                                                rv_cli_http_setting_signature(type)));
        }
        return g_variant_ref_sink(g_variant_builder_end(&b));
}

GVariant *
rv_cli_http_get_all(RvCli *cli, const char *path, const char *iface, GError **error)
{
        const char *hash = rv_cli_http_hash_of(path);
        const char *section = rv_cli_http_section_of(path);

        if (hash != NULL)
                return rv_cli_http_torrent_props(cli, hash, error);
        if (section != NULL)
                return rv_cli_http_section_props(cli, section, iface, error);
        return rv_cli_http_manager_props(cli, error);
}

/* introspection as config needs it: the sections, and a section's settings with their types */
GDBusNodeInfo *
rv_cli_http_introspect(RvCli *cli, const char *path, GError **error)
{
        const char *section = rv_cli_http_section_of(path);
        g_autoptr(GString) xml = g_string_new("<node>");
        g_autoptr(GError) error_local = NULL;
        GDBusNodeInfo *info;

        if (section == NULL) {
                /* the sections the API serves */
                for (guint i = 0; i < 3; i++)
                        g_string_append_printf(xml, "<node name=\"%s\"/>",
                                               (const char *[]){ "app", "engine", "fs" }[i]);
        } else {
                g_autoptr(JsonNode) node = rv_cli_http_section(cli, section, error);
                g_autofree char *iface = NULL;
                JsonObjectIter iter;
                const char *name;
                JsonNode *desc;
                if (node == NULL)
                        return NULL;
                iface = g_strdup_printf(RV_BUS_POLICY_IFACE ".%c%s", g_ascii_toupper(section[0]), section + 1);
                g_string_append_printf(xml, "<interface name=\"%s\">", iface);
                json_object_iter_init(&iter, json_object_get_object_member(json_node_get_object(node), "fields"));
                while (json_object_iter_next(&iter, &name, &desc)) {
                        JsonObject *d = json_node_get_object(desc);
                        g_autofree char *property = rv_cli_http_property_name(name);
                        g_string_append_printf(xml, "<property name=\"%s\" type=\"%s\" access=\"%s\"/>", property,
                                               rv_cli_http_setting_signature(json_object_get_string_member(d, "type")),
                                               json_object_get_boolean_member_with_default(d, "read_only", FALSE)
                                                       ? "read"
                                                       : "readwrite");
                }
                g_string_append(xml, "</interface>");
        }
        g_string_append(xml, "</node>");
        info = g_dbus_node_info_new_for_xml(xml->str, &error_local);
        if (info == NULL)
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, "%s", error_local->message);
        return info;
}

/* a D-Bus value of an option or a setting as JSON */
static JsonNode *
rv_cli_http_variant_to_json(GVariant *value)
{
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARIANT)) {
                g_autoptr(GVariant) inner = g_variant_get_variant(value);
                return rv_cli_http_variant_to_json(inner);
        }
        if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64) || g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64) ||
            g_variant_is_of_type(value, G_VARIANT_TYPE_INT32) || g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
                JsonNode *node = json_node_new(JSON_NODE_VALUE);
                json_node_set_int(node, rv_cli_variant_to_int64(value));
                return node;
        }
        /* booleans, doubles, strings and string arrays are what json-glib makes of them */
        return json_gvariant_serialize(value);
}

static JsonObject *
rv_cli_http_options(GVariant *options)
{
        JsonObject *obj = json_object_new();
        GVariantIter iter;
        const char *key;
        GVariant *value;

        g_variant_iter_init(&iter, options);
        while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
                json_object_set_member(obj, key, rv_cli_http_variant_to_json(value));
                g_variant_unref(value);
        }
        return obj;
}

static char *
rv_cli_http_torrent_path(const char *hash)
{
        return g_strdup_printf(RV_BUS_TORRENT_PREFIX "/%s", hash);
}

/* the first torrent of an add's answer, as the object path AddMagnet answers */
static GVariant *
rv_cli_http_add(RvCli *cli, JsonObject *body, GError **error)
{
        g_autoptr(JsonNode) request = json_node_init_object(json_node_alloc(), body);
        g_autoptr(JsonNode) answer = NULL;
        g_autofree char *path = NULL;
        JsonArray *list;

        json_object_unref(body);
        answer = rv_cli_http_request(cli, "POST", "/v1/torrents", request, error);
        if (answer == NULL)
                return NULL;
        list = json_object_get_array_member(json_node_get_object(answer), "torrents");
        path = rv_cli_http_torrent_path(
                json_object_get_string_member(json_array_get_object_element(list, 0), "info_hash"));
        return g_variant_ref_sink(g_variant_new("(o)", path));
}

/* GetTorrent: a full hash, a unique prefix of 4 digits at least, or an exact name */
static GVariant *
rv_cli_http_resolve(RvCli *cli, const char *ref, GError **error)
{
        g_autoptr(JsonNode) list = rv_cli_http_request(cli, "GET", "/v1/torrents?fields=name", NULL, error);
        g_autofree char *lower = g_ascii_strdown(ref, -1);
        gboolean hexish = strlen(ref) >= 4 && strspn(lower, "0123456789abcdef") == strlen(lower);
        const char *by_hash = NULL;
        const char *by_name = NULL;
        guint n_hash = 0;
        guint n_name = 0;
        JsonArray *items;
        g_autofree char *path = NULL;

        if (list == NULL)
                return NULL;
        items = json_object_get_array_member(json_node_get_object(list), "torrents");
        for (guint i = 0; i < json_array_get_length(items); i++) {
                JsonObject *t = json_array_get_object_element(items, i);
                const char *hash = json_object_get_string_member(t, "info_hash");
                if (hexish && g_str_has_prefix(hash, lower)) {
                        by_hash = hash;
                        n_hash++;
                }
                if (g_strcmp0(json_object_get_string_member(t, "name"), ref) == 0) {
                        by_name = hash;
                        n_name++;
                }
        }
        if (n_hash > 1 || (n_hash == 0 && n_name > 1)) {
                g_set_error(error, RV_ERROR, RV_ERROR_CONFLICT, _("'%s' names more than one torrent"), ref);
                return NULL;
        }
        if (n_hash == 0 && n_name == 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_NOT_FOUND, _("no torrent '%s'"), ref);
                return NULL;
        }
        path = rv_cli_http_torrent_path(n_hash == 1 ? by_hash : by_name);
        return g_variant_ref_sink(g_variant_new("(o)", path));
}

static GVariant *
rv_cli_http_list_torrents(RvCli *cli, GError **error)
{
        g_autoptr(JsonNode) list = rv_cli_http_request(
                cli, "GET",
                "/v1/torrents?fields=name,state,completed,progress,size,done,download_rate,upload_rate,eta,labels",
                NULL, error);
        GVariantBuilder b;
        JsonArray *items;

        if (list == NULL)
                return NULL;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a(sssbdttttxas)"));
        items = json_object_get_array_member(json_node_get_object(list), "torrents");
        for (guint i = 0; i < json_array_get_length(items); i++) {
                JsonObject *t = json_array_get_object_element(items, i);
                g_autoptr(GVariant) labels =
                        g_variant_ref_sink(rv_cli_http_json_to_variant(json_object_get_member(t, "labels")));
                g_variant_builder_add(
                        &b, "(sssbdttttx@as)", json_object_get_string_member(t, "info_hash"),
                        json_object_get_string_member(t, "name"), json_object_get_string_member(t, "state"),
                        json_object_get_boolean_member(t, "completed"), json_object_get_double_member(t, "progress"),
                        (guint64)json_object_get_int_member(t, "size"), (guint64)json_object_get_int_member(t, "done"),
                        (guint64)json_object_get_int_member(t, "download_rate"),
                        (guint64)json_object_get_int_member(t, "upload_rate"), json_object_get_int_member(t, "eta"),
                        labels);
        }
        return g_variant_ref_sink(g_variant_new("(@a(sssbdttttxas))", g_variant_builder_end(&b)));
}

static GVariant *
rv_cli_http_list_keys(RvCli *cli, GError **error)
{
        g_autoptr(JsonNode) list = rv_cli_http_request(cli, "GET", "/v1/keys", NULL, error);
        GVariantBuilder b;
        JsonArray *items;

        if (list == NULL)
                return NULL;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a(ssbuut)"));
        items = json_object_get_array_member(json_node_get_object(list), "keys");
        for (guint i = 0; i < json_array_get_length(items); i++) {
                JsonObject *k = json_array_get_object_element(items, i);
                g_variant_builder_add(&b, "(ssbuut)", json_object_get_string_member(k, "key_id"),
                                      json_object_get_string_member(k, "label"),
                                      json_object_get_boolean_member(k, "enabled"),
                                      (guint32)json_object_get_int_member(k, "burst"),
                                      (guint32)json_object_get_int_member(k, "period_s"),
                                      (guint64)json_object_get_int_member(k, "created"));
        }
        return g_variant_ref_sink(g_variant_new("(@a(ssbuut))", g_variant_builder_end(&b)));
}

/* a key's answer: (key_id, secret), or (secret) for a rotation */
static GVariant *
rv_cli_http_key(RvCli *cli, const char *method, const char *target, JsonObject *body, gboolean secret_only,
                GError **error)
{
        g_autoptr(JsonNode) request = body != NULL ? json_node_init_object(json_node_alloc(), body) : NULL;
        g_autoptr(JsonNode) answer = NULL;
        JsonObject *obj;

        if (body != NULL)
                json_object_unref(body);
        answer = rv_cli_http_request(cli, method, target, request, error);
        if (answer == NULL)
                return NULL;
        obj = json_node_get_object(answer);
        if (secret_only)
                return g_variant_ref_sink(g_variant_new("(s)", json_object_get_string_member(obj, "secret")));
        return g_variant_ref_sink(g_variant_new("(ss)", json_object_get_string_member(obj, "key_id"),
                                                json_object_get_string_member(obj, "secret")));
}

static GVariant *
rv_cli_http_empty(gboolean ok)
{
        return ok ? g_variant_ref_sink(g_variant_new("()")) : NULL;
}

static GVariant *
rv_cli_http_manager_call(RvCli *cli, const char *method, GVariant *args, GError **error)
{
        if (g_str_equal(method, "GetTorrent")) {
                const char *ref = NULL;
                g_variant_get(args, "(&s)", &ref);
                return rv_cli_http_resolve(cli, ref, error);
        }
        if (g_str_equal(method, "ListTorrents"))
                return rv_cli_http_list_torrents(cli, error);
        if (g_str_equal(method, "PauseAll") || g_str_equal(method, "ResumeAll"))
                return rv_cli_http_empty(rv_cli_http_do(
                        cli, "POST", g_str_equal(method, "PauseAll") ? "/v1/torrents/pause" : "/v1/torrents/resume",
                        NULL, error));
        if (g_str_equal(method, "AddMagnet") || g_str_equal(method, "AddTorrent")) {
                g_autoptr(GVariant) source = g_variant_get_child_value(args, 0);
                g_autoptr(GVariant) options = g_variant_get_child_value(args, 1);
                JsonObject *body = rv_cli_http_options(options);
                if (g_str_equal(method, "AddMagnet")) {
                        json_object_set_string_member(body, "magnet", g_variant_get_string(source, NULL));
                } else {
                        gsize len = 0;
                        const guchar *data = g_variant_get_fixed_array(source, &len, 1);
                        g_autofree char *b64 = g_base64_encode(data, len);
                        json_object_set_string_member(body, "metainfo", b64);
                }
                return rv_cli_http_add(cli, body, error);
        }
        if (g_str_equal(method, "IssueSetupToken")) {
                g_autoptr(JsonNode) answer = rv_cli_http_request(cli, "POST", "/v1/setup/start", NULL, error);
                JsonObject *obj = answer != NULL ? json_node_get_object(answer) : NULL;
                return obj == NULL ? NULL
                                   : g_variant_ref_sink(
                                             g_variant_new("(st)", json_object_get_string_member(obj, "token"),
                                                           (guint64)json_object_get_int_member(obj, "expires_at")));
        }
        if (g_str_equal(method, "CompleteSetup") || g_str_equal(method, "CreateScopedApiKey")) {
                JsonObject *body = json_object_new();
                const char *first = NULL;
                const char *scope = NULL;
                guint32 burst = 0;
                guint32 period = 0;
                if (g_str_equal(method, "CompleteSetup")) {
                        const char *label = NULL;
                        g_variant_get(args, "(&s&s)", &first, &label);
                        json_object_set_string_member(body, "token", first);
                        json_object_set_string_member(body, "label", label);
                        return rv_cli_http_key(cli, "POST", "/v1/setup/complete", body, FALSE, error);
                }
                g_variant_get(args, "(&s&suu)", &first, &scope, &burst, &period);
                json_object_set_string_member(body, "label", first);
                json_object_set_string_member(body, "scope", scope);
                json_object_set_int_member(body, "burst", burst);
                json_object_set_int_member(body, "period_s", period);
                return rv_cli_http_key(cli, "POST", "/v1/keys", body, FALSE, error);
        }
        if (g_str_equal(method, "RotateApiKey") || g_str_equal(method, "RevokeApiKey")) {
                const char *key_id = NULL;
                g_autofree char *escaped = NULL;
                g_autofree char *target = NULL;
                g_variant_get(args, "(&s)", &key_id);
                escaped = g_uri_escape_string(key_id, NULL, FALSE);
                target =
                        g_strdup_printf("/v1/keys/%s%s", escaped, g_str_equal(method, "RotateApiKey") ? "/rotate" : "");
                if (g_str_equal(method, "RotateApiKey"))
                        return rv_cli_http_key(cli, "POST", target, NULL, TRUE, error);
                return rv_cli_http_empty(rv_cli_http_do(cli, "DELETE", target, NULL, error));
        }
        if (g_str_equal(method, "ListApiKeys"))
                return rv_cli_http_list_keys(cli, error);
        g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, _("%s is not available over HTTP"), method);
        return NULL;
}

static GVariant *
rv_cli_http_files(RvCli *cli, const char *hash, GError **error)
{
        g_autofree char *target = g_strdup_printf("/v1/torrents/%s/files", hash);
        g_autoptr(JsonNode) answer = rv_cli_http_request(cli, "GET", target, NULL, error);
        GVariantBuilder b;
        JsonArray *items;

        if (answer == NULL)
                return NULL;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a(usttyb)"));
        items = json_object_get_array_member(json_node_get_object(answer), "files");
        for (guint i = 0; i < json_array_get_length(items); i++) {
                JsonObject *f = json_array_get_object_element(items, i);
                g_variant_builder_add(
                        &b, "(usttyb)", (guint32)json_object_get_int_member(f, "index"),
                        json_object_get_string_member(f, "path"), (guint64)json_object_get_int_member(f, "size"),
                        (guint64)json_object_get_int_member(f, "done"),
                        (guint8)json_object_get_int_member(f, "priority"), json_object_get_boolean_member(f, "wanted"));
        }
        return g_variant_ref_sink(g_variant_new("(@a(usttyb))", g_variant_builder_end(&b)));
}

/* a PUT or POST with a JSON object body on a torrent */
static GVariant *
rv_cli_http_torrent_send(RvCli *cli, const char *method, const char *hash, const char *tail, JsonObject *body,
                         GError **error)
{
        g_autofree char *target = g_strdup_printf("/v1/torrents/%s%s", hash, tail);
        g_autoptr(JsonNode) request = body != NULL ? json_node_init_object(json_node_alloc(), body) : NULL;

        if (body != NULL)
                json_object_unref(body);
        return rv_cli_http_empty(rv_cli_http_do(cli, method, target, request, error));
}

static GVariant *
rv_cli_http_torrent_call(RvCli *cli, const char *hash, const char *method, GVariant *args, GError **error)
{
        JsonObject *body;

        if (g_str_equal(method, "Pause") || g_str_equal(method, "Resume") || g_str_equal(method, "Recheck") ||
            g_str_equal(method, "Reannounce")) {
                g_autofree char *tail = g_strdup_printf("/%s", method);
                tail[1] = g_ascii_tolower(tail[1]);
                return rv_cli_http_torrent_send(cli, "POST", hash, tail, NULL, error);
        }
        if (g_str_equal(method, "Remove")) {
                gboolean delete_data = FALSE;
                g_variant_get(args, "(b)", &delete_data);
                return rv_cli_http_torrent_send(cli, "DELETE", hash,
                                                delete_data ? "?delete_data=true" : "?delete_data=false", NULL, error);
        }
        if (g_str_equal(method, "ListFiles"))
                return rv_cli_http_files(cli, hash, error);
        body = json_object_new();
        if (g_str_equal(method, "MoveStorage")) {
                const char *save_path = NULL;
                g_variant_get(args, "(&s)", &save_path);
                json_object_set_string_member(body, "save_path", save_path);
                return rv_cli_http_torrent_send(cli, "POST", hash, "/move", body, error);
        }
        if (g_str_equal(method, "SetSelection")) {
                g_autoptr(GVariant) include = g_variant_get_child_value(args, 0);
                g_autoptr(GVariant) exclude = g_variant_get_child_value(args, 1);
                g_autoptr(GVariant) skip = g_variant_get_child_value(args, 2);
                json_object_set_member(body, "include", rv_cli_http_variant_to_json(include));
                json_object_set_member(body, "exclude", rv_cli_http_variant_to_json(exclude));
                json_object_set_boolean_member(body, "skip_fluff", g_variant_get_boolean(skip));
                return rv_cli_http_torrent_send(cli, "PUT", hash, "/selection", body, error);
        }
        if (g_str_equal(method, "SetFilePriorities")) {
                g_autoptr(GVariant) list = g_variant_get_child_value(args, 0);
                JsonArray *array = json_array_new();
                GVariantIter iter;
                guint32 index;
                guint8 priority;
                g_variant_iter_init(&iter, list);
                while (g_variant_iter_next(&iter, "(uy)", &index, &priority)) {
                        JsonObject *e = json_object_new();
                        json_object_set_int_member(e, "index", index);
                        json_object_set_int_member(e, "priority", priority);
                        json_array_add_object_element(array, e);
                }
                json_object_set_array_member(body, "priorities", array);
                return rv_cli_http_torrent_send(cli, "PUT", hash, "/files/priorities", body, error);
        }
        json_object_unref(body);
        g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, _("%s is not available over HTTP"), method);
        return NULL;
}

/* Update(a{sv}): property names and D-Bus values to the section's fields, null where D-Bus has -1 or "" */
static GVariant *
rv_cli_http_update(RvCli *cli, const char *section, GVariant *values, GError **error)
{
        g_autoptr(JsonNode) current = rv_cli_http_section(cli, section, error);
        g_autofree char *target = g_strdup_printf("/v1/settings/%s", section);
        g_autoptr(JsonNode) request = NULL;
        g_autoptr(JsonNode) answer = NULL;
        JsonObject *fields;
        JsonObject *body;
        GVariantIter iter;
        const char *property;
        GVariant *value;

        if (current == NULL)
                return NULL;
        fields = json_object_get_object_member(json_node_get_object(current), "fields");
        body = json_object_new();
        g_variant_iter_init(&iter, values);
        while (g_variant_iter_next(&iter, "{&sv}", &property, &value)) {
                g_autofree char *name = rv_cli_json_key(property);
                JsonObject *desc = json_object_get_object_member(fields, name);
                const char *type = desc != NULL ? json_object_get_string_member(desc, "type") : "";
                JsonNode *json = rv_cli_http_variant_to_json(value);
                if ((g_str_equal(type, "integer_or_null") && JSON_NODE_HOLDS_VALUE(json) &&
                     json_node_get_value_type(json) == G_TYPE_INT64 && json_node_get_int(json) < 0) ||
                    (g_str_equal(type, "string_or_null") && JSON_NODE_HOLDS_VALUE(json) &&
                     g_strcmp0(json_node_get_string(json), "") == 0))
                        json_node_init_null(json);
                json_object_set_member(body, name, json);
                g_variant_unref(value);
        }
        request = json_node_init_object(json_node_alloc(), body);
        json_object_unref(body);
        answer = rv_cli_http_request(cli, "PATCH", target, request, error);
        if (answer == NULL)
                return NULL;
        return g_variant_ref_sink(
                g_variant_new("(t)", (guint64)json_object_get_int_member(json_node_get_object(answer), "revision")));
}

static gint
rv_cli_http_compare_revision(gconstpointer a, gconstpointer b)
{
        gint64 ra = json_object_get_int_member(*(JsonObject *const *)a, "revision");
        gint64 rb = json_object_get_int_member(*(JsonObject *const *)b, "revision");

        return ra < rb ? 1 : ra > rb ? -1 : 0;
}

/* History(u): one list for every section, as D-Bus has it; the sections' histories merged */
static GVariant *
rv_cli_http_history(RvCli *cli, guint32 limit, GError **error)
{
        g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_autoptr(GPtrArray) answers = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
        GVariantBuilder b;

        for (guint s = 0; s < 3; s++) {
                const char *section = (const char *[]){ "app", "engine", "fs" }[s];
                g_autofree char *target = g_strdup_printf("/v1/settings/%s/history?limit=%u", section,
                                                          MIN(limit, RV_CLI_HTTP_HISTORY_MAX));
                JsonNode *answer = rv_cli_http_request(cli, "GET", target, NULL, error);
                JsonArray *items;
                if (answer == NULL)
                        return NULL;
                g_ptr_array_add(answers, answer);
                items = json_object_get_array_member(json_node_get_object(answer), "entries");
                for (guint i = 0; i < json_array_get_length(items); i++) {
                        JsonObject *e = json_array_get_object_element(items, i);
                        gpointer revision = GSIZE_TO_POINTER((gsize)json_object_get_int_member(e, "revision"));
                        if (!g_hash_table_add(seen, revision))
                                continue;
                        g_ptr_array_add(entries, json_object_ref(e));
                }
        }
        g_ptr_array_sort(entries, rv_cli_http_compare_revision);
        g_variant_builder_init(&b, G_VARIANT_TYPE("a(txsss)"));
        for (guint i = 0; i < entries->len && i < limit; i++) {
                JsonObject *e = g_ptr_array_index(entries, i);
                g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(json_object_get_string_member(e, "time"), NULL);
                g_autofree char *changes = json_to_string(json_object_get_member(e, "changes"), FALSE);
                g_variant_builder_add(&b, "(txsss)", (guint64)json_object_get_int_member(e, "revision"),
                                      dt != NULL ? g_date_time_to_unix(dt) * G_USEC_PER_SEC : 0,
                                      json_object_get_string_member(e, "actor"),
                                      json_object_get_string_member(e, "reason"), changes);
        }
        return g_variant_ref_sink(g_variant_new("(@a(txsss))", g_variant_builder_end(&b)));
}

GVariant *
rv_cli_http_call(RvCli *cli, const char *path, const char *iface, const char *method, GVariant *args, GError **error)
{
        g_autoptr(GVariant) sunk = args != NULL ? g_variant_ref_sink(args) : g_variant_ref_sink(g_variant_new("()"));
        const char *hash = rv_cli_http_hash_of(path);
        const char *section = rv_cli_http_section_of(path);

        if (g_str_equal(iface, RV_BUS_PROPERTIES_IFACE) && g_str_equal(method, "GetAll")) {
                const char *name = NULL;
                g_autoptr(GVariant) props = NULL;
                g_variant_get(sunk, "(&s)", &name);
                props = rv_cli_http_get_all(cli, path, name, error);
                return props != NULL ? g_variant_ref_sink(g_variant_new("(@a{sv})", props)) : NULL;
        }
        if (hash != NULL)
                return rv_cli_http_torrent_call(cli, hash, method, sunk, error);
        if (section != NULL && g_str_equal(method, "Update")) {
                g_autoptr(GVariant) values = g_variant_get_child_value(sunk, 0);
                return rv_cli_http_update(cli, section, values, error);
        }
        if (section != NULL && g_str_equal(method, "History")) {
                guint32 limit = 0;
                g_variant_get(sunk, "(u)", &limit);
                return rv_cli_http_history(cli, limit, error);
        }
        return rv_cli_http_manager_call(cli, method, sunk, error);
}

/* a torrent's writable properties: one PATCH */
gboolean
rv_cli_http_set_property(RvCli *cli, const char *path, const char *name, GVariant *value, GError **error)
{
        const char *hash = rv_cli_http_hash_of(path);
        g_autofree char *field = rv_cli_json_key(name);
        JsonObject *body = json_object_new();
        g_autoptr(GVariant) reply = NULL;

        if (hash == NULL) {
                json_object_unref(body);
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, _("%s cannot be set over HTTP"), name);
                return FALSE;
        }
        json_object_set_member(body, field, rv_cli_http_variant_to_json(value));
        reply = rv_cli_http_torrent_send(cli, "PATCH", hash, "", body, error);
        return reply != NULL;
}

/*
 * Following the event stream: a main loop of its own reads it as it comes;
 * when the connection drops, the stream is asked for again with
 * Last-Event-ID, so the events in between come from the service's ring and
 * none is missed or seen twice. SIGINT and SIGTERM end it normally.
 */
#define RV_CLI_HTTP_RETRY_MIN_MS 250
#define RV_CLI_HTTP_RETRY_MAX_MS 5000

typedef struct {
        RvCli *cli;
        RvCliHttpEventFunc func;
        gpointer user_data;
        GMainLoop *loop;
        GCancellable *cancellable;
        SoupMessage *msg;
        GInputStream *stream;
        GString *buffer;
        char buf[16384];
        guint64 last_id;
        gboolean have_id;
        guint retry_ms;
        gboolean told_lost;
        GError *error;
} RvCliFollow;

static void rv_cli_follow_connect(RvCliFollow *f);

static gboolean
rv_cli_follow_retry_cb(gpointer user_data)
{
        rv_cli_follow_connect(user_data);
        return G_SOURCE_REMOVE;
}

static void
rv_cli_follow_lost(RvCliFollow *f, const char *why)
{
        g_clear_object(&f->stream);
        g_clear_object(&f->msg);
        if (g_cancellable_is_cancelled(f->cancellable))
                return;
        if (!f->told_lost) {
                g_printerr("revaerctl: %s (%s)\n", _("the event stream was interrupted, resuming"), why);
                f->told_lost = TRUE;
        }
        g_timeout_add(f->retry_ms, rv_cli_follow_retry_cb, f);
        f->retry_ms = MIN(f->retry_ms * 2, RV_CLI_HTTP_RETRY_MAX_MS);
}

/* one "id/event/data" block */
static void
rv_cli_follow_block(RvCliFollow *f, const char *block)
{
        g_auto(GStrv) lines = g_strsplit(block, "\n", -1);
        const char *kind = NULL;
        const char *data = NULL;
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonNode *root;

        for (guint i = 0; lines[i] != NULL; i++) {
                if (g_str_has_prefix(lines[i], "id: ")) {
                        f->last_id = g_ascii_strtoull(lines[i] + 4, NULL, 10);
                        f->have_id = TRUE;
                } else if (g_str_has_prefix(lines[i], "event: ")) {
                        kind = lines[i] + 7;
                } else if (g_str_has_prefix(lines[i], "data: ")) {
                        data = lines[i] + 6;
                }
        }
        if (kind == NULL || data == NULL || !json_parser_load_from_data(parser, data, -1, NULL))
                return;
        root = json_parser_get_root(parser);
        if (root != NULL && JSON_NODE_HOLDS_OBJECT(root))
                f->func(kind, json_node_get_object(root), f->user_data);
}

static void
rv_cli_follow_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvCliFollow *f = user_data;
        g_autoptr(GError) error = NULL;
        gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
        char *end;

        if (n <= 0) {
                rv_cli_follow_lost(f, n == 0 ? _("closed") : error->message);
                return;
        }
        f->retry_ms = RV_CLI_HTTP_RETRY_MIN_MS;
        g_string_append_len(f->buffer, f->buf, n);
        while ((end = strstr(f->buffer->str, "\n\n")) != NULL) {
                g_autofree char *block = g_strndup(f->buffer->str, (gsize)(end - f->buffer->str));
                g_string_erase(f->buffer, 0, end - f->buffer->str + 2);
                rv_cli_follow_block(f, block);
        }
        g_input_stream_read_async(f->stream, f->buf, sizeof(f->buf), G_PRIORITY_DEFAULT, f->cancellable,
                                  rv_cli_follow_read_cb, f);
}

static void
rv_cli_follow_sent_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvCliFollow *f = user_data;
        g_autoptr(GError) error = NULL;
        guint status;

        f->stream = soup_session_send_finish(SOUP_SESSION(source), result, &error);
        if (f->stream == NULL) {
                rv_cli_follow_lost(f, error->message);
                return;
        }
        status = soup_message_get_status(f->msg);
        if (status != 200) {
                /* a refusal is final: a wrong key does not become right by waiting */
                g_autoptr(GBytes) body = g_input_stream_read_bytes(f->stream, 65536, NULL, NULL);
                g_autoptr(JsonParser) parser = json_parser_new();
                if (body != NULL && json_parser_load_from_data(parser, g_bytes_get_data(body, NULL),
                                                               (gssize)g_bytes_get_size(body), NULL))
                        rv_cli_http_problem(status, json_parser_get_root(parser), &f->error);
                else
                        rv_cli_http_problem(status, NULL, &f->error);
                g_main_loop_quit(f->loop);
                return;
        }
        if (f->told_lost) {
                g_printerr("revaerctl: %s\n", _("the event stream is back"));
                f->told_lost = FALSE;
        }
        g_string_truncate(f->buffer, 0);
        g_input_stream_read_async(f->stream, f->buf, sizeof(f->buf), G_PRIORITY_DEFAULT, f->cancellable,
                                  rv_cli_follow_read_cb, f);
}

static void
rv_cli_follow_connect(RvCliFollow *f)
{
        f->msg = rv_cli_http_message(f->cli, "GET", "/v1/events");
        if (f->have_id) {
                char id[32];
                g_snprintf(id, sizeof(id), "%" G_GUINT64_FORMAT, f->last_id);
                soup_message_headers_replace(soup_message_get_request_headers(f->msg), "Last-Event-ID", id);
        }
        soup_session_send_async(f->cli->http->session, f->msg, G_PRIORITY_DEFAULT, f->cancellable,
                                rv_cli_follow_sent_cb, f);
}

static gboolean
rv_cli_follow_stop_cb(gpointer user_data)
{
        RvCliFollow *f = user_data;

        g_cancellable_cancel(f->cancellable);
        g_main_loop_quit(f->loop);
        return G_SOURCE_CONTINUE;
}

gboolean
rv_cli_http_follow(RvCli *cli, RvCliHttpEventFunc func, gpointer user_data, GError **error)
{
        RvCliFollow f = { 0 };
        guint sigint;
        guint sigterm;

        f.cli = cli;
        f.func = func;
        f.user_data = user_data;
        f.loop = g_main_loop_new(NULL, FALSE);
        f.cancellable = g_cancellable_new();
        f.buffer = g_string_new(NULL);
        f.retry_ms = RV_CLI_HTTP_RETRY_MIN_MS;
        /* the stream has no end: the session's timeout would cut it */
        g_object_set(cli->http->session, "timeout", 0, NULL);
        sigint = g_unix_signal_add(SIGINT, rv_cli_follow_stop_cb, &f);
        sigterm = g_unix_signal_add(SIGTERM, rv_cli_follow_stop_cb, &f);
        rv_cli_follow_connect(&f);
        g_main_loop_run(f.loop);
        g_source_remove(sigint);
        g_source_remove(sigterm);
        /* let the cancelled read come back before its state goes */
        while (g_main_context_iteration(NULL, FALSE))
                ;
        g_clear_object(&f.stream);
        g_clear_object(&f.msg);
        g_object_unref(f.cancellable);
        g_main_loop_unref(f.loop);
        g_string_free(f.buffer, TRUE);
        if (f.error != NULL) {
                g_propagate_error(error, f.error);
                return FALSE;
        }
        return TRUE;
}
