/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Enums whose string forms go on the wire, in settings and in revaerd.conf:
 * each table once (rv-enums.c), guarded by G_STATIC_ASSERT. _from_string
 * returns FALSE and leaves ret_ alone on an unknown name; _names is the
 * NULL-terminated list, for validation and help texts.
 */

typedef enum {
        RV_ENCRYPTION_PREFER,
        RV_ENCRYPTION_REQUIRE,
        RV_ENCRYPTION_DISABLE,
        RV_ENCRYPTION_LAST,
} RvEncryption;

const char *rv_encryption_to_string(RvEncryption enc);
gboolean rv_encryption_from_string(const char *text, RvEncryption *ret_enc);
extern const char *const rv_encryption_names[];

/* what happens to a torrent that reached its seeding goal */
typedef enum {
        RV_SEED_ACTION_PAUSE,
        RV_SEED_ACTION_REMOVE,
        RV_SEED_ACTION_REMOVE_WITH_DATA,
        RV_SEED_ACTION_LAST,
} RvSeedAction;

const char *rv_seed_action_to_string(RvSeedAction action);
gboolean rv_seed_action_from_string(const char *text, RvSeedAction *ret_action);
extern const char *const rv_seed_action_names[];

/*
 * how a torrent's files are laid out under its save path (qBittorrent's
 * contentLayout): as the metadata says; a single file inside a folder named
 * after it without its extension; the single top folder stripped
 */
typedef enum {
        RV_CONTENT_LAYOUT_ORIGINAL,
        RV_CONTENT_LAYOUT_SUBFOLDER,
        RV_CONTENT_LAYOUT_NO_SUBFOLDER,
        RV_CONTENT_LAYOUT_LAST,
} RvContentLayout;

const char *rv_content_layout_to_string(RvContentLayout layout);
gboolean rv_content_layout_from_string(const char *text, RvContentLayout *ret_layout);
extern const char *const rv_content_layout_names[];

/* a tracker as its announces went; in the order of qBittorrent's status codes (0 .. 4) */
typedef enum {
        RV_TRACKER_STATUS_DISABLED,
        RV_TRACKER_STATUS_NOT_CONTACTED,
        RV_TRACKER_STATUS_WORKING,
        RV_TRACKER_STATUS_UPDATING,
        RV_TRACKER_STATUS_NOT_WORKING,
        RV_TRACKER_STATUS_LAST,
} RvTrackerStatus;

const char *rv_tracker_status_to_string(RvTrackerStatus status);
gboolean rv_tracker_status_from_string(const char *text, RvTrackerStatus *ret_status);
extern const char *const rv_tracker_status_names[];

/* syslog levels (0 emerg .. 7 debug) by name, as LogControl1 spells them ("err", "warning", ...); also
 * takes "error" and "critical"; -1 when unknown */
int rv_log_level_from_string(const char *text);
const char *rv_log_level_to_string(int level);

G_END_DECLS
