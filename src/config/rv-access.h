/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "rv-command.h"
#include "rv-live-settings.h"
#include "rv-store.h"

G_BEGIN_DECLS

/*
 * who may use the remote API: while no API key exists the service is in setup
 * mode and an administrator can issue one setup token (shown once, stored
 * hashed, valid 15 minutes, at most one active); completing setup with it
 * creates the first API key and makes the service active. API keys are random
 * secrets shown once and stored as hashes, compared in constant time, each
 * with an optional rate limit.
 */
#define RV_TYPE_ACCESS (rv_access_get_type())
G_DECLARE_FINAL_TYPE(RvAccess, rv_access, RV, ACCESS, GObject)

#define RV_ACCESS_TOKEN_LIFETIME_S (15 * 60)
#define RV_ACCESS_MAX_KEYS 256

RvAccess *rv_access_new(RvStore *store, RvLiveSettings *config);

/* reads the keys; corrects the mode if it disagrees with them */
void rv_access_load_async(RvAccess *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean rv_access_load_finish(RvAccess *self, GAsyncResult *result, GError **error);

gboolean rv_access_in_setup(RvAccess *self);

/* SetupRequired is never the answer: Conflict when a key exists already */
void rv_access_issue_setup_token_async(RvAccess *self, const char *issued_by, GAsyncReadyCallback callback,
                                       gpointer user_data);
/* the token in clear, once; *ret_expires_at in unix seconds */
char *rv_access_issue_setup_token_finish(RvAccess *self, GAsyncResult *result, gint64 *ret_expires_at, GError **error);

/* the first key, for the holder of the setup token: AccessDenied for a wrong, used or expired token */
void rv_access_complete_setup_async(RvAccess *self, const char *token, const char *label, GAsyncReadyCallback callback,
                                    gpointer user_data);

/* a new key that may do everything (admin); label names it, burst/period_s rate-limit it (0 = none) */
void rv_access_create_key_async(RvAccess *self, const char *label, guint burst, guint period_s,
                                GAsyncReadyCallback callback, gpointer user_data);
/* the same with a scope ("metrics", "read", "manage", "configure", "admin"): InvalidArgument naming "scope" */
void rv_access_create_key_scoped_async(RvAccess *self, const char *label, const char *scope, guint burst,
                                       guint period_s, GAsyncReadyCallback callback, gpointer user_data);
/* a new secret for an existing key: NotFound when there is none */
void rv_access_rotate_key_async(RvAccess *self, const char *key_id, GAsyncReadyCallback callback, gpointer user_data);
/* complete, create and rotate finish with the key id and the secret in clear (once) */
gboolean rv_access_key_finish(RvAccess *self, GAsyncResult *result, char **ret_key_id, char **ret_secret,
                              GError **error);

void rv_access_revoke_key_async(RvAccess *self, const char *key_id, GAsyncReadyCallback callback, gpointer user_data);
gboolean rv_access_revoke_key_finish(RvAccess *self, GAsyncResult *result, GError **error);

/* RvStoreApiKey (secret_hash included: callers must not show it) */
GPtrArray *rv_access_list_keys(RvAccess *self);

/* the key when key_id exists, is enabled and secret matches; NULL otherwise */
const RvStoreApiKey *rv_access_verify(RvAccess *self, const char *key_id, const char *secret);
/* "key_id:secret", as clients hold a key: the same */
const RvStoreApiKey *rv_access_verify_token(RvAccess *self, const char *token);
/* what a key may do (its scope, admin for keys stored before scopes) */
RvScope rv_access_key_scope(const RvStoreApiKey *key);

/* helpers, exposed for tests */
char *rv_access_hash_secret(const char *secret);
gboolean rv_access_equal_constant_time(const char *a, const char *b);

G_END_DECLS
