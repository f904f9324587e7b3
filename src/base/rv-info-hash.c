/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-info-hash.h"

gboolean
rv_info_hash_parse(const char *text, RvInfoHash *ret_hash)
{
        RvInfoHash hash;

        if (text == NULL || strlen(text) != RV_INFO_HASH_HEX_LEN)
                return FALSE;
        for (guint i = 0; i < RV_INFO_HASH_HEX_LEN; i++) {
                if (!g_ascii_isxdigit(text[i]))
                        return FALSE;
                hash.hex[i] = g_ascii_tolower(text[i]);
        }
        hash.hex[RV_INFO_HASH_HEX_LEN] = '\0';
        if (ret_hash != NULL)
                *ret_hash = hash;
        return TRUE;
}

gboolean
rv_info_hash_equal(const RvInfoHash *a, const RvInfoHash *b)
{
        if (a == NULL || b == NULL)
                return a == b;
        return memcmp(a->hex, b->hex, RV_INFO_HASH_HEX_LEN) == 0;
}
