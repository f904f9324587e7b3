/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * func(data) on the thread that iterates context, later, never inside this
 * call: from a worker thread, g_main_context_invoke() runs func there and
 * then when nobody holds the context (a test between two iterations), so
 * results of workers go through this. notify frees data after the call.
 */
void rv_context_post(GMainContext *context, gint priority, GSourceFunc func, gpointer data, GDestroyNotify notify);

G_END_DECLS
