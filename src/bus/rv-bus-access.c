/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-bus"

#include "config.h"

#include <string.h>

#include "rv-bus-private.h"

/*
 * the manager's setup and API key methods, over the access store
 * (rv-access.c): the token is shown once, keys' secrets once, hashes never
 */

/* setup and API keys ("admin"; completing setup needs the token and "manage") */

static int
rv_bus_need_access(RvBus *self, sd_bus_error *ret_error)
{
        if (self->access != NULL)
                return 0;
        return sd_bus_error_set(ret_error, rv_error_to_dbus_name(RV_ERROR_UNAVAILABLE),
                                "setup and API keys are not available yet");
}

static void
rv_bus_token_issued_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(sd_bus_message) m = user_data;
        g_autoptr(GError) error = NULL;
        gint64 expires = 0;
        g_autofree char *token = rv_access_issue_setup_token_finish(RV_ACCESS(source), result, &expires, &error);

        if (token == NULL) {
                (void)rv_bus_reply_error(m, error);
                return;
        }
        (void)sd_bus_reply_method_return(m, "st", token, (uint64_t)expires);
        explicit_bzero(token, strlen(token));
}

static int
rv_bus_issue_token_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        uid_t uid = (uid_t)-1;
        g_autofree char *who = NULL;

        (void)rv_bus_sender_uid(self, m, &uid);
        who = g_strdup_printf("dbus:uid=%u", (guint)uid);
        rv_access_issue_setup_token_async(self->access, who, rv_bus_token_issued_cb, sd_bus_message_ref(m));
        return 1;
}

int
rv_bus_method_issue_setup_token(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        int r = rv_bus_need_access(self, ret_error);

        if (r < 0)
                return r;
        return rv_bus_authorize_message(self, m, NULL, rv_bus_issue_token_authorized, NULL, NULL, ret_error);
}

static void
rv_bus_key_made_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(sd_bus_message) m = user_data;
        g_autoptr(GError) error = NULL;
        g_autofree char *key_id = NULL;
        g_autofree char *secret = NULL;
        const char *member = sd_bus_message_get_member(m);

        if (!rv_access_key_finish(RV_ACCESS(source), result, &key_id, &secret, &error)) {
                (void)rv_bus_reply_error(m, error);
                return;
        }
        if (g_strcmp0(member, "RotateApiKey") == 0)
                (void)sd_bus_reply_method_return(m, "s", secret);
        else
                (void)sd_bus_reply_method_return(m, "ss", key_id, secret);
        explicit_bzero(secret, strlen(secret));
}

typedef struct {
        char *a;
        char *b;
        guint burst;
        guint period;
} RvBusKeyArgs;

static void
rv_bus_key_args_free(RvBusKeyArgs *args)
{
        if (args->a != NULL)
                explicit_bzero(args->a, strlen(args->a));
        g_free(args->a);
        g_free(args->b);
        g_free(args);
}

static int
rv_bus_complete_setup_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        RvBusKeyArgs *args = data;

        rv_access_complete_setup_async(self->access, args->a, args->b, rv_bus_key_made_cb, sd_bus_message_ref(m));
        return 1;
}

int
rv_bus_method_complete_setup(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        const char *token = NULL;
        const char *label = NULL;
        RvBusKeyArgs *args;
        int r = sd_bus_message_read(m, "ss", &token, &label);

        if (r < 0)
                return r;
        r = rv_bus_need_access(self, ret_error);
        if (r < 0)
                return r;
        args = g_new0(RvBusKeyArgs, 1);
        args->a = g_strdup(token);
        args->b = g_strdup(label);
        return rv_bus_authorize_message(self, m, NULL, rv_bus_complete_setup_authorized, args,
                                        (GDestroyNotify)rv_bus_key_args_free, ret_error);
}

static int
rv_bus_create_key_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        RvBusKeyArgs *args = data;

        rv_access_create_key_scoped_async(self->access, args->b, args->a != NULL ? args->a : "admin", args->burst,
                                          args->period, rv_bus_key_made_cb, sd_bus_message_ref(m));
        return 1;
}

/* CreateApiKey (s label, u burst, u period_s) makes admin keys; CreateScopedApiKey (s label, s scope, u, u) any */
int
rv_bus_method_create_api_key(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        gboolean scoped = g_strcmp0(sd_bus_message_get_member(m), "CreateScopedApiKey") == 0;
        const char *label = NULL;
        const char *scope = "admin";
        uint32_t burst = 0;
        uint32_t period = 0;
        g_autoptr(GError) error = NULL;
        RvBusKeyArgs *args;
        int r = scoped ? sd_bus_message_read(m, "ssuu", &label, &scope, &burst, &period)
                       : sd_bus_message_read(m, "suu", &label, &burst, &period);

        if (r < 0)
                return r;
        r = rv_bus_need_access(self, ret_error);
        if (r < 0)
                return r;
        /* checked before polkit is asked, with the checks the access store makes */
        if (!rv_validate_key_label(label, &error) || !rv_validate_key_scope(scope, &error) ||
            !rv_validate_key_rate(burst, period, &error))
                return rv_bus_set_error(ret_error, error);
        args = g_new0(RvBusKeyArgs, 1);
        args->a = g_strdup(scope);
        args->b = g_strdup(label);
        args->burst = burst;
        args->period = period;
        return rv_bus_authorize_message(self, m, NULL, rv_bus_create_key_authorized, args,
                                        (GDestroyNotify)rv_bus_key_args_free, ret_error);
}

static int
rv_bus_rotate_key_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        rv_access_rotate_key_async(self->access, data, rv_bus_key_made_cb, sd_bus_message_ref(m));
        return 1;
}

static void
rv_bus_key_revoked_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(sd_bus_message) m = user_data;
        g_autoptr(GError) error = NULL;

        if (!rv_access_revoke_key_finish(RV_ACCESS(source), result, &error))
                (void)rv_bus_reply_error(m, error);
        else
                (void)sd_bus_reply_method_return(m, NULL);
}

static int
rv_bus_revoke_key_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        rv_access_revoke_key_async(self->access, data, rv_bus_key_revoked_cb, sd_bus_message_ref(m));
        return 1;
}

int
rv_bus_method_rotate_or_revoke(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        const char *key_id = NULL;
        int r = sd_bus_message_read(m, "s", &key_id);

        if (r < 0)
                return r;
        r = rv_bus_need_access(self, ret_error);
        if (r < 0)
                return r;
        return rv_bus_authorize_message(self, m, NULL,
                                        g_strcmp0(sd_bus_message_get_member(m), "RotateApiKey") == 0
                                                ? rv_bus_rotate_key_authorized
                                                : rv_bus_revoke_key_authorized,
                                        g_strdup(key_id), g_free, ret_error);
}

static int
rv_bus_list_keys_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        g_autoptr(GPtrArray) keys = rv_access_list_keys(self->access);
        g_autoptr(sd_bus_message) reply = NULL;
        int r = sd_bus_message_new_method_return(m, &reply);

        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssbuut)");
        /* never the hashes */
        for (guint i = 0; r >= 0 && i < keys->len; i++) {
                RvStoreApiKey *k = g_ptr_array_index(keys, i);
                r = sd_bus_message_append(reply, "(ssbuut)", k->key_id, k->label != NULL ? k->label : "", k->enabled,
                                          k->burst, k->period_s, (uint64_t)k->created);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int
rv_bus_method_list_api_keys(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        int r = rv_bus_need_access(self, ret_error);

        if (r < 0)
                return r;
        return rv_bus_authorize_message(self, m, NULL, rv_bus_list_keys_authorized, NULL, NULL, ret_error);
}
