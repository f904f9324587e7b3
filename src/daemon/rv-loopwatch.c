/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaerd"

#include "config.h"

#include <string.h>

#include "rv-loopwatch.h"

#define RV_LOOP_WATCH_LOG_INTERVAL_US (10 * G_USEC_PER_SEC)

static struct {
        GPollFunc poll;
        gint64 threshold_us;
        gboolean armed;
        /* when the last poll returned; 0 before the first */
        gint64 woke_us;
        guint stalls;
        gint64 longest_us;
        /* since the last log line */
        guint unlogged;
        gint64 unlogged_longest_us;
        gint64 logged_us;
} rv_watch;

static gint
rv_loop_watch_poll(GPollFD *fds, guint n_fds, gint timeout)
{
        gint64 now = g_get_monotonic_time();
        gint ret;

        if (rv_watch.armed && rv_watch.woke_us != 0 && now - rv_watch.woke_us > rv_watch.threshold_us) {
                gint64 busy = now - rv_watch.woke_us;
                rv_watch.stalls++;
                rv_watch.longest_us = MAX(rv_watch.longest_us, busy);
                rv_watch.unlogged++;
                rv_watch.unlogged_longest_us = MAX(rv_watch.unlogged_longest_us, busy);
                if (now - rv_watch.logged_us >= RV_LOOP_WATCH_LOG_INTERVAL_US) {
                        g_info("main loop stalled: %u iterations over %" G_GINT64_FORMAT
                               " ms, the longest %.1f ms (%u since start)",
                               rv_watch.unlogged, rv_watch.threshold_us / 1000,
                               (double)rv_watch.unlogged_longest_us / 1000.0, rv_watch.stalls);
                        rv_watch.unlogged = 0;
                        rv_watch.unlogged_longest_us = 0;
                        rv_watch.logged_us = now;
                }
        }
        ret = rv_watch.poll(fds, n_fds, timeout);
        rv_watch.woke_us = g_get_monotonic_time();
        return ret;
}

void
rv_loop_watch_install(gint64 threshold_us)
{
        GMainContext *context = g_main_context_default();

        g_return_if_fail(rv_watch.poll == NULL);
        rv_watch.threshold_us = threshold_us;
        rv_watch.poll = g_main_context_get_poll_func(context);
        g_main_context_set_poll_func(context, rv_loop_watch_poll);
}

void
rv_loop_watch_arm(void)
{
        rv_watch.armed = TRUE;
}

void
rv_loop_watch_report(void)
{
        if (!rv_watch.armed)
                return;
        rv_watch.armed = FALSE;
        g_info("main loop since ready: %u iterations over %" G_GINT64_FORMAT " ms, the longest %.1f ms",
               rv_watch.stalls, rv_watch.threshold_us / 1000, (double)rv_watch.longest_us / 1000.0);
}

void
rv_loop_watch_uninstall(void)
{
        if (rv_watch.poll == NULL)
                return;
        g_main_context_set_poll_func(g_main_context_default(), rv_watch.poll);
        memset(&rv_watch, 0, sizeof(rv_watch));
}

guint
rv_loop_watch_get_stalls(gint64 *ret_longest_us)
{
        if (ret_longest_us != NULL)
                *ret_longest_us = rv_watch.longest_us;
        return rv_watch.stalls;
}
