/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "rv-faults-common.h"

/*
 * the embedded store's writes fail under a running revaerd (revaerd-faults:
 * the daemon built with fault injection, armed through REVAER_TEST_FAULTS,
 * see src/daemon/rv-faults.c): at the Nth write with ENOSPC, with EIO, as a
 * short write, for a burst that ends by itself, and only for the settings.
 * For each: health turns degraded naming the error, the daemon keeps
 * answering, the writes are tried again and health returns to ok once the
 * fault is gone; after a kill -9 and a restart everything acknowledged is
 * there and nothing refused is; a client that tries the refused operations
 * again ends with exactly what a run without faults leaves.
 */

typedef struct {
        const char *name;
        /* the control file's line */
        const char *fault;
        int errsv;
        /* the fault ends by itself (count=); otherwise the test clears it */
        gboolean transient;
} Scenario;

static const Scenario scenarios[] = {
        { "enospc", "ENOSPC after=1", ENOSPC, FALSE },
        { "eio-third", "EIO after=3", EIO, FALSE },
        { "short", "ENOSPC after=2 short", ENOSPC, FALSE },
        { "eio-burst", "EIO after=1 count=3", EIO, TRUE },
        { "settings-enospc", "ENOSPC match=settings", ENOSPC, FALSE },
};

static void
write_control(const char *path, const char *line)
{
        g_autoptr(GError) error = NULL;

        g_file_set_contents(path, line, -1, &error);
        g_assert_no_error(error);
}

static void
test_store_fault(gconstpointer data)
{
        const Scenario *s = data;
        const char *reference = rv_faults_reference(NULL);
        RvFaultsDaemon d;
        RvFaultsOutcome o = { 0 };
        g_autofree char *control = NULL;
        g_autofree char *log = NULL;
        g_autofree char *after = NULL;
        gint64 cleared_at;

        rv_faults_daemon_setup(&d, NULL);
        control = g_build_filename(d.t.h.dir, "faults", NULL);
        write_control(control, "");
        rv_test_harness_set_daemon_env(&d.t.h, "REVAER_TEST_FAULTS", control);
        rv_faults_daemon_start(&d);
        rv_faults_workload_prepare(&d);

        write_control(control, s->fault);
        rv_faults_workload_run(&d, &o);
        rv_faults_wait_health(&d, "degraded", g_strerror(s->errsv), 10);
        log = rv_test_read_log(&d.t.h);
        g_assert_nonnull(strstr(log, "fault injected"));
        /* still serving */
        g_assert_true(rv_test_harness_daemon_running(&d.t.h));
        {
                g_autoptr(GVariant) count = rv_test_get(&d.t.h, RV_BUS_PATH, "TorrentCount");
                g_assert_cmpuint(g_variant_get_uint32(count), >=, 2);
        }

        if (!s->transient)
                write_control(control, "");
        cleared_at = g_get_monotonic_time();
        /* tried again with nothing else happening: 1 s after the failure, then 2 s more, ... */
        rv_faults_wait_health(&d, "ok", NULL, 15);
        g_test_message("%s: ok again %.1f s after the fault was cleared", s->name,
                       (double)(g_get_monotonic_time() - cleared_at) / G_USEC_PER_SEC);

        /* what the service records of its own after the key, refused during the fault, is recorded now */
        rv_faults_wait_mode(&d, &o);
        /* a burst that ended counts again in a new process: gone for good now */
        write_control(control, "");
        /* a crash now: what was written again must be on disk, not only in memory */
        rv_test_harness_kill_daemon(&d.t.h);
        rv_faults_daemon_start(&d);
        rv_faults_workload_check(&d, &o);

        rv_faults_workload_retry(&d, &o);
        rv_faults_daemon_stop(&d);
        rv_faults_daemon_start(&d);
        after = rv_faults_snapshot(&d);
        g_assert_cmpstr(after, ==, reference);
        rv_faults_daemon_stop(&d);
        rv_faults_daemon_teardown(&d);
        rv_faults_outcome_clear(&o);
}

static char *
complete_setup(RvFaultsDaemon *d, const char *token, GError **error)
{
        g_autoptr(GVariant) reply = rv_test_call(&d->t.h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "CompleteSetup",
                                                 g_variant_new("(ss)", token, "first"), G_VARIANT_TYPE("(ss)"), error);
        char *key_id = NULL;

        if (reply != NULL)
                g_variant_get(reply, "(ss)", &key_id, NULL);
        return key_id;
}

/*
 * a CompleteSetup the store refused leaves the setup token usable: the user
 * tries again with the same token once the store takes writes, also after a
 * crash, and does not have to issue a new one (the token was burnt before)
 */
static void
test_setup_token(gconstpointer data)
{
        const char *fault = data;
        RvFaultsDaemon d;
        g_autofree char *control = NULL;
        g_autofree char *token = NULL;
        g_autofree char *key_id = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *name = NULL;

        rv_faults_daemon_setup(&d, NULL);
        control = g_build_filename(d.t.h.dir, "faults", NULL);
        write_control(control, "");
        rv_test_harness_set_daemon_env(&d.t.h, "REVAER_TEST_FAULTS", control);
        rv_faults_daemon_start(&d);
        {
                g_autoptr(GVariant) reply = rv_test_call(&d.t.h, RV_BUS_PATH, RV_BUS_MANAGER_IFACE, "IssueSetupToken",
                                                         NULL, G_VARIANT_TYPE("(st)"), &error);
                g_assert_no_error(error);
                g_variant_get(reply, "(st)", &token, NULL);
        }
        write_control(control, fault);
        key_id = complete_setup(&d, token, &error);
        g_assert_null(key_id);
        name = rv_test_error_name(error);
        g_assert_cmpstr(name, ==, "com.revaer.Revaer1.Error.Unavailable");
        g_clear_error(&error);
        rv_faults_wait_health(&d, "degraded", g_strerror(ENOSPC), 10);

        write_control(control, "");
        rv_faults_wait_health(&d, "ok", NULL, 15);
        /* a crash: the token on disk is the one the user holds */
        rv_test_harness_kill_daemon(&d.t.h);
        rv_faults_daemon_start(&d);
        key_id = complete_setup(&d, token, &error);
        g_assert_no_error(error);
        g_assert_nonnull(key_id);
        /* and it is used now */
        g_free(complete_setup(&d, token, &error));
        g_assert_nonnull(error);
        rv_faults_daemon_stop(&d);
        rv_faults_daemon_teardown(&d);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(scenarios); i++) {
                g_autofree char *path = g_strdup_printf("/faults/store/%s", scenarios[i].name);
                g_test_add_data_func(path, &scenarios[i], test_store_fault);
        }
        /* the token's own write refused, or the new key's after the token was taken */
        g_test_add_data_func("/faults/store/setup-token", "ENOSPC after=1", test_setup_token);
        g_test_add_data_func("/faults/store/setup-token-key", "ENOSPC match=keys", test_setup_token);
        return g_test_run();
}
