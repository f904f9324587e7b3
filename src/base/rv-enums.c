/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <syslog.h>

#include "rv-enums.h"

/* the index of text in a NULL-terminated table, -1 when it is not there */
static int
rv_enum_lookup(const char *const *names, const char *text)
{
        for (int i = 0; text != NULL && names[i] != NULL; i++) {
                if (g_strcmp0(names[i], text) == 0)
                        return i;
        }
        return -1;
}

/* PREFIX_to_string and PREFIX_from_string over the table PREFIX_names */
#define RV_ENUM_DEFINE_STRINGS(prefix, Type, last)                           \
        const char *prefix##_to_string(Type value)                           \
        {                                                                    \
                return (guint)value < (last) ? prefix##_names[value] : NULL; \
        }                                                                    \
        gboolean prefix##_from_string(const char *text, Type *ret_value)     \
        {                                                                    \
                int i = rv_enum_lookup(prefix##_names, text);                \
                if (i < 0)                                                   \
                        return FALSE;                                        \
                if (ret_value != NULL)                                       \
                        *ret_value = (Type)i;                                \
                return TRUE;                                                 \
        }

const char *const rv_encryption_names[] = {
        [RV_ENCRYPTION_PREFER] = "prefer",
        [RV_ENCRYPTION_REQUIRE] = "require",
        [RV_ENCRYPTION_DISABLE] = "disable",
        [RV_ENCRYPTION_LAST] = NULL,
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_encryption_names) == RV_ENCRYPTION_LAST + 1);

RV_ENUM_DEFINE_STRINGS(rv_encryption, RvEncryption, RV_ENCRYPTION_LAST)

const char *const rv_seed_action_names[] = {
        [RV_SEED_ACTION_PAUSE] = "pause",
        [RV_SEED_ACTION_REMOVE] = "remove",
        [RV_SEED_ACTION_REMOVE_WITH_DATA] = "remove_with_data",
        [RV_SEED_ACTION_LAST] = NULL,
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_seed_action_names) == RV_SEED_ACTION_LAST + 1);

RV_ENUM_DEFINE_STRINGS(rv_seed_action, RvSeedAction, RV_SEED_ACTION_LAST)

const char *const rv_content_layout_names[] = {
        [RV_CONTENT_LAYOUT_ORIGINAL] = "original",
        [RV_CONTENT_LAYOUT_SUBFOLDER] = "subfolder",
        [RV_CONTENT_LAYOUT_NO_SUBFOLDER] = "no_subfolder",
        [RV_CONTENT_LAYOUT_LAST] = NULL,
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_content_layout_names) == RV_CONTENT_LAYOUT_LAST + 1);

RV_ENUM_DEFINE_STRINGS(rv_content_layout, RvContentLayout, RV_CONTENT_LAYOUT_LAST)

const char *const rv_tracker_status_names[] = {
        [RV_TRACKER_STATUS_DISABLED] = "disabled",       [RV_TRACKER_STATUS_NOT_CONTACTED] = "not_contacted",
        [RV_TRACKER_STATUS_WORKING] = "working",         [RV_TRACKER_STATUS_UPDATING] = "updating",
        [RV_TRACKER_STATUS_NOT_WORKING] = "not_working", [RV_TRACKER_STATUS_LAST] = NULL,
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_tracker_status_names) == RV_TRACKER_STATUS_LAST + 1);

RV_ENUM_DEFINE_STRINGS(rv_tracker_status, RvTrackerStatus, RV_TRACKER_STATUS_LAST)

static const char *const rv_log_level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",     [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",     NULL,
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_log_level_names) == LOG_DEBUG + 2);

const char *
rv_log_level_to_string(int level)
{
        if (level < LOG_EMERG || level > LOG_DEBUG)
                return NULL;
        return rv_log_level_names[level];
}

int
rv_log_level_from_string(const char *text)
{
        if (text == NULL)
                return -1;
        for (int i = LOG_EMERG; i <= LOG_DEBUG; i++) {
                if (g_ascii_strcasecmp(text, rv_log_level_names[i]) == 0)
                        return i;
        }
        /* the spellings people write */
        if (g_ascii_strcasecmp(text, "error") == 0)
                return LOG_ERR;
        if (g_ascii_strcasecmp(text, "critical") == 0)
                return LOG_CRIT;
        return -1;
}
