/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Revaer's names on D-Bus and in polkit, once: the daemon, revaerctl and the
 * tests take them from here (scripts/check-source.py flags a copy elsewhere)
 */

#define RV_BUS_NAME "com.revaer.Revaer1"
#define RV_BUS_PATH "/com/revaer/Revaer1"
#define RV_BUS_TORRENT_PREFIX RV_BUS_PATH "/torrent"
#define RV_BUS_POLICY_PREFIX RV_BUS_PATH "/policy"
#define RV_BUS_MANAGER_IFACE RV_BUS_NAME ".Manager"
#define RV_BUS_TORRENT_IFACE RV_BUS_NAME ".Torrent"
#define RV_BUS_POLICY_IFACE RV_BUS_NAME ".Policy"
#define RV_BUS_ERROR_PREFIX RV_BUS_NAME ".Error."

#define RV_BUS_PROPERTIES_IFACE "org.freedesktop.DBus.Properties"
#define RV_BUS_INTROSPECTABLE_IFACE "org.freedesktop.DBus.Introspectable"

#define RV_ACTION_OBSERVE "com.revaer.revaer1.observe"
#define RV_ACTION_MANAGE "com.revaer.revaer1.manage"
#define RV_ACTION_CONFIGURE "com.revaer.revaer1.configure"
#define RV_ACTION_ADMIN "com.revaer.revaer1.admin"
