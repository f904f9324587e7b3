/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaer-core"

#include "config.h"

#include <string.h>

#include "rv-json.h"
#include "rv-manager-private.h"

double
rv_manager_torrent_ratio(const RvTorrent *torrent)
{
        /* data that was already there counts as downloaded once */
        gint64 basis = torrent->downloaded > 0 ? torrent->downloaded : torrent->wanted_size;

        return basis > 0 ? (double)torrent->uploaded / (double)basis : 0.0;
}

/* a torrent's own limit (minutes) or the settings' (seconds), in seconds; 0: none */
static gint64
rv_manager_goal_seconds(gint64 own_minutes, gint64 global_s)
{
        if (own_minutes == RV_SHARE_LIMIT_GLOBAL)
                return global_s;
        return own_minutes == RV_SHARE_LIMIT_NONE ? 0 : own_minutes * 60;
}

/* the goals that hold for a torrent: its own, else the settings' (0: none) */
static void
rv_manager_effective_goal(const RvManagerConfig *c, const RvTorrent *torrent, double *ret_ratio, gint64 *ret_time_s,
                          gint64 *ret_inactive_s)
{
        *ret_ratio = torrent->ratio_limit == RV_SHARE_LIMIT_GLOBAL ? c->seed_ratio
                     : torrent->ratio_limit == RV_SHARE_LIMIT_NONE ? 0
                                                                   : torrent->ratio_limit;
        *ret_time_s = rv_manager_goal_seconds(torrent->seeding_time_limit, c->seed_time_s);
        *ret_inactive_s = rv_manager_goal_seconds(torrent->inactive_seeding_time_limit, c->seed_inactive_time_s);
        /* a goal of 0 from a client means "stop now" (qBittorrent's ratio 0): a tiny positive goal does that */
        if (torrent->ratio_limit == 0)
                *ret_ratio = 1e-9;
        if (torrent->seeding_time_limit == 0)
                *ret_time_s = 1;
        if (torrent->inactive_seeding_time_limit == 0)
                *ret_inactive_s = 1;
}

/*
 * seconds a seeding torrent has gone without an upload: since its last one
 * (libtorrent's last_upload) or, when it has sent nothing since, its
 * completion; qBittorrent's inactive seeding time
 */
static gint64
rv_manager_inactive_seconds(const RvTorrent *torrent, gint64 now)
{
        return now - MAX(torrent->last_upload_time, torrent->completed_time);
}

/* which goal a finished torrent has reached, NULL for none */
static const char *
rv_manager_goal_reached(const RvManagerConfig *c, const RvTorrent *torrent, gint64 now, double ratio)
{
        double goal_ratio;
        gint64 goal_time_s;
        gint64 goal_inactive_s;

        rv_manager_effective_goal(c, torrent, &goal_ratio, &goal_time_s, &goal_inactive_s);
        if (goal_ratio > 0 && (ratio >= goal_ratio || torrent->ratio_limit == 0))
                return "ratio";
        if (goal_time_s > 0 && torrent->completed_time > 0 && now - torrent->completed_time >= goal_time_s)
                return "seed_time";
        /* "stop now" needs no second to pass (the completion time has a resolution of one) */
        if (goal_inactive_s > 0 && torrent->completed_time > 0 &&
            (torrent->inactive_seeding_time_limit == 0 || rv_manager_inactive_seconds(torrent, now) >= goal_inactive_s))
                return "inactive_seed_time";
        return NULL;
}

/* a finished torrent that has seeded enough is paused or removed, as the settings say */
void
rv_manager_check_goal(RvManager *self, RvTorrent *torrent)
{
        const RvManagerConfig *c = &self->config;
        gint64 now = g_get_real_time() / G_USEC_PER_SEC;
        double ratio;
        const char *goal;
        g_autoptr(GError) error = NULL;
        JsonObject *obj;

        if (!torrent->completed || torrent->user_paused || torrent->removing || !torrent->in_engine ||
            torrent->state != RV_TORRENT_STATE_SEEDING)
                return;
        ratio = rv_manager_torrent_ratio(torrent);
        goal = rv_manager_goal_reached(c, torrent, now, ratio);
        if (goal == NULL)
                return;
        obj = json_object_new();
        if (torrent->name != NULL)
                json_object_set_string_member(obj, "name", torrent->name);
        json_object_set_double_member(obj, "ratio", ratio);
        json_object_set_int_member(obj, "seeding_time",
                                   torrent->completed_time > 0 ? now - torrent->completed_time : 0);
        json_object_set_string_member(obj, "goal", goal);
        json_object_set_string_member(obj, "action", rv_seed_action_to_string(c->seed_action));
        rv_event_bus_publish(self->events, RV_EVENT_SEEDING_GOAL_REACHED, &torrent->hash,
                             rv_json_node_take_object(obj));
        if (c->seed_action == RV_SEED_ACTION_PAUSE) {
                if (!rv_manager_pause(self, torrent, &error))
                        g_debug("cannot pause %s at its seeding goal: %s", torrent->hash.hex, error->message);
        } else if (!rv_manager_remove(self, torrent, c->seed_action == RV_SEED_ACTION_REMOVE_WITH_DATA, &error)) {
                g_debug("cannot remove %s at its seeding goal: %s", torrent->hash.hex, error->message);
        }
}

/* time goals are reached without any status change */
gboolean
rv_manager_goal_timer_cb(gpointer user_data)
{
        RvManager *self = user_data;
        g_autoptr(GPtrArray) snapshot = g_ptr_array_copy(self->order, NULL, NULL);

        for (guint i = 0; i < snapshot->len; i++)
                rv_manager_check_goal(self, g_ptr_array_index(snapshot, i));
        return G_SOURCE_CONTINUE;
}
