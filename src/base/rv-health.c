/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "rv-health.h"

struct _RvHealth {
        /* component -> reason, only degraded components are present */
        GHashTable *degraded;
        RvHealthChangedFunc func;
        gpointer user_data;
};

RvHealth *
rv_health_new(void)
{
        RvHealth *health = g_new0(RvHealth, 1);

        health->degraded = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        return health;
}

void
rv_health_free(RvHealth *health)
{
        if (health == NULL)
                return;
        g_hash_table_unref(health->degraded);
        g_free(health);
}

void
rv_health_set_changed_func(RvHealth *health, RvHealthChangedFunc func, gpointer user_data)
{
        health->func = func;
        health->user_data = user_data;
}

static void
rv_health_notify(RvHealth *health, const char *component)
{
        if (health->func != NULL)
                health->func(health, component, health->user_data);
}

void
rv_health_set_degraded(RvHealth *health, const char *component, const char *reason)
{
        const char *old = g_hash_table_lookup(health->degraded, component);

        if (reason == NULL)
                reason = "degraded";
        if (old != NULL && g_strcmp0(old, reason) == 0)
                return;
        g_hash_table_replace(health->degraded, g_strdup(component), g_strdup(reason));
        rv_health_notify(health, component);
}

void
rv_health_set_ok(RvHealth *health, const char *component)
{
        if (!g_hash_table_remove(health->degraded, component))
                return;
        rv_health_notify(health, component);
}

gboolean
rv_health_is_ok(RvHealth *health)
{
        return g_hash_table_size(health->degraded) == 0;
}

const char *
rv_health_get_reason(RvHealth *health, const char *component)
{
        return g_hash_table_lookup(health->degraded, component);
}

static gint
rv_health_cmp_name(gconstpointer a, gconstpointer b, gpointer user_data)
{
        return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

GStrv
rv_health_get_degraded(RvHealth *health)
{
        g_autofree const char **keys = (const char **)g_hash_table_get_keys_as_array(health->degraded, NULL);
        GStrv out;

        out = g_strdupv((GStrv)keys);
        g_qsort_with_data(out, (gint)g_strv_length(out), sizeof(char *), rv_health_cmp_name, NULL);
        return out;
}

const char *
rv_health_get_status(RvHealth *health)
{
        return rv_health_is_ok(health) ? "ok" : "degraded";
}

JsonNode *
rv_health_to_json(RvHealth *health)
{
        g_auto(GStrv) names = rv_health_get_degraded(health);
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "status");
        json_builder_add_string_value(builder, rv_health_get_status(health));
        json_builder_set_member_name(builder, "degraded");
        json_builder_begin_array(builder);
        for (guint i = 0; names[i] != NULL; i++) {
                json_builder_begin_object(builder);
                json_builder_set_member_name(builder, "component");
                json_builder_add_string_value(builder, names[i]);
                json_builder_set_member_name(builder, "reason");
                json_builder_add_string_value(builder, g_hash_table_lookup(health->degraded, names[i]));
                json_builder_end_object(builder);
        }
        json_builder_end_array(builder);
        json_builder_end_object(builder);
        return json_builder_get_root(builder);
}
