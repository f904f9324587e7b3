/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaerd"

#include "config.h"

#include <systemd/sd-daemon.h>

#include "rv-notify.h"

/* STATUS= at most this often */
#define RV_NOTIFY_STATUS_INTERVAL_S 5
/* while stopping: how far each extension reaches, and how often it is renewed */
#define RV_NOTIFY_EXTEND_USEC (10 * G_USEC_PER_SEC)
#define RV_NOTIFY_EXTEND_INTERVAL_S 3

struct _RvNotify {
        RvManager *manager;
        gulong alive_handler;
        guint status_timer;
        guint watchdog_timer;
        guint stopping_timer;
        char *last_status;
        /* WATCHDOG_USEC, 0 when the watchdog is off */
        guint64 watchdog_usec;
        gint64 last_alive_us;
        gboolean ready;
};

static void
rv_notify_human_rate(GString *out, gint64 bps)
{
        if (bps >= 1000 * 1000)
                g_string_append_printf(out, "%.1f MB/s", (double)bps / 1e6);
        else if (bps >= 1000)
                g_string_append_printf(out, "%.0f kB/s", (double)bps / 1e3);
        else
                g_string_append_printf(out, "%" G_GINT64_FORMAT " B/s", bps);
}

char *
rv_notify_status_line(RvManager *manager)
{
        guint counts[RV_TORRENT_STATE_LAST];
        gint64 down = 0;
        gint64 up = 0;
        g_autoptr(GString) out = g_string_new(NULL);
        gboolean first = TRUE;
        guint total = rv_manager_get_count(manager);

        rv_manager_count_by_state(manager, counts);
        rv_manager_get_rates(manager, &down, &up);
        g_string_append_printf(out, "%u torrent%s", total, total == 1 ? "" : "s");
        for (guint i = 0; i < RV_TORRENT_STATE_LAST; i++) {
                if (counts[i] == 0)
                        continue;
                g_string_append_printf(out, "%s %u %s", first ? ":" : ",", counts[i],
                                       rv_torrent_state_to_string((RvTorrentState)i));
                first = FALSE;
        }
        g_string_append(out, "; down ");
        rv_notify_human_rate(out, down);
        g_string_append(out, ", up ");
        rv_notify_human_rate(out, up);
        if (!rv_health_is_ok(rv_manager_get_health(manager))) {
                g_auto(GStrv) degraded = rv_health_get_degraded(rv_manager_get_health(manager));
                g_autofree char *joined = g_strjoinv(", ", degraded);
                g_string_append_printf(out, "; degraded: %s", joined);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
rv_notify_send_status(RvNotify *self)
{
        g_autofree char *line = rv_notify_status_line(self->manager);
        g_autofree char *msg = NULL;

        if (g_strcmp0(line, self->last_status) == 0)
                return;
        msg = g_strdup_printf("STATUS=%s", line);
        (void)sd_notify(0, msg);
        g_free(self->last_status);
        self->last_status = g_steal_pointer(&line);
}

static gboolean
rv_notify_status_cb(gpointer user_data)
{
        rv_notify_send_status(user_data);
        return G_SOURCE_CONTINUE;
}

static void
rv_notify_alive_cb(RvManager *manager, gpointer user_data)
{
        RvNotify *self = user_data;

        self->last_alive_us = g_get_monotonic_time();
}

/*
 * runs every half period: this callback running at all proves the main loop
 * turns, and the engine must have answered the probe sent one tick earlier;
 * a stuck loop or a stuck engine therefore stops the pings and systemd
 * restarts the service
 */
static gboolean
rv_notify_watchdog_cb(gpointer user_data)
{
        RvNotify *self = user_data;
        gint64 now = g_get_monotonic_time();

        if (now - self->last_alive_us <= (gint64)self->watchdog_usec)
                (void)sd_notify(0, "WATCHDOG=1");
        else
                g_debug("the engine has not answered for %" G_GINT64_FORMAT " ms, no watchdog ping",
                        (now - self->last_alive_us) / 1000);
        rv_engine_probe(rv_manager_get_engine(self->manager));
        return G_SOURCE_CONTINUE;
}

RvNotify *
rv_notify_new(RvManager *manager)
{
        RvNotify *self = g_new0(RvNotify, 1);
        uint64_t usec = 0;

        self->manager = g_object_ref(manager);
        self->last_alive_us = g_get_monotonic_time();
        self->alive_handler = g_signal_connect(manager, "engine-alive", G_CALLBACK(rv_notify_alive_cb), self);
        if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
                self->watchdog_usec = usec;
                self->watchdog_timer = g_timeout_add(MAX(usec / 2000, 1), rv_notify_watchdog_cb, self);
                rv_engine_probe(rv_manager_get_engine(manager));
        }
        return self;
}

void
rv_notify_free(RvNotify *self)
{
        if (self == NULL)
                return;
        if (self->status_timer != 0)
                g_source_remove(self->status_timer);
        if (self->watchdog_timer != 0)
                g_source_remove(self->watchdog_timer);
        if (self->stopping_timer != 0)
                g_source_remove(self->stopping_timer);
        g_signal_handler_disconnect(self->manager, self->alive_handler);
        g_object_unref(self->manager);
        g_free(self->last_status);
        g_free(self);
}

void
rv_notify_ready(RvNotify *self)
{
        g_autofree char *line = rv_notify_status_line(self->manager);
        g_autofree char *msg = g_strdup_printf("READY=1\nSTATUS=%s", line);

        (void)sd_notify(0, msg);
        g_free(self->last_status);
        self->last_status = g_steal_pointer(&line);
        self->ready = TRUE;
        if (self->status_timer == 0)
                self->status_timer = g_timeout_add_seconds(RV_NOTIFY_STATUS_INTERVAL_S, rv_notify_status_cb, self);
}

void
rv_notify_reloading(RvNotify *self)
{
        g_autofree char *msg =
                g_strdup_printf("RELOADING=1\nMONOTONIC_USEC=%" G_GINT64_FORMAT "\nSTATUS=Reloading the configuration",
                                g_get_monotonic_time());

        (void)sd_notify(0, msg);
}

void
rv_notify_reloaded(RvNotify *self)
{
        g_clear_pointer(&self->last_status, g_free);
        (void)sd_notify(0, "READY=1");
        rv_notify_send_status(self);
}

static gboolean
rv_notify_stopping_cb(gpointer user_data)
{
        RvNotify *self = user_data;
        guint left = rv_manager_get_shutdown_pending(self->manager);
        g_autofree char *msg = g_strdup_printf("EXTEND_TIMEOUT_USEC=%" G_GUINT64_FORMAT
                                               "\nSTATUS=Saving resume data: %u torrents left",
                                               (guint64)RV_NOTIFY_EXTEND_USEC, left);

        (void)sd_notify(0, msg);
        return G_SOURCE_CONTINUE;
}

void
rv_notify_stopping(RvNotify *self)
{
        if (self->status_timer != 0) {
                g_source_remove(self->status_timer);
                self->status_timer = 0;
        }
        (void)sd_notify(0, "STOPPING=1\nSTATUS=Saving resume data");
        /* a big catalogue may need longer than TimeoutStopSec: ask for more while progress is made */
        (void)rv_notify_stopping_cb(self);
        self->stopping_timer = g_timeout_add_seconds(RV_NOTIFY_EXTEND_INTERVAL_S, rv_notify_stopping_cb, self);
}
