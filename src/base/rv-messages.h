/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * MESSAGE_IDs of the journal entries an operator may want to find or alert
 * on; each has an entry in data/revaer.catalog.in (journalctl -x)
 */
#define RV_MESSAGE_TORRENT_ADDED "937a8b7848994d1aab8e85dd4a6a4a89"
#define RV_MESSAGE_TORRENT_COMPLETED "7cd1fc257546464f8d489245f2e2af26"
#define RV_MESSAGE_TORRENT_REMOVED "1ec2777f2105494ab4329fc1b17aeccb"
#define RV_MESSAGE_TORRENT_FAILED "066ba1a02c5a446f84c2ca73546419d8"
#define RV_MESSAGE_SETTINGS_CHANGED "f59ac4365570427d93585e2a0a3af96b"
#define RV_MESSAGE_HEALTH_CHANGED "94be1b94a18d4910bb30c013fff75dc8"
#define RV_MESSAGE_GUARD_RAIL "6cb9fc6882fa4909b3db692abf3e2906"
#define RV_MESSAGE_STARTED "adf39034e0654e6faaecc4771ecffa61"
#define RV_MESSAGE_POLKIT_FAILED "5f20ab8e0c9a4db683b28c6aafa7eb55"
#define RV_MESSAGE_FSOPS_STEP "b7eb8d1ab75b410893190c16c97fac6a"
#define RV_MESSAGE_FSOPS_COMPLETED "45e485ef71be40b1a06c9f7280104660"
#define RV_MESSAGE_FSOPS_FAILED "5e13bf02f70b4a4fa17303bbac85a459"
#define RV_MESSAGE_HTTP_REQUEST "fd8fefd026f641b3b7324b8b34be8c43"
