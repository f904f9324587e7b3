/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * the one error domain of Revaer: every failure a client can see is one of
 * these codes; transports map a code through the table in rv-error.c and
 * never pass a foreign error (GIO, errno, libtorrent, libpq) through
 */
typedef enum {
        RV_ERROR_NOT_FOUND,
        RV_ERROR_INVALID_ARGUMENT,
        RV_ERROR_CONFLICT,
        RV_ERROR_SETUP_REQUIRED,
        RV_ERROR_RATE_LIMITED,
        RV_ERROR_UNAVAILABLE,
        RV_ERROR_INTERNAL,
        RV_ERROR_ACCESS_DENIED,
        RV_ERROR_TIMED_OUT,
        RV_ERROR_LAST,
} RvError;

#define RV_ERROR rv_error_quark()
GQuark rv_error_quark(void);

/* short name used on the wire, e.g. "NotFound" */
const char *rv_error_to_string(RvError code);
RvError rv_error_from_string(const char *name);
/* D-Bus error name, e.g. "com.revaer.Revaer1.Error.NotFound" */
const char *rv_error_to_dbus_name(RvError code);
/* HTTP status for Problem+JSON responses */
guint rv_error_to_http_status(RvError code);
/* Problem+JSON slug, e.g. "not-found" */
const char *rv_error_to_problem_slug(RvError code);

/* turn a foreign error (GIO, GFile, GKeyFile, json-glib, errno-based) into the Revaer domain */
void rv_error_convert(GError **error);
/* errno at the boundary */
RvError rv_error_from_errno(int errsv);

G_END_DECLS
