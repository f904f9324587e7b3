/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/*
 * org.freedesktop.LogControl1 at /org/freedesktop/LogControl1, so that
 * `systemctl service-log-level revaer debug` and `service-log-target` work;
 * writes are for root (and the service's own user on a session bus)
 */
int rv_logcontrol_add(sd_bus *bus, sd_bus_slot **ret_slot);
