/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "rv-bootstrap.h"
#include "rv-live-settings.h"
#include "rv-engine.h"
#include "rv-health.h"
#include "rv-manager.h"

G_BEGIN_DECLS

/*
 * The settings document turned into what the engine and the registry take:
 * pure functions (tested with a fixed clock), and one applier object that
 * owns the alternative-limit timer and mode and applies each revision.
 */

/* the alternative limits apply from..to (local time, a window may cross midnight and then belongs to the day it
 * started on) on the listed days */
gboolean rv_settings_alt_schedule_active(JsonNode *doc, GDateTime *now);

/* base (revaerd.conf's engine internals) with the settings over it, the alternative limits when alt; ret is filled
 * whole and must not have been initialised */
void rv_settings_engine_settings(JsonNode *doc, const RvEngineSettings *base, gboolean alt, RvEngineSettings *ret);

/* where new torrents go: a download directory forced on the command line, else the settings' download_root, else
 * download_dir (revaerd.conf or the state directory) */
const char *rv_settings_download_dir(JsonNode *doc, const char *download_dir, gboolean forced);

/* the registry's parameters: doc may be NULL before the settings are loaded; ret must be initialised */
void rv_settings_manager_config(JsonNode *doc, const RvBootstrap *conf, const char *download_dir, gboolean forced,
                                RvManagerConfig *ret);

/* revaerd.conf's values as the settings patch a new store starts from */
JsonNode *rv_settings_initial_from_bootstrap(const RvBootstrap *conf);

typedef enum {
        /* the schedule decides */
        RV_ALT_MODE_SCHEDULE,
        /* told on or off (the qBittorrent facade's speed-limit toggle), until the schedule's answer changes */
        RV_ALT_MODE_ON,
        RV_ALT_MODE_OFF,
} RvAltMode;

typedef struct _RvSettingsApplier RvSettingsApplier;

/* after each apply, for what the applier does not own (the daemon's log level) */
typedef void (*RvSettingsAppliedFunc)(JsonNode *doc, gpointer user_data);

RvSettingsApplier *rv_settings_applier_new(RvLiveSettings *settings, RvHealth *health, const RvBootstrap *conf,
                                           const char *download_dir, gboolean download_dir_forced);
void rv_settings_applier_free(RvSettingsApplier *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvSettingsApplier, rv_settings_applier_free)

void rv_settings_applier_set_applied_func(RvSettingsApplier *self, RvSettingsAppliedFunc func, gpointer user_data);
/* revaerd.conf was reloaded */
void rv_settings_applier_set_bootstrap(RvSettingsApplier *self, const RvBootstrap *conf, const char *download_dir,
                                       gboolean download_dir_forced);
/* what the engine is created with, and the registry */
void rv_settings_applier_engine_settings(RvSettingsApplier *self, RvEngineSettings *ret);
void rv_settings_applier_manager_config(RvSettingsApplier *self, RvManagerConfig *ret);
/* from here on each revision reaches the engine and the registry; starts the schedule timer */
void rv_settings_applier_attach(RvSettingsApplier *self, RvEngine *engine, RvManager *manager);
void rv_settings_applier_apply(RvSettingsApplier *self);

gboolean rv_settings_applier_get_alt_active(RvSettingsApplier *self);
RvAltMode rv_settings_applier_get_alt_mode(RvSettingsApplier *self);
void rv_settings_applier_set_alt_mode(RvSettingsApplier *self, RvAltMode mode);

G_END_DECLS
