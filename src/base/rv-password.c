/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "rv-password.h"

#define RV_PASSWORD_SALT_LEN 16
#define RV_PASSWORD_KEY_LEN 32
#define RV_PASSWORD_PREFIX "pbkdf2-sha256"

/* PBKDF2 (RFC 8018) with one block: the key is as long as SHA-256's digest */
static void
rv_pbkdf2_sha256(const char *password, const guint8 *salt, gsize salt_len, guint iterations,
                 guint8 ret_key[RV_PASSWORD_KEY_LEN])
{
        g_autoptr(GHmac) keyed = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)password, strlen(password));
        g_autoptr(GHmac) first = g_hmac_copy(keyed);
        const guint8 block[4] = { 0, 0, 0, 1 };
        guint8 u[RV_PASSWORD_KEY_LEN];
        gsize len = sizeof(u);

        g_hmac_update(first, salt, (gssize)salt_len);
        g_hmac_update(first, block, sizeof(block));
        g_hmac_get_digest(first, u, &len);
        memcpy(ret_key, u, sizeof(u));
        for (guint i = 1; i < iterations; i++) {
                g_autoptr(GHmac) h = g_hmac_copy(keyed);
                len = sizeof(u);
                g_hmac_update(h, u, sizeof(u));
                g_hmac_get_digest(h, u, &len);
                for (guint j = 0; j < RV_PASSWORD_KEY_LEN; j++)
                        ret_key[j] ^= u[j];
        }
}

char *
rv_password_hash(const char *password)
{
        guint8 salt[RV_PASSWORD_SALT_LEN];
        guint8 key[RV_PASSWORD_KEY_LEN];
        g_autofree char *salt_text = NULL;
        g_autofree char *key_text = NULL;

        for (guint i = 0; i < sizeof(salt); i += 4) {
                guint32 r = g_random_int();
                memcpy(salt + i, &r, 4);
        }
        rv_pbkdf2_sha256(password, salt, sizeof(salt), RV_PASSWORD_ITERATIONS, key);
        salt_text = g_base64_encode(salt, sizeof(salt));
        key_text = g_base64_encode(key, sizeof(key));
        return g_strdup_printf(RV_PASSWORD_PREFIX "$%d$%s$%s", RV_PASSWORD_ITERATIONS, salt_text, key_text);
}

/* the parts of a stored hash; FALSE when it is not one */
static gboolean
rv_password_parse(const char *stored, guint *ret_iterations, GBytes **ret_salt, GBytes **ret_key)
{
        g_auto(GStrv) parts = stored != NULL ? g_strsplit(stored, "$", 5) : NULL;
        guint64 iterations = 0;
        gsize salt_len = 0;
        gsize key_len = 0;
        guchar *salt;
        guchar *key;

        if (parts == NULL || g_strv_length(parts) != 4 || !g_str_equal(parts[0], RV_PASSWORD_PREFIX) ||
            !g_ascii_string_to_unsigned(parts[1], 10, 1000, 10000000, &iterations, NULL) || parts[2][0] == '\0' ||
            parts[3][0] == '\0')
                return FALSE;
        salt = g_base64_decode(parts[2], &salt_len);
        key = g_base64_decode(parts[3], &key_len);
        if (salt_len < 8 || key_len != RV_PASSWORD_KEY_LEN) {
                g_free(salt);
                g_free(key);
                return FALSE;
        }
        *ret_iterations = (guint)iterations;
        *ret_salt = g_bytes_new_take(salt, salt_len);
        *ret_key = g_bytes_new_take(key, key_len);
        return TRUE;
}

gboolean
rv_password_hash_valid(const char *stored)
{
        g_autoptr(GBytes) salt = NULL;
        g_autoptr(GBytes) key = NULL;
        guint iterations = 0;

        return rv_password_parse(stored, &iterations, &salt, &key);
}

gboolean
rv_password_verify(const char *stored, const char *password)
{
        g_autoptr(GBytes) salt = NULL;
        g_autoptr(GBytes) want = NULL;
        guint8 key[RV_PASSWORD_KEY_LEN];
        const guint8 *w;
        guint iterations = 0;
        guint8 diff = 0;
        gsize salt_len = 0;
        const guint8 *salt_data;

        if (password == NULL || strlen(password) > RV_PASSWORD_MAX_LEN ||
            !rv_password_parse(stored, &iterations, &salt, &want))
                return FALSE;
        salt_data = g_bytes_get_data(salt, &salt_len);
        rv_pbkdf2_sha256(password, salt_data, salt_len, iterations, key);
        w = g_bytes_get_data(want, NULL);
        for (guint i = 0; i < RV_PASSWORD_KEY_LEN; i++)
                diff |= (guint8)(key[i] ^ w[i]);
        return diff == 0;
}
