/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaerd"

#include "config.h"

#include "rv-journal-sink.h"
#include "rv-messages.h"

/* the post-download pipeline: each step that ran, the result, a failure (and whether it is retried) */
static void
rv_journal_sink_fsops(const RvEvent *event, JsonObject *obj, const char *hash, const char *name)
{
        const char *step = json_object_get_string_member_with_default(obj, "step", "");
        const char *status = json_object_get_string_member_with_default(obj, "status", "");
        const char *error = json_object_get_string_member_with_default(obj, "error", "");

        if (event->kind == RV_EVENT_FSOPS_STEP && (g_str_equal(status, "done") || g_str_equal(status, "failed")))
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_FSOPS_STEP, "REVAER_TORRENT",
                                 hash, "REVAER_TORRENT_NAME", name, "REVAER_FSOPS_STEP", step, "REVAER_FSOPS_STATUS",
                                 status, "MESSAGE", "torrent %s '%s': fsops step %s %s", hash, name, step, status);
        else if (event->kind == RV_EVENT_FSOPS_COMPLETED)
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_FSOPS_COMPLETED,
                                 "REVAER_TORRENT", hash, "REVAER_TORRENT_NAME", name, "REVAER_LIBRARY_PATH",
                                 json_object_get_string_member_with_default(obj, "library_path", ""), "MESSAGE",
                                 "torrent %s '%s': fsops placed the result in '%s'", hash, name,
                                 json_object_get_string_member_with_default(obj, "library_path", ""));
        else if (event->kind == RV_EVENT_FSOPS_FAILED && json_object_has_member(obj, "retry_in_ms"))
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID", RV_MESSAGE_FSOPS_FAILED,
                                 "REVAER_TORRENT", hash, "REVAER_TORRENT_NAME", name, "REVAER_ERROR", error, "MESSAGE",
                                 "torrent %s '%s': fsops failed, retrying in %" G_GINT64_FORMAT " ms: %s", hash, name,
                                 json_object_get_int_member(obj, "retry_in_ms"), error);
        else if (event->kind == RV_EVENT_FSOPS_FAILED)
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID", RV_MESSAGE_FSOPS_FAILED,
                                 "REVAER_TORRENT", hash, "REVAER_TORRENT_NAME", name, "REVAER_ERROR", error, "MESSAGE",
                                 "torrent %s '%s': fsops failed: %s", hash, name, error);
}

/* what happens to torrents, as journal entries an operator can filter by torrent and find by MESSAGE_ID */
static void
rv_journal_sink_event_cb(const RvEvent *event, gpointer user_data)
{
        JsonObject *obj = json_node_get_object(event->data);
        const char *name = json_object_get_string_member_with_default(obj, "name", "");
        const char *message = json_object_get_string_member_with_default(obj, "message", "");
        const char *hash = event->has_hash ? event->hash.hex : "";

        switch (event->kind) {
        case RV_EVENT_TORRENT_ADDED:
                /* a torrent back from the store after a restart is not news */
                if (json_object_get_boolean_member_with_default(obj, "restored", FALSE))
                        break;
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_TORRENT_ADDED,
                                 "REVAER_TORRENT", hash, "REVAER_TORRENT_NAME", name, "MESSAGE",
                                 "torrent %s '%s' added", hash, name);
                break;
        case RV_EVENT_COMPLETED:
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_TORRENT_COMPLETED,
                                 "REVAER_TORRENT", hash, "REVAER_TORRENT_NAME", name, "REVAER_SAVE_PATH",
                                 json_object_get_string_member_with_default(obj, "save_path", ""), "MESSAGE",
                                 "torrent %s '%s' completed", hash, name);
                break;
        case RV_EVENT_TORRENT_REMOVED:
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", RV_MESSAGE_TORRENT_REMOVED,
                                 "REVAER_TORRENT", hash, "REVAER_TORRENT_NAME", name, "MESSAGE",
                                 "torrent %s '%s' removed", hash, name);
                break;
        case RV_EVENT_SEEDING_GOAL_REACHED:
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "REVAER_TORRENT", hash, "REVAER_TORRENT_NAME", name,
                                 "MESSAGE", "torrent %s '%s' reached its seeding goal (%s): %s", hash, name,
                                 json_object_get_string_member_with_default(obj, "goal", ""),
                                 json_object_get_string_member_with_default(obj, "action", ""));
                break;
        case RV_EVENT_TORRENT_FAILED:
                g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID", RV_MESSAGE_TORRENT_FAILED,
                                 "REVAER_TORRENT", hash, "REVAER_TORRENT_NAME", name, "REVAER_ERROR", message,
                                 "MESSAGE", "torrent %s '%s' failed: %s", hash, name, message);
                break;
        case RV_EVENT_FSOPS_STEP:
        case RV_EVENT_FSOPS_COMPLETED:
        case RV_EVENT_FSOPS_FAILED:
                rv_journal_sink_fsops(event, obj, hash, name);
                break;
        default:
                break;
        }
}

void
rv_journal_sink_attach(RvEventBus *events)
{
        rv_event_bus_subscribe(events, rv_journal_sink_event_cb, NULL);
}
