/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* components that can degrade, by name; transports show them as they are */
#define RV_HEALTH_ENGINE "engine"
#define RV_HEALTH_RESUME_STORE "resume_store"
#define RV_HEALTH_STORE "store"
#define RV_HEALTH_CONFIG "config"
/* torrents libtorrent stopped with an error (a full disk, files gone) */
#define RV_HEALTH_TORRENTS "torrents"

typedef struct _RvHealth RvHealth;

typedef void (*RvHealthChangedFunc)(RvHealth *health, const char *component, gpointer user_data);

RvHealth *rv_health_new(void);
void rv_health_free(RvHealth *health);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvHealth, rv_health_free)

void rv_health_set_changed_func(RvHealth *health, RvHealthChangedFunc func, gpointer user_data);
/* a component nobody has reported on is healthy; reports that change nothing do not notify */
void rv_health_set_degraded(RvHealth *health, const char *component, const char *reason);
void rv_health_set_ok(RvHealth *health, const char *component);
gboolean rv_health_is_ok(RvHealth *health);
/* NULL when the component is healthy */
const char *rv_health_get_reason(RvHealth *health, const char *component);
/* sorted names of degraded components */
GStrv rv_health_get_degraded(RvHealth *health);
/* "ok" or "degraded" */
const char *rv_health_get_status(RvHealth *health);
/* {"status": "...", "degraded": [{"component", "reason"}]} */
JsonNode *rv_health_to_json(RvHealth *health);

G_END_DECLS
