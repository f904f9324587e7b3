/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* 40 lower-case hex digits: the v1 info hash, or the truncated v2 hash of a v2-only torrent */
#define RV_INFO_HASH_HEX_LEN 40

typedef struct {
        char hex[RV_INFO_HASH_HEX_LEN + 1];
} RvInfoHash;

gboolean rv_info_hash_parse(const char *text, RvInfoHash *ret_hash);
gboolean rv_info_hash_equal(const RvInfoHash *a, const RvInfoHash *b);

G_END_DECLS
