/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-bus"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv-bus-private.h"
#include "rv-json.h"

/* bound on .torrent data read from a descriptor */
#define RV_BUS_MAX_TORRENT_FD_BYTES (64 * 1024 * 1024)

static gboolean
rv_bus_read_strv_variant(sd_bus_message *m, const char *key, const char *contents, GPtrArray *keep,
                         const char *const **ret, GError **error)
{
        char **strv = NULL;
        int r;

        if (g_strcmp0(contents, "as") != 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "option '%s': expected type 'as', got '%s'",
                            key, contents);
                return FALSE;
        }
        r = sd_bus_message_read_strv(m, &strv);
        if (r < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "option '%s': %s", key, g_strerror(-r));
                return FALSE;
        }
        g_ptr_array_add(keep, strv != NULL ? strv : g_new0(char *, 1));
        *ret = g_ptr_array_index(keep, keep->len - 1);
        return TRUE;
}

static gboolean
rv_bus_read_int_variant(sd_bus_message *m, const char *key, const char *contents, gint64 *ret, GError **error)
{
        int r = -EINVAL;

        if (g_strcmp0(contents, "x") == 0) {
                int64_t v = 0;
                r = sd_bus_message_read_basic(m, 'x', &v);
                *ret = v;
        } else if (g_strcmp0(contents, "t") == 0) {
                uint64_t v = 0;
                r = sd_bus_message_read_basic(m, 't', &v);
                *ret = v > G_MAXINT64 ? G_MAXINT64 : (gint64)v;
        } else if (g_strcmp0(contents, "i") == 0) {
                int32_t v = 0;
                r = sd_bus_message_read_basic(m, 'i', &v);
                *ret = v;
        } else if (g_strcmp0(contents, "u") == 0) {
                uint32_t v = 0;
                r = sd_bus_message_read_basic(m, 'u', &v);
                *ret = v;
        } else {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                            "option '%s': expected an integer type, got '%s'", key, contents);
                return FALSE;
        }
        if (r < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "option '%s': %s", key, g_strerror(-r));
                return FALSE;
        }
        return TRUE;
}

static gboolean
rv_bus_read_basic_variant(sd_bus_message *m, const char *key, const char *contents, char type, void *ret,
                          GError **error)
{
        char want[2] = { type, '\0' };
        int r;

        if (g_strcmp0(contents, want) != 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "option '%s': expected type '%s', got '%s'",
                            key, want, contents);
                return FALSE;
        }
        r = sd_bus_message_read_basic(m, type, ret);
        if (r < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "option '%s': %s", key, g_strerror(-r));
                return FALSE;
        }
        return TRUE;
}

/* a string option, kept (as a one-string strv) for as long as the request */
static gboolean
rv_bus_read_string_variant(sd_bus_message *m, const char *key, const char *contents, GPtrArray *keep, const char **ret,
                           GError **error)
{
        const char *s = NULL;
        GStrv one;

        if (!rv_bus_read_basic_variant(m, key, contents, 's', &s, error))
                return FALSE;
        one = g_new0(char *, 2);
        one[0] = g_strdup(s);
        g_ptr_array_add(keep, one);
        *ret = one[0];
        return TRUE;
}

/* "fs": JSON text of the torrent's own FsOps fields, checked like the settings'; the request owns it */
static gboolean
rv_bus_read_fs_overrides(sd_bus_message *m, const char *key, const char *contents, JsonNode **ret_overrides,
                         GError **error)
{
        const char *text = NULL;
        JsonNode *node;

        if (!rv_bus_read_basic_variant(m, key, contents, 's', &text, error))
                return FALSE;
        node = rv_json_parse(text, -1, FALSE, NULL);
        if (node == NULL || !rv_settings_check_fs_overrides(node, "fs", error)) {
                if (node == NULL)
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "fs: not a JSON object");
                else
                        json_node_unref(node);
                return FALSE;
        }
        if (*ret_overrides != NULL)
                json_node_unref(*ret_overrides);
        *ret_overrides = node;
        return TRUE;
}

int
rv_bus_read_add_options(sd_bus_message *m, RvAddRequest *request, GPtrArray *keep, RvSelection **ret_selection,
                        GError **error)
{
        const char *const *include = NULL;
        const char *const *exclude = NULL;
        gboolean skip_fluff = FALSE;
        gboolean have_selection = FALSE;
        int r;

        request->sequential = -1;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "options: expected a{sv}");
                return -EINVAL;
        }
        for (;;) {
                const char *key = NULL;
                const char *contents = NULL;
                char type = 0;
                gboolean ok = TRUE;

                r = sd_bus_message_enter_container(m, 'e', "sv");
                if (r < 0) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "options: malformed entry");
                        return r;
                }
                if (r == 0)
                        break;
                r = sd_bus_message_read_basic(m, 's', &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, &type, &contents);
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "options: malformed entry");
                        return r;
                }
                if (g_strcmp0(key, "save_path") == 0) {
                        ok = rv_bus_read_string_variant(m, key, contents, keep, &request->save_path, error);
                } else if (g_strcmp0(key, "paused") == 0) {
                        int b = 0;
                        ok = rv_bus_read_basic_variant(m, key, contents, 'b', &b, error);
                        request->paused = b != 0;
                } else if (g_strcmp0(key, "sequential") == 0) {
                        int b = 0;
                        ok = rv_bus_read_basic_variant(m, key, contents, 'b', &b, error);
                        request->sequential = b != 0;
                } else if (g_strcmp0(key, "first_last_piece") == 0) {
                        int b = 0;
                        ok = rv_bus_read_basic_variant(m, key, contents, 'b', &b, error);
                        request->first_last_piece = b != 0;
                } else if (g_strcmp0(key, "content_layout") == 0) {
                        ok = rv_bus_read_string_variant(m, key, contents, keep, &request->content_layout, error);
                } else if (g_strcmp0(key, "skip_fluff") == 0) {
                        int b = 0;
                        ok = rv_bus_read_basic_variant(m, key, contents, 'b', &b, error);
                        skip_fluff = b != 0;
                        have_selection = TRUE;
                } else if (g_strcmp0(key, "labels") == 0) {
                        ok = rv_bus_read_strv_variant(m, key, contents, keep, &request->labels, error);
                } else if (g_strcmp0(key, "include") == 0) {
                        ok = rv_bus_read_strv_variant(m, key, contents, keep, &include, error);
                        have_selection = TRUE;
                } else if (g_strcmp0(key, "exclude") == 0) {
                        ok = rv_bus_read_strv_variant(m, key, contents, keep, &exclude, error);
                        have_selection = TRUE;
                } else if (g_strcmp0(key, "peers") == 0) {
                        ok = rv_bus_read_strv_variant(m, key, contents, keep, &request->peers, error);
                } else if (g_strcmp0(key, "download_limit") == 0) {
                        ok = rv_bus_read_int_variant(m, key, contents, &request->download_limit, error);
                } else if (g_strcmp0(key, "upload_limit") == 0) {
                        ok = rv_bus_read_int_variant(m, key, contents, &request->upload_limit, error);
                } else if (g_strcmp0(key, "fs") == 0) {
                        ok = rv_bus_read_fs_overrides(m, key, contents, &request->fs_overrides, error);
                } else {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "unknown option '%s'", key);
                        ok = FALSE;
                }
                if (!ok)
                        return -EINVAL;
                if (sd_bus_message_exit_container(m) < 0 || sd_bus_message_exit_container(m) < 0) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "options: malformed entry");
                        return -EINVAL;
                }
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "options: malformed dictionary");
                return r;
        }
        if (have_selection) {
                RvSelection *selection = rv_selection_new(include, exclude, skip_fluff, error);
                if (selection == NULL)
                        return -EINVAL;
                *ret_selection = selection;
                request->selection = selection;
        }
        return 0;
}

/* an add request that outlives the handler while polkit is asked */
typedef struct {
        RvAddRequest request;
        /* owners of the strings request points at */
        GPtrArray *keep;
        RvSelection *selection;
        char *magnet;
        GBytes *data;
} RvBusAdd;

static void
rv_bus_add_free(RvBusAdd *add)
{
        if (add->request.fs_overrides != NULL)
                json_node_unref(add->request.fs_overrides);
        g_ptr_array_unref(add->keep);
        rv_selection_free(add->selection);
        g_free(add->magnet);
        if (add->data != NULL)
                g_bytes_unref(add->data);
        g_free(add);
}

typedef struct {
        RvBus *bus;
        sd_bus_message *message;
} RvBusAddCall;

/* the torrent is durable and on the bus, or nothing of it is left */
static void
rv_bus_add_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvBusAddCall *call = user_data;
        g_autoptr(GError) error = NULL;
        RvTorrent *torrent = rv_manager_add_finish(RV_MANAGER(source), result, &error);
        int r;

        if (torrent == NULL) {
                r = rv_bus_reply_error(call->message, error);
        } else {
                g_autofree char *path = rv_bus_torrent_path(&torrent->hash);
                /* InterfacesAdded went out before the reply: the object exists when the caller hears of it */
                r = sd_bus_reply_method_return(call->message, "o", path);
        }
        if (r < 0)
                g_debug("reply to add failed: %s", g_strerror(-r));
        sd_bus_message_unref(call->message);
        g_free(call);
}

/* mutate: the reply waits until the torrent is durable */
static int
rv_bus_add_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        RvBusAdd *add = data;
        RvBusAddCall *call = g_new0(RvBusAddCall, 1);

        call->bus = self;
        call->message = sd_bus_message_ref(m);
        rv_manager_add_async(self->manager, &add->request, rv_bus_add_done_cb, call);
        return 1;
}

/* common to the three add methods: validate, then authorize, then add */
static int
rv_bus_add_common(RvBus *self, sd_bus_message *m, const char *magnet, GBytes *data, sd_bus_error *ret_error)
{
        RvBusAdd *add = g_new0(RvBusAdd, 1);
        g_autoptr(GError) error = NULL;
        const char *details[5] = { NULL };

        add->keep = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
        add->magnet = g_strdup(magnet);
        add->data = data != NULL ? g_bytes_ref(data) : NULL;
        add->request.magnet = add->magnet;
        add->request.torrent = add->data;
        if (rv_bus_read_add_options(m, &add->request, add->keep, &add->selection, &error) < 0) {
                rv_bus_add_free(add);
                return rv_bus_set_error(ret_error, error);
        }
        if (magnet != NULL) {
                details[0] = "magnet";
                details[1] = add->magnet;
        }
        if (add->request.save_path != NULL) {
                details[magnet != NULL ? 2 : 0] = "save_path";
                details[magnet != NULL ? 3 : 1] = add->request.save_path;
        }
        return rv_bus_authorize_message(self, m, details, rv_bus_add_authorized, add, (GDestroyNotify)rv_bus_add_free,
                                        ret_error);
}

static int
rv_bus_method_add_magnet(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        const char *uri = NULL;
        int r = sd_bus_message_read(m, "s", &uri);

        if (r < 0)
                return r;
        return rv_bus_add_common(userdata, m, uri, NULL, ret_error);
}

static int
rv_bus_method_add_torrent(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        const void *data = NULL;
        size_t len = 0;
        g_autoptr(GBytes) bytes = NULL;
        int r = sd_bus_message_read_array(m, 'y', &data, &len);

        if (r < 0)
                return r;
        bytes = g_bytes_new(data, len);
        return rv_bus_add_common(userdata, m, NULL, bytes, ret_error);
}

/* large .torrent files come as a descriptor; reading is bounded and never follows anything but a regular file */
static GBytes *
rv_bus_read_fd(int fd, GError **error)
{
        g_autoptr(GByteArray) buf = g_byte_array_new();
        struct stat st;
        int flags;

        if (fstat(fd, &st) < 0) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "fd: %s", g_strerror(errno));
                return NULL;
        }
        if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode)) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "fd: not a regular file, pipe or socket");
                return NULL;
        }
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || (flags & O_ACCMODE) == O_WRONLY) {
                g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "fd: not open for reading");
                return NULL;
        }
        if (S_ISREG(st.st_mode) && st.st_size > RV_BUS_MAX_TORRENT_FD_BYTES) {
                g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "fd: file is larger than %d bytes",
                            RV_BUS_MAX_TORRENT_FD_BYTES);
                return NULL;
        }
        /* a pipe may block: the descriptor is read with a non-blocking flag and EAGAIN is an error */
        (void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        for (;;) {
                guint8 chunk[65536];
                ssize_t n = S_ISREG(st.st_mode) ? pread(fd, chunk, sizeof(chunk), (off_t)buf->len)
                                                : read(fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "fd: %s",
                                    errno == EAGAIN ? "the writer has not finished (no data ready)"
                                                    : g_strerror(errno));
                        return NULL;
                }
                if (n == 0)
                        break;
                if (buf->len + (gsize)n > RV_BUS_MAX_TORRENT_FD_BYTES) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, "fd: more than %d bytes",
                                    RV_BUS_MAX_TORRENT_FD_BYTES);
                        return NULL;
                }
                g_byte_array_append(buf, chunk, (guint)n);
        }
        return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
}

static int
rv_bus_method_add_torrent_fd(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(GError) error = NULL;
        int fd = -1;
        int r = sd_bus_message_read(m, "h", &fd);

        if (r < 0)
                return r;
        bytes = rv_bus_read_fd(fd, &error);
        if (bytes == NULL)
                return rv_bus_set_error(ret_error, error);
        return rv_bus_add_common(userdata, m, NULL, bytes, ret_error);
}

static int
rv_bus_get_torrent_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = NULL;
        RvTorrent *torrent = rv_manager_resolve(self->manager, data, &error);

        if (torrent == NULL)
                return rv_bus_set_error(ret_error, error);
        path = rv_bus_torrent_path(&torrent->hash);
        return sd_bus_reply_method_return(m, "o", path);
}

static int
rv_bus_method_get_torrent(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        const char *ref = NULL;
        int r = sd_bus_message_read(m, "s", &ref);

        if (r < 0)
                return r;
        return rv_bus_authorize_message(userdata, m, NULL, rv_bus_get_torrent_authorized, g_strdup(ref), g_free,
                                        ret_error);
}

/* one row of the compact list */
static int
rv_bus_list_row(RvBus *self, sd_bus_message *reply, RvTorrent *t, gpointer data, sd_bus_error *error)
{
        const char *name = t->name != NULL ? t->name : "";
        const char *state = rv_torrent_state_to_string(t->state);
        guint n = t->labels != NULL ? g_strv_length(t->labels) : 0;

        /* one append per row where the labels allow it: 10,000 rows must stay cheap */
        if (n <= 2)
                return sd_bus_message_append(reply, "(sssbdttttxas)", t->hash.hex, name, state, t->completed,
                                             t->progress, (uint64_t)t->total_size, (uint64_t)t->wanted_done,
                                             (uint64_t)t->download_rate, (uint64_t)t->upload_rate,
                                             (int64_t)rv_torrent_get_eta(t), n, n > 0 ? t->labels[0] : NULL,
                                             n > 1 ? t->labels[1] : NULL);
        return rv_bus_append_list_row(reply, NULL, t);
}

int
rv_bus_append_list_row(sd_bus_message *reply, const char *node, const RvTorrent *t)
{
        int r = sd_bus_message_open_container(reply, 'r', node != NULL ? "ssssbdttttxas" : "sssbdttttxas");

        if (r >= 0 && node != NULL)
                r = sd_bus_message_append_basic(reply, 's', node);
        if (r >= 0)
                r = sd_bus_message_append(reply, "sssbdttttx", t->hash.hex, t->name != NULL ? t->name : "",
                                          rv_torrent_state_to_string(t->state), t->completed, t->progress,
                                          (uint64_t)t->total_size, (uint64_t)t->wanted_done, (uint64_t)t->download_rate,
                                          (uint64_t)t->upload_rate, (int64_t)rv_torrent_get_eta(t));
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, t->labels);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int
rv_bus_list_torrents_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        g_autoptr(sd_bus_message) reply = NULL;
        int r = sd_bus_message_new_method_return(m, &reply);

        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sssbdttttxas)");
        if (r < 0)
                return r;
        return rv_bus_reply_stream(self, m, reply, rv_bus_list_row, ret_error);
}

static int
rv_bus_method_list_torrents(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_authorize_message(userdata, m, NULL, rv_bus_list_torrents_authorized, NULL, NULL, ret_error);
}

static void
rv_bus_all_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
        RvBusAllCall *call = user_data;
        g_autoptr(GError) error = NULL;

        /* the bus went first (the daemon is stopping): nobody to tell */
        if (call->bus == NULL) {
                sd_bus_message_unref(call->message);
                g_free(call);
                return;
        }
        g_ptr_array_remove_fast(call->bus->all_calls, call);
        if (!rv_manager_set_all_paused_finish(RV_MANAGER(source), result, &error)) {
                (void)rv_bus_reply_error(call->message, error);
        } else {
                (void)sd_bus_reply_method_return(call->message, NULL);
        }
        sd_bus_message_unref(call->message);
        g_free(call);
}

/* the reply comes once every torrent had its turn */
static int
rv_bus_all_authorized(RvBus *self, sd_bus_message *m, gpointer data, sd_bus_error *ret_error)
{
        RvBusAllCall *call = g_new0(RvBusAllCall, 1);

        call->bus = self;
        call->message = sd_bus_message_ref(m);
        g_ptr_array_add(self->all_calls, call);
        rv_manager_set_all_paused_async(self->manager, GPOINTER_TO_INT(data), rv_bus_all_done_cb, call);
        return 1;
}

static int
rv_bus_method_pause_all(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_authorize_message(userdata, m, NULL, rv_bus_all_authorized, GINT_TO_POINTER(1), NULL, ret_error);
}

static int
rv_bus_method_resume_all(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return rv_bus_authorize_message(userdata, m, NULL, rv_bus_all_authorized, GINT_TO_POINTER(0), NULL, ret_error);
}

/* properties */

static int
rv_bus_prop_version(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                    void *userdata, sd_bus_error *ret_error)
{
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int
rv_bus_prop_service_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;

        return sd_bus_message_append(reply, "s", self->service_state);
}

static int
rv_bus_prop_health(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                   void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;

        return sd_bus_message_append(reply, "s", rv_health_get_status(rv_manager_get_health(self->manager)));
}

static int
rv_bus_prop_degraded(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                     void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        RvHealth *health = rv_manager_get_health(self->manager);
        g_auto(GStrv) names = rv_health_get_degraded(health);
        int r = sd_bus_message_open_container(reply, 'a', "(ss)");

        for (guint i = 0; r >= 0 && names[i] != NULL; i++)
                r = sd_bus_message_append(reply, "(ss)", names[i], rv_health_get_reason(health, names[i]));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int
rv_bus_prop_rate(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                 void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        gint64 down = 0;
        gint64 up = 0;

        rv_manager_get_rates(self->manager, &down, &up);
        return sd_bus_message_append(reply, "t", (uint64_t)(g_str_equal(property, "DownloadRate") ? down : up));
}

static int
rv_bus_prop_count(sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,
                  void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;

        return sd_bus_message_append(reply, "u", rv_manager_get_count(self->manager));
}

static int
rv_bus_prop_state_counts(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;
        guint counts[RV_TORRENT_STATE_LAST];
        int r;

        rv_manager_count_by_state(self->manager, counts);
        r = sd_bus_message_open_container(reply, 'a', "{su}");
        for (guint i = 0; r >= 0 && i < RV_TORRENT_STATE_LAST; i++)
                r = sd_bus_message_append(reply, "{su}", rv_torrent_state_to_string((RvTorrentState)i), counts[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int
rv_bus_prop_setup_required(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        RvBus *self = userdata;

        return sd_bus_message_append(reply, "b", self->access == NULL || rv_access_in_setup(self->access));
}

const sd_bus_vtable rv_bus_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", rv_bus_prop_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ServiceState", "s", rv_bus_prop_service_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Health", "s", rv_bus_prop_health, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Degraded", "a(ss)", rv_bus_prop_degraded, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DownloadRate", "t", rv_bus_prop_rate, 0, 0),
        SD_BUS_PROPERTY("UploadRate", "t", rv_bus_prop_rate, 0, 0),
        SD_BUS_PROPERTY("TorrentCount", "u", rv_bus_prop_count, 0, 0),
        SD_BUS_PROPERTY("StateCounts", "a{su}", rv_bus_prop_state_counts, 0, 0),
        SD_BUS_PROPERTY("SetupRequired", "b", rv_bus_prop_setup_required, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("AddMagnet", SD_BUS_ARGS("s", uri, "a{sv}", options), SD_BUS_RESULT("o", torrent),
                                rv_bus_method_add_magnet, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddTorrent", SD_BUS_ARGS("ay", data, "a{sv}", options), SD_BUS_RESULT("o", torrent),
                                rv_bus_method_add_torrent, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddTorrentFd", SD_BUS_ARGS("h", fd, "a{sv}", options), SD_BUS_RESULT("o", torrent),
                                rv_bus_method_add_torrent_fd, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetTorrent", SD_BUS_ARGS("s", ref), SD_BUS_RESULT("o", torrent),
                                rv_bus_method_get_torrent, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTorrents", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sssbdttttxas)", torrents),
                                rv_bus_method_list_torrents, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTorrentColumns", SD_BUS_ARGS("as", fields), SD_BUS_RESULT("a{sv}", columns),
                                rv_bus_method_list_columns, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTorrentColumnsSparse", SD_BUS_ARGS("as", fields), SD_BUS_RESULT("a{sv}", columns),
                                rv_bus_method_list_columns_sparse, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListClusterTorrents", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssssbdttttxas)", torrents),
                                rv_bus_method_list_cluster_torrents, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RunTorrentCommand", SD_BUS_ARGS("s", info_hash, "s", operation, "a{sv}", arguments),
                                SD_BUS_NO_RESULT, rv_bus_method_run_torrent_command, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PauseAll", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, rv_bus_method_pause_all,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ResumeAll", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, rv_bus_method_resume_all,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("IssueSetupToken", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", token, "t", expires_at),
                                rv_bus_method_issue_setup_token, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("CompleteSetup", SD_BUS_ARGS("s", token, "s", label),
                                SD_BUS_RESULT("s", key_id, "s", secret), rv_bus_method_complete_setup,
                                SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("CreateApiKey", SD_BUS_ARGS("s", label, "u", burst, "u", period_s),
                                SD_BUS_RESULT("s", key_id, "s", secret), rv_bus_method_create_api_key,
                                SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("CreateScopedApiKey", SD_BUS_ARGS("s", label, "s", scope, "u", burst, "u", period_s),
                                SD_BUS_RESULT("s", key_id, "s", secret), rv_bus_method_create_api_key,
                                SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("RotateApiKey", SD_BUS_ARGS("s", key_id), SD_BUS_RESULT("s", secret),
                                rv_bus_method_rotate_or_revoke, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("RevokeApiKey", SD_BUS_ARGS("s", key_id), SD_BUS_NO_RESULT,
                                rv_bus_method_rotate_or_revoke, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListApiKeys", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssbuut)", keys),
                                rv_bus_method_list_api_keys, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("TorrentAdded", SD_BUS_ARGS("o", torrent, "s", info_hash, "s", name), 0),
        SD_BUS_SIGNAL_WITH_ARGS("TorrentRemoved", SD_BUS_ARGS("o", torrent, "s", info_hash), 0),
        SD_BUS_SIGNAL_WITH_ARGS("TorrentCompleted", SD_BUS_ARGS("o", torrent, "s", info_hash, "s", name), 0),
        SD_BUS_SIGNAL_WITH_ARGS("HealthChanged", SD_BUS_ARGS("s", status), 0),
        SD_BUS_SIGNAL_WITH_ARGS("SettingsChanged", SD_BUS_ARGS("t", revision, "as", settings), 0),
        SD_BUS_VTABLE_END,
};
