/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "rv-log.h"

static GLogLevelFlags rv_log_level = G_LOG_LEVEL_INFO;

/* GLib orders levels from ERROR (most severe, lowest bit) to DEBUG */
static gboolean
rv_log_wanted(GLogLevelFlags level)
{
        GLogLevelFlags l = level & G_LOG_LEVEL_MASK;

        return l != 0 && l <= rv_log_level;
}

static const char *
rv_log_level_name(GLogLevelFlags level)
{
        switch (level & G_LOG_LEVEL_MASK) {
        case G_LOG_LEVEL_ERROR:
                return "error";
        case G_LOG_LEVEL_CRITICAL:
                return "critical";
        case G_LOG_LEVEL_WARNING:
                return "warning";
        case G_LOG_LEVEL_MESSAGE:
                return "notice";
        case G_LOG_LEVEL_INFO:
                return "info";
        default:
                return "debug";
        }
}

static GLogWriterOutput
rv_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
        const char *message = NULL;
        const char *domain = NULL;
        g_autoptr(GString) line = g_string_new(NULL);

        if (!rv_log_wanted(level))
                return G_LOG_WRITER_HANDLED;
        for (gsize i = 0; i < n_fields; i++) {
                if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
                        message = fields[i].value;
                else if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
                        domain = fields[i].value;
        }
        g_string_append_printf(line, "revaerd[%d]: %s: %s%s%s\n", (int)getpid(), rv_log_level_name(level),
                               domain != NULL ? domain : "", domain != NULL ? ": " : "",
                               message != NULL ? message : "");
        fputs(line->str, stderr);
        fflush(stderr);
        return G_LOG_WRITER_HANDLED;
}

void
rv_log_init(GLogLevelFlags level)
{
        rv_log_level = level;
        g_log_set_writer_func(rv_log_writer, NULL, NULL);
}

void
rv_log_set_level(GLogLevelFlags level)
{
        rv_log_level = level;
}

GLogLevelFlags
rv_log_get_level(void)
{
        return rv_log_level;
}
