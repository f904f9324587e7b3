/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * password hashes for the qBittorrent WebAPI user (/app/webapi_password):
 * PBKDF2-HMAC-SHA256 with a random 16-byte salt, stored as
 * "pbkdf2-sha256$ITERATIONS$SALT$KEY" (salt and key in base64); GLib's HMAC
 * is enough, no further library is needed
 */
#define RV_PASSWORD_ITERATIONS 100000
#define RV_PASSWORD_MAX_LEN 1024

/* a new hash of password (slow on purpose: call it off the main loop) */
char *rv_password_hash(const char *password);
/* the stored text is a hash of this form */
gboolean rv_password_hash_valid(const char *stored);
/* password matches the stored hash (compared in constant time; slow: off the main loop) */
gboolean rv_password_verify(const char *stored, const char *password);

G_END_DECLS
