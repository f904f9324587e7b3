/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "config.h"

#include "rv-context.h"

void
rv_context_post(GMainContext *context, gint priority, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
        GSource *source = g_idle_source_new();

        g_source_set_priority(source, priority);
        g_source_set_callback(source, func, data, notify);
        g_source_set_static_name(source, "rv-context-post");
        (void)g_source_attach(source, context);
        g_source_unref(source);
}
