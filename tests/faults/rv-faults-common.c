/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-engine.h"
#include "rv-faults-common.h"
#include "rv-test-data.h"

#define PROPS_IFACE "org.freedesktop.DBus.Properties"
#define ENGINE_PATH RV_BUS_PATH "/policy/engine"
#define POLICY_IFACE "com.revaer.Revaer1.Policy"
#define ENGINE_IFACE POLICY_IFACE ".Engine"
/* the workload's values: each differs from the default, so a lost one shows */
#define WORKLOAD_DOWNLOAD_LIMIT 123456
#define WORKLOAD_KEY_LABEL "faults-key"

void
rv_faults_outcome_clear(RvFaultsOutcome *o)
{
        for (guint i = 0; i < RV_FAULTS_OP_LAST; i++)
                g_clear_pointer(&o->errors[i], g_free);
}

void
rv_faults_daemon_setup(RvFaultsDaemon *d, const char *store_config)
{
        RvTestHttp *t = &d->t;
        g_autofree char *dropins = NULL;
        g_autofree char *dropin = NULL;
        g_autofree char *text = NULL;

        memset(d, 0, sizeof(*d));
        rv_test_harness_setup(&t->h);
        d->store_config = g_strdup(store_config);
        rv_test_harness_write_config(&t->h, store_config);
        t->port = rv_test_http_free_port();
        dropins = g_strconcat(t->h.config, ".d", NULL);
        g_assert_cmpint(g_mkdir_with_parents(dropins, 0700), ==, 0);
        dropin = g_build_filename(dropins, "50-http.conf", NULL);
        text = g_strdup_printf("[http]\nlisten=127.0.0.1:%u\n", t->port);
        g_assert_true(g_file_set_contents(dropin, text, -1, NULL));
        t->base = g_strdup_printf("http://127.0.0.1:%u", t->port);
        t->session = soup_session_new_with_options("timeout", 30, NULL);
}

void
rv_faults_daemon_start(RvFaultsDaemon *d)
{
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        rv_test_harness_start_daemon(&d->t.h);
        /* 200 once the stored torrents are back: the view is whole from here */
        for (;;) {
                g_autoptr(RvTestResponse) r = rv_test_http_get(&d->t, "/health", NULL);
                if (r->status == 200)
                        break;
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                g_usleep(50000);
        }
}

void
rv_faults_daemon_stop(RvFaultsDaemon *d)
{
        int status = rv_test_harness_stop_daemon(&d->t.h);

        if (status != 0) {
                g_autofree char *log = rv_test_read_log(&d->t.h);
                g_printerr("%s\nrevaerd stopped with status %d\n", log != NULL ? log : "", status);
                g_assert_not_reached();
        }
}

void
rv_faults_daemon_teardown(RvFaultsDaemon *d)
{
        rv_test_http_stop(&d->t);
        for (guint i = 0; i < G_N_ELEMENTS(d->paths); i++)
                g_clear_pointer(&d->paths[i], g_free);
        g_clear_pointer(&d->store_config, g_free);
}

/* the workload's operations; each returns the D-Bus error, NULL when acknowledged */

static GError *
faults_call(RvFaultsDaemon *d, const char *path, const char *iface, const char *method, GVariant *params,
            const GVariantType *reply_type, GVariant **ret_reply)
{
        GError *error = NULL;
        GVariant *reply = rv_test_call(&d->t.h, path, iface, method, params, reply_type, &error);

        if (ret_reply != NULL)
                *ret_reply = reply;
        else if (reply != NULL)
                g_variant_unref(reply);
        return error;
}

static GError *
faults_add(RvFaultsDaemon *d, guint i)
{
        g_autoptr(GBytes) torrent = rv_test_data_tiny_torrent("faults", i);
        g_autoptr(GVariant) reply = NULL;
        GError *error;

        error = faults_call(d, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "AddTorrent",
                            g_variant_new("(@ay@a{sv})",
                                          g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, torrent, TRUE),
                                          g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
                            G_VARIANT_TYPE("(o)"), &reply);
        if (error == NULL) {
                g_free(d->paths[i]);
                g_variant_get(reply, "(o)", &d->paths[i]);
        }
        return error;
}

static GError *
faults_run_op(RvFaultsDaemon *d, RvFaultsOp op)
{
        const char *labels[] = { "faulty", "kept", NULL };

        switch (op) {
        case RV_FAULTS_OP_PAUSE:
                return faults_call(d, d->paths[0], RV_BUS_TORRENT_IFACE, "Pause", NULL, NULL, NULL);
        case RV_FAULTS_OP_LABELS:
                return faults_call(
                        d, d->paths[1], PROPS_IFACE, "Set",
                        g_variant_new("(ssv)", RV_BUS_TORRENT_IFACE, "Labels", g_variant_new_strv(labels, -1)), NULL,
                        NULL);
        case RV_FAULTS_OP_SETTINGS:
                return faults_call(d, ENGINE_PATH, PROPS_IFACE, "Set",
                                   g_variant_new("(ssv)", ENGINE_IFACE, "DownloadLimit",
                                                 g_variant_new_int64(WORKLOAD_DOWNLOAD_LIMIT)),
                                   NULL, NULL);
        case RV_FAULTS_OP_ADD:
                return faults_add(d, 3);
        case RV_FAULTS_OP_REMOVE:
                return faults_call(d, d->paths[2], RV_BUS_TORRENT_IFACE, "Remove", g_variant_new("(b)", FALSE), NULL,
                                   NULL);
        case RV_FAULTS_OP_KEY:
                return faults_call(d, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "CreateApiKey",
                                   g_variant_new("(suu)", WORKLOAD_KEY_LABEL, 100, 60), G_VARIANT_TYPE("(ss)"), NULL);
        case RV_FAULTS_OP_LAST:
        default:
                g_assert_not_reached();
        }
        return NULL;
}

static const char *const faults_op_names[RV_FAULTS_OP_LAST] = {
        "pause", "labels", "settings", "add", "remove", "api key",
};

static guint64
faults_revision(RvFaultsDaemon *d)
{
        g_autoptr(GVariant) v = rv_test_get_iface(&d->t.h, ENGINE_PATH, POLICY_IFACE, "Revision");

        return g_variant_get_uint64(v);
}

static gint64
faults_download_limit(RvFaultsDaemon *d)
{
        g_autoptr(GVariant) v = rv_test_get_iface(&d->t.h, ENGINE_PATH, ENGINE_IFACE, "DownloadLimit");

        return g_variant_get_int64(v);
}

void
rv_faults_workload_prepare(RvFaultsDaemon *d)
{
        for (guint i = 0; i < 3; i++) {
                g_autoptr(GError) error = faults_add(d, i);
                g_assert_no_error(error);
        }
}

static void
faults_workload_run_range(RvFaultsDaemon *d, RvFaultsOutcome *o, guint from, guint to)
{
        for (guint op = from; op < to; op++) {
                g_autoptr(GError) error = faults_run_op(d, op);
                g_autofree char *name = NULL;

                o->acked[op] = error == NULL;
                if (error == NULL) {
                        g_test_message("%s: acknowledged", faults_op_names[op]);
                        continue;
                }
                name = rv_test_error_name(error);
                g_test_message("%s: refused: %s: %s", faults_op_names[op], name, error->message);
                /* a refusal under a store fault says so; nothing else may fail */
                g_assert_cmpstr(name, ==, "com.revaer.Revaer1.Error.Unavailable");
                o->errors[op] = g_strdup(error->message);
        }
}

void
rv_faults_workload_run_first(RvFaultsDaemon *d, RvFaultsOutcome *o, guint n)
{
        o->revision_before = faults_revision(d);
        faults_workload_run_range(d, o, 0, n);
}

void
rv_faults_workload_run_rest(RvFaultsDaemon *d, RvFaultsOutcome *o, guint n)
{
        faults_workload_run_range(d, o, n, RV_FAULTS_OP_LAST);
}

void
rv_faults_workload_run(RvFaultsDaemon *d, RvFaultsOutcome *o)
{
        rv_faults_workload_run_first(d, o, 0);
        rv_faults_workload_run_rest(d, o, 0);
}

void
rv_faults_workload_retry(RvFaultsDaemon *d, const RvFaultsOutcome *o)
{
        for (guint op = 0; op < RV_FAULTS_OP_LAST; op++) {
                gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
                for (;;) {
                        g_autoptr(GError) error = NULL;
                        if (o->acked[op])
                                break;
                        error = faults_run_op(d, op);
                        if (error == NULL)
                                break;
                        g_test_message("%s tried again: %s", faults_op_names[op], error->message);
                        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                        g_usleep(200000);
                }
        }
}

/* ListTorrents: hash -> (name, state, labels) */
static GVariant *
faults_list(RvFaultsDaemon *d)
{
        GVariant *reply = NULL;
        g_autoptr(GError) error = faults_call(d, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "ListTorrents", NULL,
                                              G_VARIANT_TYPE("(a(sssbdttttxas))"), &reply);

        g_assert_no_error(error);
        return reply;
}

static gboolean
faults_has_torrent(RvFaultsDaemon *d, guint i)
{
        g_autoptr(GBytes) torrent = rv_test_data_tiny_torrent("faults", i);
        g_autoptr(RvEngineSource) source = rv_engine_source_new_torrent(NULL, torrent, NULL);
        g_autoptr(GVariant) list = faults_list(d);
        g_autoptr(GVariantIter) iter = NULL;
        const char *hash;
        gboolean found = FALSE;

        g_assert_nonnull(source);
        g_variant_get(list, "(a(sssbdttttxas))", &iter);
        while (g_variant_iter_next(iter, "(&s&s&sbdttttx^a&s)", &hash, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                   NULL, NULL))
                found = found || g_strcmp0(hash, rv_engine_source_get_info(source)->hash.hex) == 0;
        return found;
}

static char *
faults_torrent_state(RvFaultsDaemon *d, guint i)
{
        g_autoptr(GVariant) v = rv_test_get(&d->t.h, d->paths[i], "State");

        return g_variant_dup_string(v, NULL);
}

static char **
faults_torrent_labels(RvFaultsDaemon *d, guint i)
{
        g_autoptr(GVariant) v = rv_test_get(&d->t.h, d->paths[i], "Labels");

        return g_variant_dup_strv(v, NULL);
}

static gboolean
faults_has_key(RvFaultsDaemon *d)
{
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GError) error = faults_call(d, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "ListApiKeys", NULL,
                                              G_VARIANT_TYPE("(a(ssbuut))"), &reply);
        g_autoptr(GVariantIter) iter = NULL;
        const char *label;
        gboolean found = FALSE;

        g_assert_no_error(error);
        g_variant_get(reply, "(a(ssbuut))", &iter);
        while (g_variant_iter_next(iter, "(&s&sbuut)", NULL, &label, NULL, NULL, NULL, NULL))
                found = found || g_strcmp0(label, WORKLOAD_KEY_LABEL) == 0;
        return found;
}

/*
 * the service's mode follows its keys (setup with none, active with one) as
 * a settings revision of its own, recorded after the key and again at a
 * start when a failed write left it behind: wait for it before counting
 * revisions
 */
static void
faults_wait_mode(RvFaultsDaemon *d, gboolean key)
{
        g_autoptr(GVariant) v = rv_test_wait_prop(&d->t.h, RV_BUS_PATH "/policy/app", "Mode", rv_test_pred_string,
                                                  key ? "active" : "setup", 10);
        (void)v;
}

void
rv_faults_wait_mode(RvFaultsDaemon *d, const RvFaultsOutcome *o)
{
        faults_wait_mode(d, o->acked[RV_FAULTS_OP_KEY]);
}

void
rv_faults_workload_check(RvFaultsDaemon *d, const RvFaultsOutcome *o)
{
        g_autofree char *state = NULL;
        g_auto(GStrv) labels = NULL;

        faults_wait_mode(d, o->acked[RV_FAULTS_OP_KEY]);
        state = faults_torrent_state(d, 0);
        labels = faults_torrent_labels(d, 1);

        /* the torrents added before the fault are all there, but the one removed if its removal was acknowledged */
        g_assert_true(faults_has_torrent(d, 0));
        g_assert_true(faults_has_torrent(d, 1));
        g_assert_cmpint(faults_has_torrent(d, 2), ==, !o->acked[RV_FAULTS_OP_REMOVE]);
        if (o->acked[RV_FAULTS_OP_PAUSE])
                g_assert_cmpstr(state, ==, "paused");
        else
                g_assert_cmpstr(state, !=, "paused");
        g_assert_cmpint(labels != NULL && g_strv_contains((const char *const *)labels, "faulty"), ==,
                        o->acked[RV_FAULTS_OP_LABELS]);
        /*
         * a refused settings change is not applied later behind the caller's
         * back; the first API key is a revision too (the service's mode)
         */
        {
                gboolean applied = faults_download_limit(d) == WORKLOAD_DOWNLOAD_LIMIT;
                /* PostgreSQL ended mid-commit: the daemon said it cannot know, either outcome is honest */
                gboolean unknown = o->errors[RV_FAULTS_OP_SETTINGS] != NULL &&
                                   strstr(o->errors[RV_FAULTS_OP_SETTINGS], "outcome is unknown") != NULL;
                if (!unknown)
                        g_assert_cmpint(applied, ==, o->acked[RV_FAULTS_OP_SETTINGS]);
                g_assert_cmpuint(faults_revision(d), ==, o->revision_before + applied + o->acked[RV_FAULTS_OP_KEY]);
        }
        g_assert_cmpint(faults_has_torrent(d, 3), ==, o->acked[RV_FAULTS_OP_ADD]);
        g_assert_cmpint(faults_has_key(d), ==, o->acked[RV_FAULTS_OP_KEY]);
}

static gint
faults_cmp_lines(gconstpointer a, gconstpointer b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *
rv_faults_snapshot(RvFaultsDaemon *d)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GVariant) list = NULL;
        g_autoptr(GVariantIter) iter = NULL;
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GVariant) history = NULL;
        g_autoptr(GError) error = NULL;
        const char *hash;
        const char *name;
        const char *state;
        const char **labels;

        faults_wait_mode(d, faults_has_key(d));
        list = faults_list(d);
        g_variant_get(list, "(a(sssbdttttxas))", &iter);
        while (g_variant_iter_next(iter, "(&s&s&sbdttttx^a&s)", &hash, &name, &state, NULL, NULL, NULL, NULL, NULL,
                                   NULL, NULL, &labels)) {
                g_autofree char *joined = g_strjoinv(",", (char **)labels);
                g_ptr_array_add(lines, g_strdup_printf("torrent %s %s %s [%s]\n", hash, name,
                                                       g_strcmp0(state, "paused") == 0 ? "paused" : "active", joined));
                g_free(labels);
        }
        g_ptr_array_sort(lines, faults_cmp_lines);
        for (guint i = 0; i < lines->len; i++)
                g_string_append(out, g_ptr_array_index(lines, i));
        error = faults_call(d, ENGINE_PATH, POLICY_IFACE, "History", g_variant_new("(u)", 1000),
                            G_VARIANT_TYPE("(a(txsss))"), &history);
        g_assert_no_error(error);
        {
                g_autoptr(GVariant) entries = g_variant_get_child_value(history, 0);
                g_string_append_printf(out,
                                       "settings revision %" G_GUINT64_FORMAT " download_limit %" G_GINT64_FORMAT
                                       " history %" G_GSIZE_FORMAT "\n",
                                       faults_revision(d), faults_download_limit(d), g_variant_n_children(entries));
        }
        g_string_append_printf(out, "api key %s\n", faults_has_key(d) ? "present" : "absent");
        return g_string_free(g_steal_pointer(&out), FALSE);
}

const char *
rv_faults_reference(const char *store_config)
{
        static char *reference;
        RvFaultsDaemon d;
        RvFaultsOutcome o = { 0 };

        if (reference != NULL)
                return reference;
        rv_faults_daemon_setup(&d, store_config);
        rv_faults_daemon_start(&d);
        rv_faults_workload_prepare(&d);
        rv_faults_workload_run(&d, &o);
        for (guint op = 0; op < RV_FAULTS_OP_LAST; op++)
                g_assert_true(o.acked[op]);
        rv_faults_daemon_stop(&d);
        rv_faults_daemon_start(&d);
        reference = rv_faults_snapshot(&d);
        g_test_message("the workload without faults leaves:\n%s", reference);
        rv_faults_daemon_teardown(&d);
        rv_faults_outcome_clear(&o);
        return reference;
}

char *
rv_faults_health(RvFaultsDaemon *d)
{
        g_autoptr(RvTestResponse) r = rv_test_http_get(&d->t, "/health", NULL);
        g_autoptr(GVariant) v = rv_test_get(&d->t.h, RV_BUS_PATH, "Health");
        const char *status;

        g_assert_cmpuint(r->status, ==, 200);
        status = json_object_get_string_member(rv_test_response_object(r), "status");
        /* the two views may be one change apart; the caller polls */
        if (g_strcmp0(status, g_variant_get_string(v, NULL)) != 0)
                return g_strdup("changing");
        return g_strdup(status);
}

char *
rv_faults_store_reason(RvFaultsDaemon *d)
{
        g_autoptr(GVariant) v = rv_test_get(&d->t.h, RV_BUS_PATH, "Degraded");
        GVariantIter iter;
        const char *c;
        const char *reason;

        g_variant_iter_init(&iter, v);
        while (g_variant_iter_next(&iter, "(&s&s)", &c, &reason)) {
                if (g_strcmp0(c, "store") == 0)
                        return g_strdup(reason);
        }
        return NULL;
}

void
rv_faults_wait_health(RvFaultsDaemon *d, const char *want, const char *needle, guint timeout_s)
{
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

        for (;;) {
                g_autofree char *status = rv_faults_health(d);
                g_autofree char *reason = rv_faults_store_reason(d);
                if (g_strcmp0(status, want) == 0 &&
                    (needle == NULL || strstr(reason != NULL ? reason : "", needle) != NULL))
                        return;
                if (g_get_monotonic_time() > deadline) {
                        g_autofree char *log = rv_test_read_log(&d->t.h);
                        g_printerr("%s\nhealth is '%s' (store: %s), not '%s' after %u s\n", log != NULL ? log : "",
                                   status, reason, want, timeout_s);
                        g_assert_not_reached();
                }
                g_usleep(100000);
        }
}
