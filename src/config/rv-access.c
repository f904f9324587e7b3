/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-config"

#include "config.h"

#include <string.h>
#include <sys/random.h>

#include "rv-access.h"
#include "rv-validate.h"
#include "rv-json.h"

struct _RvAccess {
        GObject parent_instance;
        RvStore *store;
        RvLiveSettings *config;
        /* key_id -> RvStoreApiKey */
        GHashTable *keys;
        /* the next try at recording the mode, after the store refused it */
        guint mode_retry;
};

/* how long after a refused write of the mode it is tried again */
#define RV_ACCESS_MODE_RETRY_S 2

G_DEFINE_TYPE(RvAccess, rv_access, G_TYPE_OBJECT)

static void
rv_access_finalize(GObject *object)
{
        RvAccess *self = RV_ACCESS(object);

        if (self->mode_retry != 0)
                g_source_remove(self->mode_retry);
        if (self->store != NULL)
                rv_store_set_keys_changed_func(self->store, NULL, NULL);
        g_hash_table_unref(self->keys);
        g_clear_object(&self->config);
        G_OBJECT_CLASS(rv_access_parent_class)->finalize(object);
}

static void
rv_access_class_init(RvAccessClass *klass)
{
        G_OBJECT_CLASS(klass)->finalize = rv_access_finalize;
}

static void
rv_access_init(RvAccess *self)
{
        self->keys = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rv_store_api_key_free);
}

static void rv_access_keys_changed_cb(RvStore *store, gpointer user_data);

RvAccess *
rv_access_new(RvStore *store, RvLiveSettings *config)
{
        RvAccess *self = g_object_new(RV_TYPE_ACCESS, NULL);

        self->store = store;
        self->config = g_object_ref(config);
        rv_store_set_keys_changed_func(store, rv_access_keys_changed_cb, self);
        return self;
}

/* n random bytes from the kernel, as unpadded base64url */
static char *
rv_access_random(gsize n)
{
        guint8 buf[64];
        g_autofree char *b64 = NULL;
        gsize got = 0;

        g_return_val_if_fail(n <= sizeof(buf), NULL);
        while (got < n) {
                ssize_t r = getrandom(buf + got, n - got, 0);
                if (r > 0)
                        got += (gsize)r;
        }
        b64 = g_base64_encode(buf, n);
        explicit_bzero(buf, sizeof(buf));
        for (char *p = b64; *p != '\0'; p++) {
                if (*p == '+')
                        *p = '-';
                else if (*p == '/')
                        *p = '_';
                else if (*p == '=')
                        *p = '\0';
        }
        return g_steal_pointer(&b64);
}

/* the secrets are 256 random bits: a fast hash is enough, nothing can be guessed */
char *
rv_access_hash_secret(const char *secret)
{
        return g_compute_checksum_for_string(G_CHECKSUM_SHA256, secret, -1);
}

gboolean
rv_access_equal_constant_time(const char *a, const char *b)
{
        gsize la = a != NULL ? strlen(a) : 0;
        gsize lb = b != NULL ? strlen(b) : 0;
        guint8 diff = (guint8)(la != lb);

        if (a == NULL || b == NULL)
                return FALSE;
        /* the time depends on the length of a only, never on where they differ */
        for (gsize i = 0; i < la; i++)
                diff |= (guint8)a[i] ^ (guint8)(i < lb ? b[i] : 0);
        return diff == 0;
}

static void
rv_access_secret_free(char *secret)
{
        if (secret != NULL)
                explicit_bzero(secret, strlen(secret));
        g_free(secret);
}

gboolean
rv_access_in_setup(RvAccess *self)
{
        return g_hash_table_size(self->keys) == 0;
}

GPtrArray *
rv_access_list_keys(RvAccess *self)
{
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)rv_store_api_key_free);
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, self->keys);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                g_ptr_array_add(out, rv_store_api_key_copy(value));
        return out;
}

const RvStoreApiKey *
rv_access_verify(RvAccess *self, const char *key_id, const char *secret)
{
        RvStoreApiKey *key = key_id != NULL ? g_hash_table_lookup(self->keys, key_id) : NULL;
        g_autofree char *hash = secret != NULL ? rv_access_hash_secret(secret) : NULL;
        /* hash something even for an unknown key, so both paths take the same time */
        gboolean match = rv_access_equal_constant_time(hash, key != NULL ? key->secret_hash : "");

        if (key == NULL || !key->enabled || !match)
                return NULL;
        return key;
}

const RvStoreApiKey *
rv_access_verify_token(RvAccess *self, const char *token)
{
        const char *colon = token != NULL ? strchr(token, ':') : NULL;
        g_autofree char *key_id = NULL;

        /* still hash something for a malformed token, so it takes as long as a wrong one */
        if (colon == NULL || colon == token)
                return rv_access_verify(self, NULL, token != NULL ? token : "");
        key_id = g_strndup(token, (gsize)(colon - token));
        return rv_access_verify(self, key_id, colon + 1);
}

RvScope
rv_access_key_scope(const RvStoreApiKey *key)
{
        RvScope scope = RV_SCOPE_ADMIN;

        if (key == NULL)
                return RV_SCOPE_METRICS;
        if (key->scope != NULL && !rv_scope_from_string(key->scope, &scope))
                /* a scope this version does not know may not be stretched into more */
                return RV_SCOPE_METRICS;
        return scope;
}

/* the mode follows the keys: active with one, setup with none */
static void rv_access_sync_mode(RvAccess *self);

static gboolean
rv_access_mode_retry_cb(gpointer user_data)
{
        RvAccess *self = user_data;

        self->mode_retry = 0;
        rv_access_sync_mode(self);
        return G_SOURCE_REMOVE;
}

/* a mode the store refused (disk full, PostgreSQL away) is tried again until it is recorded */
static void
rv_access_mode_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(RvAccess) self = user_data;
        g_autoptr(GError) error = NULL;

        if (rv_live_settings_update_finish(RV_LIVE_SETTINGS(source), result, &error) != 0 || error == NULL)
                return;
        if (!g_error_matches(error, RV_ERROR, RV_ERROR_UNAVAILABLE) &&
            !g_error_matches(error, RV_ERROR, RV_ERROR_CONFLICT)) {
                g_debug("cannot record the service mode: %s, ignoring", error->message);
                return;
        }
        g_debug("cannot record the service mode: %s, trying again in %d s", error->message, RV_ACCESS_MODE_RETRY_S);
        if (self->mode_retry == 0)
                self->mode_retry = g_timeout_add_seconds(RV_ACCESS_MODE_RETRY_S, rv_access_mode_retry_cb, self);
}

static void
rv_access_sync_mode(RvAccess *self)
{
        const char *want = rv_access_in_setup(self) ? "setup" : "active";
        JsonObject *patch;
        g_autoptr(JsonNode) node = NULL;

        if (g_strcmp0(rv_settings_get_string(rv_live_settings_get_document(self->config), "app", "mode"), want) == 0)
                return;
        patch = json_object_new();
        json_object_set_string_member(patch, "/app/mode", want);
        node = rv_json_node_take_object(patch);
        rv_live_settings_update_internal_async(self->config, node, "setup",
                                               g_str_equal(want, "active") ? "the first API key exists"
                                                                           : "no API key is left",
                                               rv_access_mode_cb, g_object_ref(self));
}

static void
rv_access_loaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        RvAccess *self = g_task_get_source_object(task);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) keys = rv_store_list_api_keys_finish(NULL, result, &error);

        if (keys == NULL) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        g_hash_table_remove_all(self->keys);
        for (guint i = 0; i < keys->len; i++) {
                RvStoreApiKey *k = rv_store_api_key_copy(g_ptr_array_index(keys, i));
                g_hash_table_replace(self->keys, k->key_id, k);
        }
        rv_access_sync_mode(self);
        g_task_return_boolean(task, TRUE);
}

void
rv_access_load_async(RvAccess *self, GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = g_task_new(self, NULL, callback, user_data);

        rv_store_list_api_keys_async(self->store, NULL, rv_access_loaded_cb, task);
}

gboolean
rv_access_load_finish(RvAccess *self, GAsyncResult *result, GError **error)
{
        return g_task_propagate_boolean(G_TASK(result), error);
}

static void
rv_access_reloaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(RvAccess) self = user_data;
        g_autoptr(GError) error = NULL;

        if (!rv_access_load_finish(self, result, &error))
                g_debug("reading the API keys again: %s, keeping the ones known", error->message);
}

/* another node made, changed or revoked a key: it holds here at once */
static void
rv_access_keys_changed_cb(RvStore *store, gpointer user_data)
{
        RvAccess *self = user_data;

        rv_access_load_async(self, rv_access_reloaded_cb, g_object_ref(self));
}

/* setup token */

typedef struct {
        char *token;
        gint64 expires_at;
} RvAccessToken;

static void
rv_access_token_free(RvAccessToken *t)
{
        rv_access_secret_free(t->token);
        g_free(t);
}

static void
rv_access_token_stored_cb(const GError *error, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;

        if (error != NULL) {
                g_task_return_error(task, g_error_copy(error));
                return;
        }
        g_task_return_boolean(task, TRUE);
}

void
rv_access_issue_setup_token_async(RvAccess *self, const char *issued_by, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
        GTask *task = g_task_new(self, NULL, callback, user_data);
        RvAccessToken *t;
        g_autofree char *hash = NULL;

        if (!rv_access_in_setup(self)) {
                g_task_return_new_error(task, RV_ERROR, RV_ERROR_CONFLICT,
                                        "the service is set up already: manage API keys instead");
                g_object_unref(task);
                return;
        }
        t = g_new0(RvAccessToken, 1);
        t->token = rv_access_random(24);
        t->expires_at = g_get_real_time() / G_USEC_PER_SEC + RV_ACCESS_TOKEN_LIFETIME_S;
        hash = rv_access_hash_secret(t->token);
        g_task_set_task_data(task, t, (GDestroyNotify)rv_access_token_free);
        /* storing it replaces any earlier token: at most one is active */
        rv_store_put_setup_token(self->store, hash, t->expires_at, issued_by, rv_access_token_stored_cb, task);
}

char *
rv_access_issue_setup_token_finish(RvAccess *self, GAsyncResult *result, gint64 *ret_expires_at, GError **error)
{
        RvAccessToken *t = g_task_get_task_data(G_TASK(result));

        if (!g_task_propagate_boolean(G_TASK(result), error))
                return NULL;
        if (ret_expires_at != NULL)
                *ret_expires_at = t->expires_at;
        return g_strdup(t->token);
}

/* keys */

typedef struct {
        RvStoreApiKey *key;
        char *secret;
        /* the first key of CompleteSetup: the hash of the token it took */
        char *setup_token_hash;
} RvAccessKeyResult;

static void
rv_access_key_result_free(RvAccessKeyResult *r)
{
        rv_store_api_key_free(r->key);
        rv_access_secret_free(r->secret);
        g_free(r->setup_token_hash);
        g_free(r);
}

static void
rv_access_key_stored_cb(const GError *error, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        RvAccess *self = g_task_get_source_object(task);
        RvAccessKeyResult *r = g_task_get_task_data(task);
        RvStoreApiKey *copy;

        if (error != NULL) {
                /*
                 * setup refused after its token was taken: the token is put
                 * back (for a lifetime from now; the store does not say how
                 * much was left), so the user tries again with the same one
                 */
                if (r->setup_token_hash != NULL)
                        rv_store_put_setup_token(self->store, r->setup_token_hash,
                                                 g_get_real_time() / G_USEC_PER_SEC + RV_ACCESS_TOKEN_LIFETIME_S,
                                                 "setup refused by the store", NULL, NULL);
                g_task_return_error(task, g_error_copy(error));
                return;
        }
        copy = rv_store_api_key_copy(r->key);
        g_hash_table_replace(self->keys, copy->key_id, copy);
        rv_access_sync_mode(self);
        g_task_return_boolean(task, TRUE);
}

static void
rv_access_store_new_key(RvAccess *self, GTask *task, const char *label, const char *scope, guint burst, guint period_s,
                        const char *setup_token_hash)
{
        RvAccessKeyResult *r = g_new0(RvAccessKeyResult, 1);
        g_autofree char *id_random = rv_access_random(9);

        r->secret = rv_access_random(32);
        r->key = g_new0(RvStoreApiKey, 1);
        r->key->key_id = g_strdup_printf("rk_%s", id_random);
        r->key->label = g_strdup(label);
        r->key->secret_hash = rv_access_hash_secret(r->secret);
        r->key->enabled = TRUE;
        r->key->burst = burst;
        r->key->period_s = period_s;
        r->key->created = g_get_real_time() / G_USEC_PER_SEC;
        r->key->scope = g_strdup(scope);
        r->setup_token_hash = g_strdup(setup_token_hash);
        g_task_set_task_data(task, r, (GDestroyNotify)rv_access_key_result_free);
        rv_store_put_api_key(self->store, r->key, rv_access_key_stored_cb, task);
}

void
rv_access_create_key_async(RvAccess *self, const char *label, guint burst, guint period_s, GAsyncReadyCallback callback,
                           gpointer user_data)
{
        rv_access_create_key_scoped_async(self, label, "admin", burst, period_s, callback, user_data);
}

void
rv_access_create_key_scoped_async(RvAccess *self, const char *label, const char *scope, guint burst, guint period_s,
                                  GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = g_task_new(self, NULL, callback, user_data);
        g_autoptr(GError) error = NULL;

        if (rv_validate_key_label(label, &error) && rv_validate_key_rate(burst, period_s, &error) &&
            rv_validate_key_scope(scope, &error)) {
                if (g_hash_table_size(self->keys) >= RV_ACCESS_MAX_KEYS)
                        g_set_error(&error, RV_ERROR, RV_ERROR_CONFLICT, "at most %d API keys", RV_ACCESS_MAX_KEYS);
        }
        if (error != NULL) {
                g_task_return_error(task, g_steal_pointer(&error));
                g_object_unref(task);
                return;
        }
        rv_access_store_new_key(self, task, label, scope, burst, period_s, NULL);
}

typedef struct {
        char *label;
        char *token_hash;
} RvAccessSetup;

static void
rv_access_setup_free(RvAccessSetup *s)
{
        g_free(s->label);
        g_free(s->token_hash);
        g_free(s);
}

static void
rv_access_token_taken_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        RvAccess *self = g_task_get_source_object(task);
        g_autoptr(GError) error = NULL;
        g_autofree char *label = NULL;
        g_autofree char *hash = NULL;

        if (!rv_store_take_setup_token_finish(NULL, result, &error)) {
                if (error == NULL)
                        g_set_error_literal(&error, RV_ERROR, RV_ERROR_ACCESS_DENIED,
                                            "the setup token is wrong, used or expired");
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        label = g_strdup(((RvAccessSetup *)g_task_get_task_data(task))->label);
        hash = g_strdup(((RvAccessSetup *)g_task_get_task_data(task))->token_hash);
        rv_access_store_new_key(self, g_steal_pointer(&task), label, "admin", 0, 0, hash);
}

void
rv_access_complete_setup_async(RvAccess *self, const char *token, const char *label, GAsyncReadyCallback callback,
                               gpointer user_data)
{
        GTask *task = g_task_new(self, NULL, callback, user_data);
        g_autoptr(GError) error = NULL;
        g_autofree char *hash = NULL;
        RvAccessSetup *s;

        if (!rv_validate_key_label(label, &error)) {
                g_task_return_error(task, g_steal_pointer(&error));
                g_object_unref(task);
                return;
        }
        if (!rv_access_in_setup(self)) {
                g_task_return_new_error(task, RV_ERROR, RV_ERROR_CONFLICT, "the service is set up already");
                g_object_unref(task);
                return;
        }
        s = g_new0(RvAccessSetup, 1);
        s->label = g_strdup(label);
        hash = rv_access_hash_secret(token != NULL ? token : "");
        s->token_hash = g_strdup(hash);
        g_task_set_task_data(task, s, (GDestroyNotify)rv_access_setup_free);
        rv_store_take_setup_token_async(self->store, hash, g_get_real_time() / G_USEC_PER_SEC, NULL,
                                        rv_access_token_taken_cb, task);
}

void
rv_access_rotate_key_async(RvAccess *self, const char *key_id, GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = g_task_new(self, NULL, callback, user_data);
        RvStoreApiKey *old = key_id != NULL ? g_hash_table_lookup(self->keys, key_id) : NULL;
        RvAccessKeyResult *r;

        if (old == NULL) {
                g_task_return_new_error(task, RV_ERROR, RV_ERROR_NOT_FOUND, "no API key '%s'",
                                        key_id != NULL ? key_id : "");
                g_object_unref(task);
                return;
        }
        r = g_new0(RvAccessKeyResult, 1);
        r->secret = rv_access_random(32);
        r->key = rv_store_api_key_copy(old);
        g_free(r->key->secret_hash);
        r->key->secret_hash = rv_access_hash_secret(r->secret);
        g_task_set_task_data(task, r, (GDestroyNotify)rv_access_key_result_free);
        rv_store_put_api_key(self->store, r->key, rv_access_key_stored_cb, task);
}

gboolean
rv_access_key_finish(RvAccess *self, GAsyncResult *result, char **ret_key_id, char **ret_secret, GError **error)
{
        RvAccessKeyResult *r = g_task_get_task_data(G_TASK(result));

        if (!g_task_propagate_boolean(G_TASK(result), error))
                return FALSE;
        *ret_key_id = g_strdup(r->key->key_id);
        *ret_secret = g_strdup(r->secret);
        return TRUE;
}

static void
rv_access_revoked_cb(const GError *error, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        RvAccess *self = g_task_get_source_object(task);

        if (error != NULL) {
                g_task_return_error(task, g_error_copy(error));
                return;
        }
        g_hash_table_remove(self->keys, g_task_get_task_data(task));
        rv_access_sync_mode(self);
        g_task_return_boolean(task, TRUE);
}

void
rv_access_revoke_key_async(RvAccess *self, const char *key_id, GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = g_task_new(self, NULL, callback, user_data);

        if (key_id == NULL || !g_hash_table_contains(self->keys, key_id)) {
                g_task_return_new_error(task, RV_ERROR, RV_ERROR_NOT_FOUND, "no API key '%s'",
                                        key_id != NULL ? key_id : "");
                g_object_unref(task);
                return;
        }
        g_task_set_task_data(task, g_strdup(key_id), g_free);
        rv_store_delete_api_key(self->store, key_id, rv_access_revoked_cb, task);
}

gboolean
rv_access_revoke_key_finish(RvAccess *self, GAsyncResult *result, GError **error)
{
        return g_task_propagate_boolean(G_TASK(result), error);
}
