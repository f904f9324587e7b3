/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-config"

#include "config.h"

#include <string.h>

#include "rv-bootstrap.h"

void
rv_bootstrap_init(RvBootstrap *config)
{
        memset(config, 0, sizeof(*config));
        config->log_level = g_strdup("info");
        config->resume_save_interval_s = 60;
        config->progress_interval_ms = 1000;
        config->shutdown_timeout_s = 60;
        config->add_timeout_s = 15;
        config->store_backend = g_strdup("embedded");
        config->bus = g_strdup("system");
        config->http_request_timeout_ms = 10000;
        config->http_event_queue = 1024 * 1024;
        config->http_auth_failures = 10;
        config->http_rate_limit = 1000;
        rv_engine_settings_init(&config->engine);
        config->sources = g_ptr_array_new_with_free_func(g_free);
}

void
rv_bootstrap_clear(RvBootstrap *config)
{
        g_free(config->state_dir);
        g_free(config->download_dir);
        g_free(config->log_level);
        g_free(config->store_backend);
        g_free(config->database_url);
        g_strfreev(config->cluster_pins);
        g_free(config->node_id);
        g_free(config->bus);
        g_free(config->http_listen);
        g_free(config->http_tls_certificate);
        g_free(config->http_tls_key);
        g_strfreev(config->http_allowed_hosts);
        rv_engine_settings_clear(&config->engine);
        if (config->sources != NULL)
                g_ptr_array_unref(config->sources);
        memset(config, 0, sizeof(*config));
}

typedef struct {
        const char *file;
        GKeyFile *kf;
} RvKeyCtx;

static void
rv_key_error(GError **error, const RvKeyCtx *ctx, const char *group, const char *key, const char *what)
{
        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: [%s] %s: %s", ctx->file, group, key, what);
}

static gboolean
rv_key_string(const RvKeyCtx *ctx, const char *group, const char *key, char **ret, GError **error)
{
        g_autofree char *value = NULL;

        if (!g_key_file_has_key(ctx->kf, group, key, NULL))
                return TRUE;
        value = g_key_file_get_string(ctx->kf, group, key, NULL);
        if (value == NULL) {
                rv_key_error(error, ctx, group, key, "not a valid string");
                return FALSE;
        }
        g_strstrip(value);
        g_free(*ret);
        *ret = value[0] != '\0' ? g_steal_pointer(&value) : NULL;
        return TRUE;
}

static gboolean
rv_key_path(const RvKeyCtx *ctx, const char *group, const char *key, char **ret, GError **error)
{
        g_autofree char *value = NULL;

        if (!rv_key_string(ctx, group, key, &value, error))
                return FALSE;
        if (value == NULL)
                return TRUE;
        if (!g_path_is_absolute(value)) {
                g_autofree char *msg = g_strdup_printf("'%s' is not an absolute path", value);
                rv_key_error(error, ctx, group, key, msg);
                return FALSE;
        }
        g_free(*ret);
        *ret = g_steal_pointer(&value);
        return TRUE;
}

static gboolean
rv_key_bool(const RvKeyCtx *ctx, const char *group, const char *key, gboolean *ret, GError **error)
{
        g_autofree char *value = NULL;

        if (!g_key_file_has_key(ctx->kf, group, key, NULL))
                return TRUE;
        value = g_strstrip(g_key_file_get_value(ctx->kf, group, key, NULL));
        if (g_ascii_strcasecmp(value, "true") == 0 || g_ascii_strcasecmp(value, "yes") == 0 ||
            g_strcmp0(value, "1") == 0) {
                *ret = TRUE;
        } else if (g_ascii_strcasecmp(value, "false") == 0 || g_ascii_strcasecmp(value, "no") == 0 ||
                   g_strcmp0(value, "0") == 0) {
                *ret = FALSE;
        } else {
                g_autofree char *msg = g_strdup_printf("'%s' is not a boolean (true or false)", value);
                rv_key_error(error, ctx, group, key, msg);
                return FALSE;
        }
        return TRUE;
}

static gboolean
rv_key_int(const RvKeyCtx *ctx, const char *group, const char *key, gint64 min, gint64 max, gint64 *ret, GError **error)
{
        g_autofree char *value = NULL;
        gint64 v = 0;

        if (!g_key_file_has_key(ctx->kf, group, key, NULL))
                return TRUE;
        value = g_strstrip(g_key_file_get_value(ctx->kf, group, key, NULL));
        if (!g_ascii_string_to_signed(value, 10, min, max, &v, NULL)) {
                g_autofree char *msg = g_strdup_printf(
                        "'%s' is not an integer from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, value, min, max);
                rv_key_error(error, ctx, group, key, msg);
                return FALSE;
        }
        *ret = v;
        return TRUE;
}

static gboolean
rv_key_uint(const RvKeyCtx *ctx, const char *group, const char *key, gint64 min, gint64 max, guint *ret, GError **error)
{
        gint64 v = *ret;

        if (!rv_key_int(ctx, group, key, min, max, &v, error))
                return FALSE;
        *ret = (guint)v;
        return TRUE;
}

static gboolean
rv_key_gint(const RvKeyCtx *ctx, const char *group, const char *key, gint64 min, gint64 max, gint *ret, GError **error)
{
        gint64 v = *ret;

        if (!rv_key_int(ctx, group, key, min, max, &v, error))
                return FALSE;
        *ret = (gint)v;
        return TRUE;
}

static const char *const rv_known_keys[] = {
        "daemon:state-dir",
        "daemon:download-dir",
        "daemon:log-level",
        "daemon:resume-save-interval",
        "daemon:progress-interval",
        "daemon:shutdown-timeout",
        "daemon:add-timeout",
        "daemon:sequential-default",
        "store:backend",
        "store:database-url",
        "store:node-id",
        "cluster:lease-seconds",
        "cluster:takeover",
        "cluster:placement",
        "cluster:pin",
        "cluster:command-timeout",
        "bus:bus",
        "http:listen",
        "http:tls-certificate",
        "http:tls-key",
        "http:allowed-hosts",
        "http:request-timeout",
        "http:event-queue",
        "http:auth-failures",
        "http:rate-limit",
        "engine:listen-interfaces",
        "engine:dht",
        "engine:lsd",
        "engine:upnp",
        "engine:natpmp",
        "engine:utp",
        "engine:encryption",
        "engine:download-limit",
        "engine:upload-limit",
        "engine:active-downloads",
        "engine:active-seeds",
        "engine:active-limit",
        "engine:connections-limit",
        "engine:status-interval",
        "engine:max-metadata-size",
        "engine:allow-multiple-connections-per-ip",
        NULL,
};

static gboolean
rv_bootstrap_check_keys(const RvKeyCtx *ctx, GError **error)
{
        g_auto(GStrv) groups = g_key_file_get_groups(ctx->kf, NULL);

        for (guint i = 0; groups[i] != NULL; i++) {
                g_auto(GStrv) keys = g_key_file_get_keys(ctx->kf, groups[i], NULL, NULL);
                for (guint j = 0; keys != NULL && keys[j] != NULL; j++) {
                        g_autofree char *full = g_strdup_printf("%s:%s", groups[i], keys[j]);
                        if (!g_strv_contains(rv_known_keys, full)) {
                                rv_key_error(error, ctx, groups[i], keys[j], "unknown key");
                                return FALSE;
                        }
                }
        }
        return TRUE;
}

/* a comma-separated list of host names (no ports, no spaces inside) */
static gboolean
rv_key_hosts(const RvKeyCtx *ctx, const char *group, const char *key, GStrv *ret, GError **error)
{
        g_autofree char *value = NULL;
        g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func(g_free);
        g_auto(GStrv) parts = NULL;

        if (!rv_key_string(ctx, group, key, &value, error) || value == NULL)
                return TRUE;
        parts = g_strsplit(value, ",", -1);
        for (guint i = 0; parts[i] != NULL; i++) {
                const char *host = g_strstrip(parts[i]);
                if (host[0] == '\0')
                        continue;
                if (strlen(host) > 253 ||
                    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(host)) {
                        g_autofree char *msg = g_strdup_printf("'%s' is not a host name", host);
                        rv_key_error(error, ctx, group, key, msg);
                        return FALSE;
                }
                g_ptr_array_add(hosts, g_ascii_strdown(host, -1));
        }
        g_ptr_array_add(hosts, NULL);
        g_strfreev(*ret);
        *ret = (GStrv)g_ptr_array_free(g_steal_pointer(&hosts), FALSE);
        return TRUE;
}

static gboolean
rv_bootstrap_apply_http(RvBootstrap *c, const RvKeyCtx *ctx, GError **error)
{
        if (!rv_key_string(ctx, "http", "listen", &c->http_listen, error) ||
            !rv_key_path(ctx, "http", "tls-certificate", &c->http_tls_certificate, error) ||
            !rv_key_path(ctx, "http", "tls-key", &c->http_tls_key, error) ||
            !rv_key_hosts(ctx, "http", "allowed-hosts", &c->http_allowed_hosts, error) ||
            !rv_key_uint(ctx, "http", "request-timeout", 100, 600000, &c->http_request_timeout_ms, error) ||
            !rv_key_uint(ctx, "http", "event-queue", 4096, 64 * 1024 * 1024, &c->http_event_queue, error) ||
            !rv_key_uint(ctx, "http", "auth-failures", 1, 100000, &c->http_auth_failures, error) ||
            !rv_key_uint(ctx, "http", "rate-limit", 1, 1000000, &c->http_rate_limit, error))
                return FALSE;
        return TRUE;
}

/* label:node pairs, comma-separated: labels and node ids as the rest of Revaer takes them */
static gboolean
rv_key_pins(const RvKeyCtx *ctx, const char *group, const char *key, GStrv *ret, GError **error)
{
        g_autofree char *value = NULL;
        g_autoptr(GStrvBuilder) pins = g_strv_builder_new();
        g_auto(GStrv) parts = NULL;

        if (!rv_key_string(ctx, group, key, &value, error) || value == NULL)
                return TRUE;
        parts = g_strsplit(value, ",", -1);
        for (guint i = 0; parts[i] != NULL; i++) {
                char *pair = g_strstrip(parts[i]);
                char *colon = strchr(pair, ':');
                if (pair[0] == '\0')
                        continue;
                if (colon == NULL || colon == pair || colon[1] == '\0' || strchr(colon + 1, ':') != NULL) {
                        g_autofree char *msg = g_strdup_printf("'%s' is not label:node", pair);
                        rv_key_error(error, ctx, group, key, msg);
                        return FALSE;
                }
                *colon = '\0';
                g_strv_builder_add(pins, g_strstrip(pair));
                g_strv_builder_add(pins, g_strstrip(colon + 1));
        }
        g_strfreev(*ret);
        *ret = g_strv_builder_end(pins);
        return TRUE;
}

/* any key in [cluster] makes the node take part; an empty group (as the example ships) does not */
static gboolean
rv_bootstrap_apply_cluster(RvBootstrap *c, const RvKeyCtx *ctx, GError **error)
{
        g_autofree char *takeover = NULL;
        g_autofree char *placement = NULL;
        g_auto(GStrv) keys = g_key_file_get_keys(ctx->kf, "cluster", NULL, NULL);

        if (keys == NULL || keys[0] == NULL)
                return TRUE;
        if (c->cluster_lease_s == 0)
                c->cluster_lease_s = RV_BOOTSTRAP_LEASE_DEFAULT_S;
        if (c->cluster_command_timeout_s == 0)
                c->cluster_command_timeout_s = RV_BOOTSTRAP_COMMAND_TIMEOUT_DEFAULT_S;
        if (!rv_key_uint(ctx, "cluster", "lease-seconds", 2, 3600, &c->cluster_lease_s, error) ||
            !rv_key_uint(ctx, "cluster", "command-timeout", 1, 600, &c->cluster_command_timeout_s, error) ||
            !rv_key_string(ctx, "cluster", "takeover", &takeover, error) ||
            !rv_key_string(ctx, "cluster", "placement", &placement, error) ||
            !rv_key_pins(ctx, "cluster", "pin", &c->cluster_pins, error))
                return FALSE;
        if (takeover != NULL && g_strcmp0(takeover, "shared-storage") != 0 && g_strcmp0(takeover, "fresh") != 0) {
                rv_key_error(error, ctx, "cluster", "takeover", "expected 'shared-storage' or 'fresh'");
                return FALSE;
        }
        if (takeover != NULL)
                c->cluster_takeover_fresh = g_str_equal(takeover, "fresh");
        if (placement != NULL && g_strcmp0(placement, "local") != 0 && g_strcmp0(placement, "least-loaded") != 0) {
                rv_key_error(error, ctx, "cluster", "placement", "expected 'local' or 'least-loaded'");
                return FALSE;
        }
        if (placement != NULL)
                c->cluster_least_loaded = g_str_equal(placement, "least-loaded");
        return TRUE;
}

static gboolean
rv_bootstrap_apply(RvBootstrap *c, const RvKeyCtx *ctx, GError **error)
{
        RvEngineSettings *e = &c->engine;
        g_autofree char *enc = NULL;
        g_autofree char *level = NULL;
        g_autofree char *backend = NULL;
        g_autofree char *bus = NULL;
        gint64 dl = e->download_rate_limit;
        gint64 ul = e->upload_rate_limit;
        gint64 meta = e->max_metadata_size;

        if (!rv_bootstrap_check_keys(ctx, error))
                return FALSE;
        if (!rv_key_path(ctx, "daemon", "state-dir", &c->state_dir, error) ||
            !rv_key_path(ctx, "daemon", "download-dir", &c->download_dir, error) ||
            !rv_key_string(ctx, "daemon", "log-level", &level, error) ||
            !rv_key_uint(ctx, "daemon", "resume-save-interval", 1, 86400, &c->resume_save_interval_s, error) ||
            !rv_key_uint(ctx, "daemon", "progress-interval", 100, 60000, &c->progress_interval_ms, error) ||
            !rv_key_uint(ctx, "daemon", "shutdown-timeout", 1, 3600, &c->shutdown_timeout_s, error) ||
            /* below the 25 s a D-Bus client waits for the reply, so the caller hears the outcome */
            !rv_key_uint(ctx, "daemon", "add-timeout", 1, 20, &c->add_timeout_s, error) ||
            !rv_key_bool(ctx, "daemon", "sequential-default", &c->sequential_default, error))
                return FALSE;
        if (level != NULL) {
                if (rv_log_level_from_string(level) < 0) {
                        rv_key_error(error, ctx, "daemon", "log-level",
                                     "expected one of err, warning, notice, info, debug");
                        return FALSE;
                }
                g_free(c->log_level);
                c->log_level = g_steal_pointer(&level);
        }
        if (!rv_key_string(ctx, "store", "backend", &backend, error) ||
            !rv_key_string(ctx, "store", "database-url", &c->database_url, error) ||
            !rv_key_string(ctx, "store", "node-id", &c->node_id, error))
                return FALSE;
        if (backend != NULL) {
                if (g_strcmp0(backend, "embedded") != 0 && g_strcmp0(backend, "postgres") != 0) {
                        rv_key_error(error, ctx, "store", "backend", "expected 'embedded' or 'postgres'");
                        return FALSE;
                }
                g_free(c->store_backend);
                c->store_backend = g_steal_pointer(&backend);
        }
        if (!rv_bootstrap_apply_cluster(c, ctx, error) || !rv_key_string(ctx, "bus", "bus", &bus, error))
                return FALSE;
        if (bus != NULL) {
                if (g_strcmp0(bus, "system") != 0 && g_strcmp0(bus, "session") != 0 && g_strcmp0(bus, "none") != 0) {
                        rv_key_error(error, ctx, "bus", "bus", "expected 'system', 'session' or 'none'");
                        return FALSE;
                }
                g_free(c->bus);
                c->bus = g_steal_pointer(&bus);
        }
        if (!rv_bootstrap_apply_http(c, ctx, error))
                return FALSE;

        if (!rv_key_string(ctx, "engine", "listen-interfaces", &e->listen_interfaces, error) ||
            !rv_key_bool(ctx, "engine", "dht", &e->enable_dht, error) ||
            !rv_key_bool(ctx, "engine", "lsd", &e->enable_lsd, error) ||
            !rv_key_bool(ctx, "engine", "upnp", &e->enable_upnp, error) ||
            !rv_key_bool(ctx, "engine", "natpmp", &e->enable_natpmp, error) ||
            !rv_key_bool(ctx, "engine", "utp", &e->enable_utp, error) ||
            !rv_key_string(ctx, "engine", "encryption", &enc, error) ||
            !rv_key_int(ctx, "engine", "download-limit", 0, G_MAXINT32, &dl, error) ||
            !rv_key_int(ctx, "engine", "upload-limit", 0, G_MAXINT32, &ul, error) ||
            !rv_key_gint(ctx, "engine", "active-downloads", -1, 100000, &e->active_downloads, error) ||
            !rv_key_gint(ctx, "engine", "active-seeds", -1, 100000, &e->active_seeds, error) ||
            !rv_key_gint(ctx, "engine", "active-limit", -1, 100000, &e->active_limit, error) ||
            !rv_key_gint(ctx, "engine", "connections-limit", 2, 65535, &e->connections_limit, error) ||
            !rv_key_uint(ctx, "engine", "status-interval", 50, 10000, &e->status_interval_ms, error) ||
            !rv_key_int(ctx, "engine", "max-metadata-size", 16 * 1024, 256 * 1024 * 1024, &meta, error) ||
            !rv_key_bool(ctx, "engine", "allow-multiple-connections-per-ip", &e->allow_multiple_connections_per_ip,
                         error))
                return FALSE;
        if (enc != NULL && !rv_encryption_from_string(enc, &e->encryption)) {
                rv_key_error(error, ctx, "engine", "encryption", "expected 'prefer', 'require' or 'disable'");
                return FALSE;
        }
        if (e->listen_interfaces == NULL) {
                rv_key_error(error, ctx, "engine", "listen-interfaces", "must not be empty");
                return FALSE;
        }
        e->download_rate_limit = dl;
        e->upload_rate_limit = ul;
        e->max_metadata_size = meta;
        return TRUE;
}

static gboolean
rv_bootstrap_load_file(RvBootstrap *config, const char *path, GError **error)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) error_local = NULL;
        RvKeyCtx ctx = { path, kf };

        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error_local)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "%s: %s", path, error_local->message);
                return FALSE;
        }
        if (!rv_bootstrap_apply(config, &ctx, error))
                return FALSE;
        g_ptr_array_add(config->sources, g_strdup(path));
        return TRUE;
}

static gint
rv_cmp_strings(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

/* what only the files together can say */
static gboolean
rv_bootstrap_check(RvBootstrap *config, const char *path, GError **error)
{
        if ((config->http_tls_certificate == NULL) != (config->http_tls_key == NULL)) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "%s: [http] tls-certificate and tls-key: give both, or neither", path);
                return FALSE;
        }
        return TRUE;
}

gboolean
rv_bootstrap_load(RvBootstrap *config, const char *path, GError **error)
{
        g_autofree char *dropins = NULL;
        g_autoptr(GDir) dir = NULL;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *name;

        if (path == NULL)
                return TRUE;
        if (g_file_test(path, G_FILE_TEST_EXISTS) && !rv_bootstrap_load_file(config, path, error))
                return FALSE;
        dropins = g_strconcat(path, ".d", NULL);
        dir = g_dir_open(dropins, 0, NULL);
        if (dir == NULL)
                return rv_bootstrap_check(config, path, error);
        while ((name = g_dir_read_name(dir)) != NULL) {
                if (g_str_has_suffix(name, ".conf") && name[0] != '.')
                        g_ptr_array_add(names, g_build_filename(dropins, name, NULL));
        }
        g_ptr_array_sort(names, rv_cmp_strings);
        for (guint i = 0; i < names->len; i++) {
                if (!rv_bootstrap_load_file(config, g_ptr_array_index(names, i), error))
                        return FALSE;
        }
        return rv_bootstrap_check(config, path, error);
}
