/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-crc32c.h"

/* the check value of CRC-32C, and the iSCSI test vectors (RFC 3720, B.4) */
static void
test_crc32c_vectors(void)
{
        guint8 buf[32];

        g_assert_cmphex(rv_crc32c(0, "123456789", 9), ==, 0xe3069283);
        g_assert_cmphex(rv_crc32c_portable(0, "123456789", 9), ==, 0xe3069283);
        memset(buf, 0, sizeof(buf));
        g_assert_cmphex(rv_crc32c(0, buf, sizeof(buf)), ==, 0x8a9136aa);
        memset(buf, 0xff, sizeof(buf));
        g_assert_cmphex(rv_crc32c(0, buf, sizeof(buf)), ==, 0x62a8ab43);
        for (guint i = 0; i < sizeof(buf); i++)
                buf[i] = (guint8)i;
        g_assert_cmphex(rv_crc32c(0, buf, sizeof(buf)), ==, 0x46dd794e);
        g_assert_cmphex(rv_crc32c(0, "", 0), ==, 0);
}

/* whatever the CPU does, logs written by one build read back in another: the two agree, in pieces too */
static void
test_crc32c_agree(void)
{
        g_autoptr(GRand) rand = g_rand_new_with_seed(17);
        guint8 data[4099];

        for (guint i = 0; i < sizeof(data); i++)
                data[i] = (guint8)g_rand_int(rand);
        for (gsize off = 0; off < 9; off++) {
                for (gsize len = 0; off + len <= sizeof(data); len += 1 + len / 3) {
                        gsize cut = len / 2;
                        guint32 whole = rv_crc32c_portable(0, data + off, len);
                        g_assert_cmphex(rv_crc32c(0, data + off, len), ==, whole);
                        g_assert_cmphex(rv_crc32c(rv_crc32c(0, data + off, cut), data + off + cut, len - cut), ==,
                                        whole);
                }
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/crc32c/vectors", test_crc32c_vectors);
        g_test_add_func("/crc32c/agree", test_crc32c_agree);
        return g_test_run();
}
