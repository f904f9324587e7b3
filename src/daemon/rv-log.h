/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * the daemon's log writer: syslog levels (0 emerg .. 7 debug) as systemd's
 * LogControl1 speaks them; entries go to the journal with every structured
 * field when one is there, to stderr otherwise
 */
typedef enum {
        RV_LOG_TARGET_AUTO,
        RV_LOG_TARGET_CONSOLE,
        RV_LOG_TARGET_JOURNAL,
        RV_LOG_TARGET_NULL,
} RvLogTarget;

void rv_log_init(int level);
void rv_log_set_level(int level);
int rv_log_get_level(void);
void rv_log_set_target(RvLogTarget target);
RvLogTarget rv_log_get_target(void);

const char *rv_log_target_to_string(RvLogTarget target);
gboolean rv_log_target_from_string(const char *text, RvLogTarget *ret_target);

/* is the journal what the daemon writes to now (auto resolved) */
gboolean rv_log_uses_journal(void);

G_END_DECLS
