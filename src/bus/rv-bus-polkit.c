/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-bus"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "rv-bus-private.h"
#include "rv-messages.h"

/*
 * asynchronous authorization, in the order validate -> authorize -> mutate:
 *
 * a method handler parses and validates its arguments first (a bad argument is
 * an InvalidArgument whoever asks), then hands the parsed request and a
 * continuation to rv_bus_authorize(). Callers that are trusted (root on the
 * system bus; the service's own user on a session bus, where nobody else can
 * connect) continue at once. Everyone else is checked by polkit: a
 * CheckAuthorization call on the caller's bus name (never its pid, which can be
 * recycled), with the details of what is asked for, interactive only when the
 * caller's message allows it. The handler returns 1 and the reply is sent from
 * the continuation once polkit has answered; anything the continuation looks at
 * (a torrent) is looked up again by key there, since it may be gone by then.
 *
 * polkit not answering is a result, not a crash: the caller is denied. Each
 * sender may have a bounded number of checks in flight.
 *
 * A check can fail in two ways that are not a "no" and that no caller can
 * mend. polkit may answer with an error of its own: it refuses to tell a
 * caller other than root or an owner of the action about another user's
 * process (NotAuthorized, when the installed action file lacks the owner
 * annotation naming the service's user), or does not know the action
 * (Failed, when the action file is not where polkitd reads it). Or polkit
 * may not answer at all (not installed, not running, too slow). Either way
 * every caller but root is denied until an operator fixes the installation:
 * so the first failure of each kind is logged at warning with polkit's words,
 * the rest at debug, and the caller is told which of the two it was. Other
 * errors from polkit (the caller left before polkit looked at it, a
 * cancelled check) concern one caller and stay at debug.
 */

#define RV_POLKIT_ERROR_PREFIX "org.freedesktop.PolicyKit1.Error."

#define RV_BUS_MAX_PENDING_PER_SENDER 16

typedef struct {
        RvBus *bus;
        sd_bus_message *message;
        char *sender;
        char *action;
        gboolean interactive;
        RvBusAuthorizedFunc func;
        gpointer data;
        GDestroyNotify destroy;
        sd_bus_slot *slot;
} RvBusAuthRequest;

typedef struct {
        const char *interface;
        const char *member;
        RvOp op;
} RvBusMethodOp;

/*
 * every method and writable property of every interface, with the core
 * operation it is; the operation's scope gives the polkit action
 * (rv-command.c), the same scope an HTTP key needs for it
 */
static const RvBusMethodOp rv_bus_method_ops[] = {
        { RV_BUS_MANAGER_IFACE, "AddMagnet", RV_OP_ADD },
        { RV_BUS_MANAGER_IFACE, "AddTorrent", RV_OP_ADD },
        { RV_BUS_MANAGER_IFACE, "AddTorrentFd", RV_OP_ADD },
        { RV_BUS_MANAGER_IFACE, "GetTorrent", RV_OP_GET },
        { RV_BUS_MANAGER_IFACE, "ListTorrents", RV_OP_LIST },
        { RV_BUS_MANAGER_IFACE, "ListTorrentColumns", RV_OP_LIST },
        { RV_BUS_MANAGER_IFACE, "ListTorrentColumnsSparse", RV_OP_LIST },
        { RV_BUS_MANAGER_IFACE, "ListClusterTorrents", RV_OP_LIST },
        /* any command on one torrent: all of them need to manage */
        { RV_BUS_MANAGER_IFACE, "RunTorrentCommand", RV_OP_UPDATE },
        { RV_BUS_MANAGER_IFACE, "PauseAll", RV_OP_PAUSE_ALL },
        { RV_BUS_MANAGER_IFACE, "ResumeAll", RV_OP_RESUME_ALL },
        { RV_BUS_MANAGER_IFACE, "IssueSetupToken", RV_OP_SETUP_START },
        { RV_BUS_MANAGER_IFACE, "CompleteSetup", RV_OP_SETUP_COMPLETE },
        { RV_BUS_MANAGER_IFACE, "CreateApiKey", RV_OP_KEY_CREATE },
        { RV_BUS_MANAGER_IFACE, "CreateScopedApiKey", RV_OP_KEY_CREATE },
        { RV_BUS_MANAGER_IFACE, "RotateApiKey", RV_OP_KEY_ROTATE },
        { RV_BUS_MANAGER_IFACE, "RevokeApiKey", RV_OP_KEY_REVOKE },
        { RV_BUS_MANAGER_IFACE, "ListApiKeys", RV_OP_KEY_LIST },
        { RV_BUS_TORRENT_IFACE, "Pause", RV_OP_PAUSE },
        { RV_BUS_TORRENT_IFACE, "Resume", RV_OP_RESUME },
        { RV_BUS_TORRENT_IFACE, "Remove", RV_OP_REMOVE },
        { RV_BUS_TORRENT_IFACE, "Recheck", RV_OP_RECHECK },
        { RV_BUS_TORRENT_IFACE, "Reannounce", RV_OP_REANNOUNCE },
        { RV_BUS_TORRENT_IFACE, "SetSelection", RV_OP_SET_SELECTION },
        { RV_BUS_TORRENT_IFACE, "ListFiles", RV_OP_LIST_FILES },
        { RV_BUS_TORRENT_IFACE, "GetTrackers", RV_OP_LIST_TRACKERS },
        { RV_BUS_TORRENT_IFACE, "SetFilePriorities", RV_OP_SET_FILE_PRIORITIES },
        { RV_BUS_TORRENT_IFACE, "MoveStorage", RV_OP_MOVE_STORAGE },
        { RV_BUS_TORRENT_IFACE, "SetShareLimits", RV_OP_SET_SHARE_LIMITS },
        { RV_BUS_TORRENT_IFACE, "Retry", RV_OP_FS_RETRY },
        { RV_BUS_TORRENT_IFACE, "Sequential", RV_OP_SET_SEQUENTIAL },
        { RV_BUS_TORRENT_IFACE, "ForceStart", RV_OP_SET_FORCE_START },
        { RV_BUS_TORRENT_IFACE, "SuperSeeding", RV_OP_SET_SUPER_SEEDING },
        { RV_BUS_TORRENT_IFACE, "FirstLastPiece", RV_OP_SET_FIRST_LAST_PIECE },
        { RV_BUS_TORRENT_IFACE, "DownloadLimit", RV_OP_SET_DOWNLOAD_LIMIT },
        { RV_BUS_TORRENT_IFACE, "UploadLimit", RV_OP_SET_UPLOAD_LIMIT },
        { RV_BUS_TORRENT_IFACE, "Labels", RV_OP_SET_LABELS },
        { RV_BUS_POLICY_IFACE, "Update", RV_OP_SETTINGS_UPDATE },
        { RV_BUS_POLICY_IFACE, "History", RV_OP_SETTINGS_HISTORY },
};

gboolean
rv_bus_op_for(const char *interface, const char *member, RvOp *ret_op)
{
        for (guint i = 0; i < G_N_ELEMENTS(rv_bus_method_ops); i++) {
                if (g_strcmp0(rv_bus_method_ops[i].interface, interface) == 0 &&
                    g_strcmp0(rv_bus_method_ops[i].member, member) == 0) {
                        *ret_op = rv_bus_method_ops[i].op;
                        return TRUE;
                }
        }
        /* every setting of every section is a settings update */
        if (interface != NULL && g_str_has_prefix(interface, RV_BUS_POLICY_IFACE ".")) {
                *ret_op = RV_OP_SETTINGS_UPDATE;
                return TRUE;
        }
        return FALSE;
}

const char *
rv_bus_action_for(const char *interface, const char *member)
{
        RvOp op;

        if (!rv_bus_op_for(interface, member, &op))
                return NULL;
        return rv_scope_to_polkit_action(rv_op_scope(op));
}

static void
rv_bus_auth_request_free(RvBusAuthRequest *req)
{
        if (req->destroy != NULL && req->data != NULL)
                req->destroy(req->data);
        sd_bus_slot_unref(req->slot);
        sd_bus_message_unref(req->message);
        g_free(req->sender);
        g_free(req->action);
        g_free(req);
}

static void
rv_bus_pending_dec(RvBus *self, const char *sender)
{
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(self->pending_auth, sender));

        if (n <= 1)
                g_hash_table_remove(self->pending_auth, sender);
        else
                g_hash_table_insert(self->pending_auth, g_strdup(sender), GUINT_TO_POINTER(n - 1));
}

/* run the continuation and reply with its error if it failed */
static void
rv_bus_auth_continue(RvBus *self, sd_bus_message *m, RvBusAuthorizedFunc func, gpointer data)
{
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r = func(self, m, data, &err);

        if (r < 0) {
                if (!sd_bus_error_is_set(&err))
                        (void)sd_bus_error_set_errno(&err, r);
                (void)sd_bus_reply_method_error(m, &err);
        }
        sd_bus_error_free(&err);
}

static void
rv_bus_auth_deny(sd_bus_message *m, const char *name, const char *message)
{
        sd_bus_error err = SD_BUS_ERROR_NULL;

        (void)sd_bus_error_set(&err, name, message);
        (void)sd_bus_reply_method_error(m, &err);
        sd_bus_error_free(&err);
}

/* polkit gave no yes or no: fail closed, and tell the operator once */
static void
rv_bus_auth_failed(RvBus *self, RvBusAuthRequest *req, sd_bus_message *reply, const sd_bus_error *e)
{
        const char *from = sd_bus_message_get_sender(reply);
        const char *name = e->name != NULL ? e->name : "";
        const char *text = e->message != NULL ? e->message : "";
        gboolean *logged = NULL;
        const char *what;
        const char *told;

        /* the bus driver, and sd-bus on a timeout, speak as org.freedesktop.DBus; polkitd by its unique name */
        if (from == NULL || from[0] != ':') {
                what = "polkit did not answer";
                told = "authorization is not available (polkit did not answer)";
                logged = &self->polkit_silent_logged;
        } else if (g_str_has_prefix(name, RV_POLKIT_ERROR_PREFIX) &&
                   !g_str_equal(name, RV_POLKIT_ERROR_PREFIX "Cancelled")) {
                what = "polkit refused to check";
                told = "authorization is not available (polkit refused to check this caller)";
                logged = &self->polkit_refused_logged;
        } else {
                what = "polkit could not check";
                told = "authorization is not available (polkit could not check this caller)";
        }
        if (logged != NULL && !*logged) {
                *logged = TRUE;
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID", RV_MESSAGE_POLKIT_FAILED,
                                 "REVAER_POLKIT_ERROR", name, "MESSAGE",
                                 "%s whether %s may %s: \"%s\" (%s); callers other than root are denied", what,
                                 req->sender, req->action, text, name);
        } else {
                g_debug("%s whether %s may %s: \"%s\" (%s)", what, req->sender, req->action, text, name);
        }
        /* polkit's words are about this service, not for its callers */
        rv_bus_auth_deny(req->message, SD_BUS_ERROR_ACCESS_DENIED, told);
}

static int
rv_bus_auth_reply_cb(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        RvBusAuthRequest *req = userdata;
        RvBus *self = req->bus;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0;
        int challenge = 0;
        int r;

        rv_bus_pending_dec(self, req->sender);
        g_hash_table_remove(self->auth_requests, req);
        if (e != NULL) {
                rv_bus_auth_failed(self, req, reply, e);
                rv_bus_auth_request_free(req);
                return 0;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                rv_bus_auth_deny(req->message, SD_BUS_ERROR_ACCESS_DENIED, "malformed answer from polkit");
        } else if (authorized) {
                g_debug("polkit: %s may %s", req->sender, req->action);
                rv_bus_auth_continue(self, req->message, req->func, req->data);
        } else if (challenge && !req->interactive) {
                /* the caller may retry allowing interaction (systemd's convention) */
                rv_bus_auth_deny(req->message, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                 "interactive authentication is required");
        } else {
                g_autofree char *msg = g_strdup_printf("not authorized for %s", req->action);
                g_debug("polkit: %s may not %s", req->sender, req->action);
                rv_bus_auth_deny(req->message, SD_BUS_ERROR_ACCESS_DENIED, msg);
        }
        rv_bus_auth_request_free(req);
        return 0;
}

/* callers remembered at most; past it the table starts over (a client keeps its name for its connection) */
#define RV_BUS_SENDER_UIDS_MAX 1024

/*
 * sd-bus asks dbus-daemon for a sender's uid with a blocking call
 * (GetConnectionUnixUser) each time: a round trip on the main loop for every
 * command. The uid of a unique name cannot change, and the bus never hands
 * the name out again, so the answer is kept.
 */
gboolean
rv_bus_sender_uid(RvBus *self, sd_bus_message *m, uid_t *ret_uid)
{
        g_autoptr(sd_bus_creds) creds = NULL;
        const char *sender = sd_bus_message_get_sender(m);
        gpointer known = sender != NULL ? g_hash_table_lookup(self->sender_uids, sender) : NULL;
        uid_t uid = (uid_t)-1;

        if (known != NULL) {
                *ret_uid = (uid_t)(GPOINTER_TO_SIZE(known) - 1);
                return TRUE;
        }
        if (sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds) < 0 || sd_bus_creds_get_euid(creds, &uid) < 0)
                return FALSE;
        /* a unique name; a well-known one (a peer-to-peer connection has none) may move */
        if (sender != NULL && sender[0] == ':') {
                if (g_hash_table_size(self->sender_uids) >= RV_BUS_SENDER_UIDS_MAX)
                        g_hash_table_remove_all(self->sender_uids);
                g_hash_table_insert(self->sender_uids, g_strdup(sender), GSIZE_TO_POINTER((gsize)uid + 1));
        }
        *ret_uid = uid;
        return TRUE;
}

static gboolean
rv_bus_trusted(RvBus *self, sd_bus_message *m)
{
        uid_t uid = (uid_t)-1;

        if (!rv_bus_sender_uid(self, m, &uid))
                return FALSE;
        if (uid == 0)
                return TRUE;
        /* a session bus is the user's own: nobody else can be on it */
        return self->kind == RV_BUS_KIND_SESSION && uid == self->own_uid;
}

int
rv_bus_authorize(RvBus *self, sd_bus_message *m, const char *action, const char *const *details,
                 RvBusAuthorizedFunc func, gpointer data, GDestroyNotify destroy, sd_bus_error *ret_error)
{
        g_autoptr(sd_bus_message) call = NULL;
        RvBusAuthRequest *req;
        const char *sender = sd_bus_message_get_sender(m);
        guint pending;
        guint32 flags;
        int r;

        if (rv_bus_trusted(self, m)) {
                rv_bus_auth_continue(self, m, func, data);
                if (destroy != NULL && data != NULL)
                        destroy(data);
                return 1;
        }
        if (sender == NULL || self->kind != RV_BUS_KIND_SYSTEM) {
                if (destroy != NULL && data != NULL)
                        destroy(data);
                return sd_bus_error_set(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "only the service's own user may do this on a session bus");
        }
        pending = GPOINTER_TO_UINT(g_hash_table_lookup(self->pending_auth, sender));
        if (pending >= RV_BUS_MAX_PENDING_PER_SENDER) {
                if (destroy != NULL && data != NULL)
                        destroy(data);
                return sd_bus_error_setf(ret_error, rv_error_to_dbus_name(RV_ERROR_RATE_LIMITED),
                                         "%u requests of %s are already waiting for authorization", pending, sender);
        }

        r = sd_bus_message_new_method_call(self->bus, &call, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender, action);
        if (r >= 0)
                r = sd_bus_message_open_container(call, 'a', "{ss}");
        for (guint i = 0; r >= 0 && details != NULL && details[i] != NULL && details[i + 1] != NULL; i += 2)
                r = sd_bus_message_append(call, "{ss}", details[i], details[i + 1]);
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        /* 1 = AllowUserInteraction, only when the caller said it may be asked */
        flags = sd_bus_message_get_allow_interactive_authorization(m) > 0 ? 1 : 0;
        if (r >= 0)
                r = sd_bus_message_append(call, "us", flags, "");
        if (r < 0) {
                if (destroy != NULL && data != NULL)
                        destroy(data);
                return r;
        }

        req = g_new0(RvBusAuthRequest, 1);
        req->bus = self;
        req->message = sd_bus_message_ref(m);
        req->sender = g_strdup(sender);
        req->action = g_strdup(action);
        req->interactive = flags != 0;
        req->func = func;
        req->data = data;
        req->destroy = destroy;
        /* interactive checks wait for a person: give them time */
        r = sd_bus_call_async(self->bus, &req->slot, call, rv_bus_auth_reply_cb, req,
                              flags ? 300 * G_USEC_PER_SEC : 25 * G_USEC_PER_SEC);
        if (r < 0) {
                req->destroy = NULL;
                rv_bus_auth_request_free(req);
                if (destroy != NULL && data != NULL)
                        destroy(data);
                return sd_bus_error_set(ret_error, SD_BUS_ERROR_ACCESS_DENIED, "cannot reach polkit");
        }
        g_hash_table_insert(self->pending_auth, g_strdup(sender), GUINT_TO_POINTER(pending + 1));
        g_hash_table_add(self->auth_requests, req);
        return 1;
}

int
rv_bus_authorize_message(RvBus *self, sd_bus_message *m, const char *const *details, RvBusAuthorizedFunc func,
                         gpointer data, GDestroyNotify destroy, sd_bus_error *ret_error)
{
        const char *action = rv_bus_action_for(sd_bus_message_get_interface(m), sd_bus_message_get_member(m));

        /* a method without an action is a bug caught by the vtable test; refuse rather than allow */
        if (action == NULL) {
                if (destroy != NULL && data != NULL)
                        destroy(data);
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_ACCESS_DENIED, "%s has no authorization action",
                                         sd_bus_message_get_member(m));
        }
        return rv_bus_authorize(self, m, action, details, func, data, destroy, ret_error);
}

void
rv_bus_polkit_init(RvBus *self)
{
        self->pending_auth = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        self->auth_requests = g_hash_table_new(NULL, NULL);
        self->sender_uids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

void
rv_bus_polkit_clear(RvBus *self)
{
        if (self->auth_requests != NULL) {
                GHashTableIter iter;
                gpointer key;
                g_hash_table_iter_init(&iter, self->auth_requests);
                while (g_hash_table_iter_next(&iter, &key, NULL))
                        rv_bus_auth_request_free(key);
                g_hash_table_unref(self->auth_requests);
                self->auth_requests = NULL;
        }
        g_clear_pointer(&self->pending_auth, g_hash_table_unref);
        g_clear_pointer(&self->sender_uids, g_hash_table_unref);
}
