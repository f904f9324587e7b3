/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "revaerd"

#include "config.h"

#include <unistd.h>

#include <glib.h>

#include "rv-bootstrap.h"
#include "rv-log.h"
#include "rv-logcontrol.h"

static int
rv_logcontrol_check(sd_bus_message *value, sd_bus_error *ret_error)
{
        sd_bus_creds *creds = NULL;
        uid_t uid = (uid_t)-1;
        int r = sd_bus_query_sender_creds(value, SD_BUS_CREDS_EUID, &creds);

        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        sd_bus_creds_unref(creds);
        if (r < 0 || (uid != 0 && uid != geteuid()))
                return sd_bus_error_set(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "only root may change how the service logs");
        return 0;
}

static int
rv_logcontrol_get_level(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        return sd_bus_message_append(reply, "s", rv_log_level_to_string(rv_log_get_level()));
}

static int
rv_logcontrol_set_level(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *value, void *userdata, sd_bus_error *ret_error)
{
        const char *text = NULL;
        int level;
        int r = sd_bus_message_read(value, "s", &text);

        if (r < 0)
                return r;
        level = rv_log_level_from_string(text);
        if (level < 0)
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_INVALID_ARGS, "LogLevel: '%s' is not a log level",
                                         text);
        r = rv_logcontrol_check(value, ret_error);
        if (r < 0)
                return r;
        rv_log_set_level(level);
        g_info("log level set to %s", rv_log_level_to_string(level));
        return 1;
}

static int
rv_logcontrol_get_target(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        return sd_bus_message_append(reply, "s", rv_log_target_to_string(rv_log_get_target()));
}

static int
rv_logcontrol_set_target(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *value, void *userdata, sd_bus_error *ret_error)
{
        const char *text = NULL;
        RvLogTarget target;
        int r = sd_bus_message_read(value, "s", &text);

        if (r < 0)
                return r;
        if (!rv_log_target_from_string(text, &target))
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_INVALID_ARGS,
                                         "LogTarget: '%s' is not one of auto, console, journal, null", text);
        r = rv_logcontrol_check(value, ret_error);
        if (r < 0)
                return r;
        rv_log_set_target(target);
        g_info("log target set to %s", rv_log_target_to_string(target));
        return 1;
}

static int
rv_logcontrol_get_identifier(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        return sd_bus_message_append(reply, "s", "revaerd");
}

static const sd_bus_vtable rv_logcontrol_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_WRITABLE_PROPERTY("LogLevel", "s", rv_logcontrol_get_level, rv_logcontrol_set_level, 0,
                                 SD_BUS_VTABLE_PROPERTY_EXPLICIT | SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_WRITABLE_PROPERTY("LogTarget", "s", rv_logcontrol_get_target, rv_logcontrol_set_target, 0,
                                 SD_BUS_VTABLE_PROPERTY_EXPLICIT | SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("SyslogIdentifier", "s", rv_logcontrol_get_identifier, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END,
};

int
rv_logcontrol_add(sd_bus *bus, sd_bus_slot **ret_slot)
{
        return sd_bus_add_object_vtable(bus, ret_slot, "/org/freedesktop/LogControl1", "org.freedesktop.LogControl1",
                                        rv_logcontrol_vtable, NULL);
}
