/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-config"

#include "config.h"

#include "rv-live-settings.h"
#include "rv-json.h"

struct _RvLiveSettings {
        GObject parent_instance;
        RvStore *store;
        JsonNode *document;
        guint64 revision;
        /* a newer revision announced while a reload was running */
        guint64 wanted_revision;
        gboolean reloading;
        /* updates run one after the other, so compare-and-set never races ourselves */
        GQueue updates;
        gboolean updating;
};

G_DEFINE_TYPE(RvLiveSettings, rv_live_settings, G_TYPE_OBJECT)

enum {
        SIGNAL_CHANGED,
        SIGNAL_LAST,
};

static guint signals[SIGNAL_LAST];

typedef struct {
        JsonNode *patch;
        char *actor;
        char *reason;
        JsonNode *document;
        JsonNode *changes;
        gboolean retried;
        gboolean internal;
        /* the revision the caller saw (If-Match); 0: any */
        guint64 expected;
} RvConfigUpdate;

static void
rv_live_settings_update_free(RvConfigUpdate *u)
{
        if (u->patch != NULL)
                json_node_unref(u->patch);
        if (u->document != NULL)
                json_node_unref(u->document);
        if (u->changes != NULL)
                json_node_unref(u->changes);
        g_free(u->actor);
        g_free(u->reason);
        g_free(u);
}

static void rv_live_settings_store_changed_cb(RvStore *store, guint64 revision, gpointer user_data);

static void
rv_live_settings_finalize(GObject *object)
{
        RvLiveSettings *self = RV_LIVE_SETTINGS(object);

        if (self->store != NULL)
                rv_store_set_settings_changed_func(self->store, NULL, NULL);
        if (self->document != NULL)
                json_node_unref(self->document);
        g_queue_clear_full(&self->updates, g_object_unref);
        G_OBJECT_CLASS(rv_live_settings_parent_class)->finalize(object);
}

static void
rv_live_settings_class_init(RvLiveSettingsClass *klass)
{
        G_OBJECT_CLASS(klass)->finalize = rv_live_settings_finalize;
        signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                               NULL, G_TYPE_NONE, 3, G_TYPE_UINT64, G_TYPE_POINTER, G_TYPE_STRING);
}

static void
rv_live_settings_init(RvLiveSettings *self)
{
        g_queue_init(&self->updates);
        self->document = rv_settings_defaults();
}

RvLiveSettings *
rv_live_settings_new(RvStore *store)
{
        RvLiveSettings *self = g_object_new(RV_TYPE_LIVE_SETTINGS, NULL);

        self->store = store;
        rv_store_set_settings_changed_func(store, rv_live_settings_store_changed_cb, self);
        return self;
}

JsonNode *
rv_live_settings_get_document(RvLiveSettings *self)
{
        return self->document;
}

guint64
rv_live_settings_get_revision(RvLiveSettings *self)
{
        return self->revision;
}

static void
rv_live_settings_set_current(RvLiveSettings *self, JsonNode *document, guint64 revision)
{
        if (self->document != NULL)
                json_node_unref(self->document);
        self->document = json_node_ref(document);
        self->revision = revision;
}

/* what changed between two documents, in the history format */
static JsonNode *
rv_live_settings_diff(JsonNode *old, JsonNode *new)
{
        JsonObject *changes = json_object_new();

        for (const RvSettingDesc *d = rv_settings_fields(); d->name != NULL; d++) {
                JsonNode *a = rv_settings_get(old, d);
                JsonNode *b = rv_settings_get(new, d);
                JsonObject *c;
                if (a != NULL && b != NULL && json_node_equal(a, b))
                        continue;
                c = json_object_new();
                json_object_set_member(c, "old", a != NULL ? json_node_copy(a) : json_node_new(JSON_NODE_NULL));
                json_object_set_member(c, "new", b != NULL ? json_node_copy(b) : json_node_new(JSON_NODE_NULL));
                json_object_set_object_member(changes, d->pointer, c);
        }
        return rv_json_node_take_object(changes);
}

/* loading and seeding */

static void
rv_live_settings_seeded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        RvLiveSettings *self = g_task_get_source_object(task);
        JsonNode *document = g_task_get_task_data(task);
        g_autoptr(GError) error = NULL;
        guint64 revision = rv_store_save_settings_finish(self->store, result, &error);

        if (revision == 0) {
                /* another node seeded first: take what is stored */
                if (g_error_matches(error, RV_ERROR, RV_ERROR_CONFLICT)) {
                        rv_live_settings_store_changed_cb(self->store, 0, self);
                        g_task_return_boolean(task, TRUE);
                        return;
                }
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        rv_live_settings_set_current(self, document, revision);
        g_task_return_boolean(task, TRUE);
}

static void
rv_live_settings_loaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        RvLiveSettings *self = g_task_get_source_object(task);
        JsonNode *initial = g_task_get_task_data(task);
        g_autoptr(GError) error = NULL;
        g_autoptr(RvStoreSettings) stored = rv_store_load_settings_finish(self->store, result, &error);
        g_autoptr(JsonNode) document = NULL;

        if (stored == NULL) {
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        if (stored->document == NULL) {
                RvStoreHistoryEntry entry = { 0 };
                g_autoptr(JsonNode) changes = NULL;
                g_autoptr(JsonNode) defaults = rv_settings_defaults();
                document = initial != NULL ? rv_settings_apply_patch(defaults, initial, &changes, &error)
                                           : json_node_ref(defaults);
                if (document == NULL) {
                        g_prefix_error(&error, "initial settings: ");
                        g_task_return_error(task, g_steal_pointer(&error));
                        return;
                }
                entry.actor = (char *)"bootstrap";
                entry.reason = (char *)"first start";
                entry.changes = changes;
                g_task_set_task_data(task, json_node_ref(document), (GDestroyNotify)json_node_unref);
                rv_store_save_settings_async(self->store, 0, document, &entry, NULL, rv_live_settings_seeded_cb,
                                             g_steal_pointer(&task));
                return;
        }
        document = rv_settings_normalize(stored->document, &error);
        if (document == NULL) {
                g_prefix_error(&error, "stored settings (revision %" G_GUINT64_FORMAT "): ", stored->revision);
                g_task_return_error(task, g_steal_pointer(&error));
                return;
        }
        rv_live_settings_set_current(self, document, stored->revision);
        g_task_return_boolean(task, TRUE);
}

void
rv_live_settings_load_async(RvLiveSettings *self, JsonNode *initial, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = g_task_new(self, cancellable, callback, user_data);

        if (initial != NULL)
                g_task_set_task_data(task, json_node_ref(initial), (GDestroyNotify)json_node_unref);
        rv_store_load_settings_async(self->store, cancellable, rv_live_settings_loaded_cb, task);
}

gboolean
rv_live_settings_load_finish(RvLiveSettings *self, GAsyncResult *result, GError **error)
{
        return g_task_propagate_boolean(G_TASK(result), error);
}

/* changes from elsewhere */

static void
rv_live_settings_reloaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(RvLiveSettings) self = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(RvStoreSettings) stored = rv_store_load_settings_finish(self->store, result, &error);
        g_autoptr(JsonNode) document = NULL;
        g_autoptr(JsonNode) changes = NULL;

        self->reloading = FALSE;
        if (stored == NULL || stored->document == NULL) {
                /* keep running on the last known settings; the store reports its own health */
                g_debug("settings announced but not readable: %s, keeping revision %" G_GUINT64_FORMAT,
                        error != NULL ? error->message : "nothing stored", self->revision);
                return;
        }
        if (stored->revision > self->revision) {
                document = rv_settings_normalize(stored->document, &error);
                if (document == NULL) {
                        g_debug("stored settings revision %" G_GUINT64_FORMAT " are invalid, ignoring: %s",
                                stored->revision, error->message);
                } else {
                        changes = rv_live_settings_diff(self->document, document);
                        rv_live_settings_set_current(self, document, stored->revision);
                        g_signal_emit(self, signals[SIGNAL_CHANGED], 0, self->revision, changes, "elsewhere");
                }
        }
        if (self->wanted_revision > self->revision) {
                self->reloading = TRUE;
                rv_store_load_settings_async(self->store, NULL, rv_live_settings_reloaded_cb, g_object_ref(self));
        }
}

static void
rv_live_settings_store_changed_cb(RvStore *store, guint64 revision, gpointer user_data)
{
        RvLiveSettings *self = user_data;

        if (revision != 0 && revision <= self->revision)
                return;
        self->wanted_revision = MAX(self->wanted_revision, revision);
        if (self->reloading)
                return;
        self->reloading = TRUE;
        rv_store_load_settings_async(store, NULL, rv_live_settings_reloaded_cb, g_object_ref(self));
}

/* updates */

static void rv_live_settings_run_next(RvLiveSettings *self);

static void rv_live_settings_start(RvLiveSettings *self, GTask *task);
static void rv_live_settings_saved_cb(GObject *source, GAsyncResult *result, gpointer user_data);

/* someone else stored a revision first: catch up, then validate the patch again on top of it */
static void
rv_live_settings_conflict_reloaded_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        RvLiveSettings *self = g_task_get_source_object(task);
        g_autoptr(GError) error = NULL;
        g_autoptr(RvStoreSettings) stored = rv_store_load_settings_finish(self->store, result, &error);
        g_autoptr(JsonNode) document = NULL;

        if (stored != NULL && stored->document != NULL)
                document = rv_settings_normalize(stored->document, &error);
        if (document == NULL) {
                self->updating = FALSE;
                if (error == NULL)
                        error = g_error_new_literal(RV_ERROR, RV_ERROR_UNAVAILABLE, "the stored settings vanished");
                g_task_return_error(task, g_steal_pointer(&error));
                rv_live_settings_run_next(self);
                return;
        }
        {
                g_autoptr(JsonNode) changes = rv_live_settings_diff(self->document, document);
                rv_live_settings_set_current(self, document, stored->revision);
                g_signal_emit(self, signals[SIGNAL_CHANGED], 0, self->revision, changes, "elsewhere");
        }
        rv_live_settings_start(self, g_steal_pointer(&task));
}

static void
rv_live_settings_start(RvLiveSettings *self, GTask *task)
{
        RvConfigUpdate *u = g_task_get_task_data(task);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) document = NULL;
        RvStoreHistoryEntry entry = { 0 };

        g_clear_pointer(&u->changes, json_node_unref);
        if (u->expected != 0 && u->expected != self->revision) {
                self->updating = FALSE;
                g_task_return_new_error(task, RV_ERROR, RV_ERROR_CONFLICT,
                                        "the settings are at revision %" G_GUINT64_FORMAT ", not %" G_GUINT64_FORMAT,
                                        self->revision, u->expected);
                g_object_unref(task);
                rv_live_settings_run_next(self);
                return;
        }
        document = rv_settings_apply_patch_full(self->document, u->patch, u->internal, &u->changes, &error);
        if (document == NULL) {
                self->updating = FALSE;
                g_task_return_error(task, g_steal_pointer(&error));
                g_object_unref(task);
                rv_live_settings_run_next(self);
                return;
        }
        if (json_object_get_size(json_node_get_object(u->changes)) == 0) {
                self->updating = FALSE;
                g_task_return_int(task, (gssize)self->revision);
                g_object_unref(task);
                rv_live_settings_run_next(self);
                return;
        }
        g_clear_pointer(&u->document, json_node_unref);
        u->document = g_steal_pointer(&document);
        entry.actor = u->actor;
        entry.reason = u->reason;
        entry.changes = u->changes;
        rv_store_save_settings_async(self->store, self->revision, u->document, &entry, NULL, rv_live_settings_saved_cb,
                                     task);
}

static void
rv_live_settings_saved_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GTask) task = user_data;
        RvLiveSettings *self = g_task_get_source_object(task);
        RvConfigUpdate *u = g_task_get_task_data(task);
        g_autoptr(GError) error = NULL;
        guint64 revision = rv_store_save_settings_finish(self->store, result, &error);

        if (revision == 0 && g_error_matches(error, RV_ERROR, RV_ERROR_CONFLICT) && !u->retried) {
                u->retried = TRUE;
                rv_store_load_settings_async(self->store, NULL, rv_live_settings_conflict_reloaded_cb,
                                             g_steal_pointer(&task));
                return;
        }
        self->updating = FALSE;
        if (revision == 0) {
                g_task_return_error(task, g_steal_pointer(&error));
                rv_live_settings_run_next(self);
                return;
        }
        rv_live_settings_set_current(self, u->document, revision);
        g_signal_emit(self, signals[SIGNAL_CHANGED], 0, revision, u->changes, u->actor);
        g_task_return_int(task, (gssize)revision);
        rv_live_settings_run_next(self);
}

static void
rv_live_settings_run_next(RvLiveSettings *self)
{
        GTask *task;

        if (self->updating)
                return;
        task = g_queue_pop_head(&self->updates);
        if (task == NULL)
                return;
        self->updating = TRUE;
        rv_live_settings_start(self, task);
}

static void
rv_live_settings_queue_update(RvLiveSettings *self, JsonNode *patch, const char *actor, const char *reason,
                              gboolean internal, guint64 expected, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = g_task_new(self, cancellable, callback, user_data);
        RvConfigUpdate *u = g_new0(RvConfigUpdate, 1);

        u->patch = json_node_copy(patch);
        u->actor = g_strdup(actor != NULL ? actor : "unknown");
        u->reason = g_strdup(reason != NULL ? reason : "");
        u->internal = internal;
        u->expected = expected;
        g_task_set_task_data(task, u, (GDestroyNotify)rv_live_settings_update_free);
        g_queue_push_tail(&self->updates, task);
        rv_live_settings_run_next(self);
}

void
rv_live_settings_update_async(RvLiveSettings *self, JsonNode *patch, const char *actor, const char *reason,
                              GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
        rv_live_settings_queue_update(self, patch, actor, reason, FALSE, 0, cancellable, callback, user_data);
}

void
rv_live_settings_update_if_async(RvLiveSettings *self, guint64 expected, JsonNode *patch, const char *actor,
                                 const char *reason, GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
        rv_live_settings_queue_update(self, patch, actor, reason, FALSE, expected, cancellable, callback, user_data);
}

void
rv_live_settings_update_internal_async(RvLiveSettings *self, JsonNode *patch, const char *actor, const char *reason,
                                       GAsyncReadyCallback callback, gpointer user_data)
{
        rv_live_settings_queue_update(self, patch, actor, reason, TRUE, 0, NULL, callback, user_data);
}

guint64
rv_live_settings_update_finish(RvLiveSettings *self, GAsyncResult *result, GError **error)
{
        gssize revision = g_task_propagate_int(G_TASK(result), error);

        return revision < 0 ? 0 : (guint64)revision;
}

void
rv_live_settings_history_async(RvLiveSettings *self, guint limit, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
        rv_store_list_history_async(self->store, limit, cancellable, callback, user_data);
}

GPtrArray *
rv_live_settings_history_finish(RvLiveSettings *self, GAsyncResult *result, GError **error)
{
        /* the store's task has no source object: self may be NULL here */
        return rv_store_list_history_finish(NULL, result, error);
}
