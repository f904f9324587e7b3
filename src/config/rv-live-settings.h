/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "rv-settings.h"
#include "rv-store.h"

G_BEGIN_DECLS

/*
 * the live settings: the current document and revision from the store, the
 * one way to change them (validate -> store with a new revision -> apply ->
 * announce), and changes made elsewhere (another node through PostgreSQL, a
 * hand edit of the embedded file) picked up the same way
 *
 * signals: "changed" (guint64 revision, JsonNode *changes, const char *actor):
 * after a new revision is current, from any source; the owner applies it
 */
#define RV_TYPE_LIVE_SETTINGS (rv_live_settings_get_type())
G_DECLARE_FINAL_TYPE(RvLiveSettings, rv_live_settings, RV, LIVE_SETTINGS, GObject)

RvLiveSettings *rv_live_settings_new(RvStore *store);

/* reads the stored settings; seeds them from initial (a patch) as revision 1 when there are none */
void rv_live_settings_load_async(RvLiveSettings *self, JsonNode *initial, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean rv_live_settings_load_finish(RvLiveSettings *self, GAsyncResult *result, GError **error);

/* the current normalized document (borrowed) and its revision */
JsonNode *rv_live_settings_get_document(RvLiveSettings *self);
guint64 rv_live_settings_get_revision(RvLiveSettings *self);

/*
 * validates patch against the current document, stores the result as the next
 * revision with a history entry, makes it current and emits "changed"; an
 * InvalidArgument names the field; a patch that changes nothing succeeds with
 * the current revision
 */
void rv_live_settings_update_async(RvLiveSettings *self, JsonNode *patch, const char *actor, const char *reason,
                                   GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
guint64 rv_live_settings_update_finish(RvLiveSettings *self, GAsyncResult *result, GError **error);
/*
 * the same, only while the settings are at revision expected (a client's
 * If-Match): Conflict otherwise, checked when the update's turn comes, so
 * two clients that saw the same revision cannot both write over it
 */
void rv_live_settings_update_if_async(RvLiveSettings *self, guint64 expected, JsonNode *patch, const char *actor,
                                      const char *reason, GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data);
/* an update by Revaer itself, which may change read-only fields such as the mode */
void rv_live_settings_update_internal_async(RvLiveSettings *self, JsonNode *patch, const char *actor,
                                            const char *reason, GAsyncReadyCallback callback, gpointer user_data);

void rv_live_settings_history_async(RvLiveSettings *self, guint limit, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
/* RvStoreHistoryEntry */
GPtrArray *rv_live_settings_history_finish(RvLiveSettings *self, GAsyncResult *result, GError **error);

G_END_DECLS
