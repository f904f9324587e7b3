/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "rv-bootstrap.h"
#include "rv-log.h"

static int rv_log_level = LOG_INFO;
static RvLogTarget rv_log_target = RV_LOG_TARGET_AUTO;
static gboolean rv_log_journal_present;

const char *
rv_log_target_to_string(RvLogTarget target)
{
        switch (target) {
        case RV_LOG_TARGET_CONSOLE:
                return "console";
        case RV_LOG_TARGET_JOURNAL:
                return "journal";
        case RV_LOG_TARGET_NULL:
                return "null";
        case RV_LOG_TARGET_AUTO:
        default:
                return "auto";
        }
}

gboolean
rv_log_target_from_string(const char *text, RvLogTarget *ret_target)
{
        static const RvLogTarget all[] = { RV_LOG_TARGET_AUTO, RV_LOG_TARGET_CONSOLE, RV_LOG_TARGET_JOURNAL,
                                           RV_LOG_TARGET_NULL };

        for (guint i = 0; i < G_N_ELEMENTS(all); i++) {
                if (g_strcmp0(text, rv_log_target_to_string(all[i])) == 0) {
                        *ret_target = all[i];
                        return TRUE;
                }
        }
        /* systemd's other names for the same places */
        if (g_strcmp0(text, "journal-or-kmsg") == 0 || g_strcmp0(text, "syslog") == 0 ||
            g_strcmp0(text, "syslog-or-kmsg") == 0) {
                *ret_target = RV_LOG_TARGET_JOURNAL;
                return TRUE;
        }
        return FALSE;
}

/* GLib's levels in syslog terms, as GLib's own journald writer maps them */
static int
rv_log_priority(GLogLevelFlags level)
{
        switch (level & G_LOG_LEVEL_MASK) {
        case G_LOG_LEVEL_ERROR:
                return LOG_ERR;
        case G_LOG_LEVEL_CRITICAL:
        case G_LOG_LEVEL_WARNING:
                return LOG_WARNING;
        case G_LOG_LEVEL_MESSAGE:
                return LOG_NOTICE;
        case G_LOG_LEVEL_INFO:
                return LOG_INFO;
        default:
                return LOG_DEBUG;
        }
}

/*
 * sd_journal_send() reports success when there is no journal at all, so the
 * journal is detected: JOURNAL_STREAM naming our stderr says systemd connected
 * us to it; otherwise a person at a terminal reads stderr, and anything else
 * goes to the journal when its socket is there
 */
static gboolean
rv_log_detect_journal(void)
{
        if (g_getenv("JOURNAL_STREAM") != NULL && g_log_writer_is_journald(fileno(stderr)))
                return TRUE;
        if (isatty(fileno(stderr)))
                return FALSE;
        return access("/run/systemd/journal/socket", W_OK) == 0;
}

gboolean
rv_log_uses_journal(void)
{
        return rv_log_target == RV_LOG_TARGET_JOURNAL ||
               (rv_log_target == RV_LOG_TARGET_AUTO && rv_log_journal_present);
}

static GLogWriterOutput
rv_log_write_console(GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
        const char *message = NULL;
        const char *domain = NULL;
        const char *torrent = NULL;
        g_autoptr(GString) line = g_string_new(NULL);

        for (gsize i = 0; i < n_fields; i++) {
                if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
                        message = fields[i].value;
                else if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
                        domain = fields[i].value;
                else if (g_strcmp0(fields[i].key, "REVAER_TORRENT") == 0)
                        torrent = fields[i].value;
        }
        g_string_append_printf(line, "revaerd[%d]: %s: ", (int)getpid(),
                               rv_log_level_to_string(rv_log_priority(level)));
        if (domain != NULL && rv_log_level == LOG_DEBUG)
                g_string_append_printf(line, "%s: ", domain);
        g_string_append(line, message != NULL ? message : "");
        if (torrent != NULL && message != NULL && strstr(message, torrent) == NULL)
                g_string_append_printf(line, " [%s]", torrent);
        g_string_append_c(line, '\n');
        fputs(line->str, stderr);
        fflush(stderr);
        return G_LOG_WRITER_HANDLED;
}

static GLogWriterOutput
rv_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
        if (rv_log_priority(level) > rv_log_level || rv_log_target == RV_LOG_TARGET_NULL)
                return G_LOG_WRITER_HANDLED;
        if (rv_log_uses_journal()) {
                GLogField with_id[n_fields + 1];
                memcpy(with_id, fields, sizeof(GLogField) * n_fields);
                with_id[n_fields] = (GLogField){ "SYSLOG_IDENTIFIER", "revaerd", -1 };
                if (g_log_writer_journald(level, with_id, n_fields + 1, NULL) == G_LOG_WRITER_HANDLED)
                        return G_LOG_WRITER_HANDLED;
        }
        return rv_log_write_console(level, fields, n_fields);
}

void
rv_log_init(int level)
{
        rv_log_level = CLAMP(level, LOG_EMERG, LOG_DEBUG);
        rv_log_journal_present = rv_log_detect_journal();
        g_log_set_writer_func(rv_log_writer, NULL, NULL);
}

void
rv_log_set_level(int level)
{
        rv_log_level = CLAMP(level, LOG_EMERG, LOG_DEBUG);
}

int
rv_log_get_level(void)
{
        return rv_log_level;
}

void
rv_log_set_target(RvLogTarget target)
{
        rv_log_target = target;
        if (target == RV_LOG_TARGET_AUTO)
                rv_log_journal_present = rv_log_detect_journal();
}

RvLogTarget
rv_log_get_target(void)
{
        return rv_log_target;
}
