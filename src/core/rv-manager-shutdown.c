/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-core"

#include "config.h"

#include <string.h>

#include "rv-json.h"
#include "rv-manager-private.h"

/* shutdown */

/* the last flush is bounded too: a store whose server is gone must not hold the stop forever */
typedef struct {
        GTask *task;
        guint timer;
        gboolean done;
        gint refs;
} RvShutdownFlush;

static void
rv_shutdown_flush_unref(RvShutdownFlush *f)
{
        if (--f->refs > 0)
                return;
        g_object_unref(f->task);
        g_free(f);
}

static void
rv_manager_shutdown_flushed_cb(const GError *error, gpointer user_data)
{
        RvShutdownFlush *f = user_data;

        if (!f->done) {
                f->done = TRUE;
                g_source_remove(f->timer);
                rv_manager_abandon_adds(g_task_get_source_object(f->task));
                rv_shutdown_flush_unref(f);
                if (error != NULL)
                        g_task_return_error(f->task, g_error_copy(error));
                else
                        g_task_return_boolean(f->task, TRUE);
        }
        rv_shutdown_flush_unref(f);
}

static gboolean
rv_manager_shutdown_flush_timeout_cb(gpointer user_data)
{
        RvShutdownFlush *f = user_data;

        f->done = TRUE;
        rv_manager_abandon_adds(g_task_get_source_object(f->task));
        g_task_return_new_error(f->task, RV_ERROR, RV_ERROR_UNAVAILABLE,
                                "the store did not confirm the last writes in time");
        rv_shutdown_flush_unref(f);
        return G_SOURCE_REMOVE;
}

static void
rv_manager_shutdown_finish_saving(RvManager *self)
{
        GTask *task = g_steal_pointer(&self->shutdown_task);
        RvShutdownFlush *f = g_new0(RvShutdownFlush, 1);

        if (self->shutdown_timer != 0) {
                g_source_remove(self->shutdown_timer);
                self->shutdown_timer = 0;
        }
        if (self->shutdown_waiting > 0)
                rv_manager_problem(self, "shutdown: %u torrents did not deliver resume data in time",
                                   self->shutdown_waiting);
        g_task_set_task_data(task, GUINT_TO_POINTER(self->shutdown_saved), NULL);
        f->task = task;
        /* one reference for the flush callback, one for the timer */
        f->refs = 2;
        f->timer = g_timeout_add(MAX(self->config.shutdown_timeout_ms, 1), rv_manager_shutdown_flush_timeout_cb, f);
        rv_store_flush(self->store, rv_manager_shutdown_flushed_cb, f);
}

void
rv_manager_shutdown_step(RvManager *self)
{
        if (self->shutdown_waiting == 0)
                return;
        self->shutdown_waiting--;
        self->shutdown_saved++;
        if (self->shutdown_waiting == 0)
                rv_manager_shutdown_finish_saving(self);
}

static gboolean
rv_manager_shutdown_timeout_cb(gpointer user_data)
{
        RvManager *self = user_data;

        self->shutdown_timer = 0;
        rv_manager_shutdown_finish_saving(self);
        return G_SOURCE_REMOVE;
}

void
rv_manager_shutdown_async(RvManager *self, GAsyncReadyCallback callback, gpointer user_data)
{
        GTask *task = g_task_new(self, NULL, callback, user_data);
        if (self->shutdown_task != NULL) {
                g_task_return_new_error(task, RV_ERROR, RV_ERROR_CONFLICT, "a shutdown is already running");
                g_object_unref(task);
                return;
        }
        if (self->resume_timer != 0) {
                g_source_remove(self->resume_timer);
                self->resume_timer = 0;
        }
        self->shutdown_task = task;
        self->stopping = TRUE;
        rv_manager_load_stop(self);
        self->shutdown_saved = 0;
        /* paused first, so the resume data written next is the final word */
        rv_engine_pause_session(self->engine);
        /* only what changed since its last save: a restart of an idle daemon rewrites nothing */
        self->shutdown_waiting = 0;
        for (guint i = 0; i < self->order->len; i++) {
                RvTorrent *t = g_ptr_array_index(self->order, i);
                gboolean active = t->state == RV_TORRENT_STATE_DOWNLOADING || t->state == RV_TORRENT_STATE_CHECKING ||
                                  t->state == RV_TORRENT_STATE_FETCHING_METADATA;
                if (!t->in_engine || t->removing)
                        continue;
                self->shutdown_waiting += rv_engine_save_resume(self->engine, &t->hash, !(t->resume_stale || active));
        }
        if (self->shutdown_waiting == 0) {
                rv_manager_shutdown_finish_saving(self);
                return;
        }
        self->shutdown_timer =
                g_timeout_add(MAX(self->config.shutdown_timeout_ms, 1), rv_manager_shutdown_timeout_cb, self);
}

gboolean
rv_manager_shutdown_finish(RvManager *self, GAsyncResult *result, guint *ret_saved, GError **error)
{
        GTask *task = G_TASK(result);

        if (!g_task_propagate_boolean(task, error))
                return FALSE;
        if (ret_saved != NULL)
                *ret_saved = GPOINTER_TO_UINT(g_task_get_task_data(task));
        return TRUE;
}

guint
rv_manager_get_shutdown_pending(RvManager *self)
{
        return self->shutdown_task != NULL ? self->shutdown_waiting : 0;
}
