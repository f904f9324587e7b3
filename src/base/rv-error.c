/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "rv-error.h"
#include "rv-names.h"

typedef struct {
        const char *name;
        const char *dbus_name;
        guint http_status;
        const char *slug;
} RvErrorEntry;

/* code -> wire name -> D-Bus name -> HTTP status -> problem slug */
static const RvErrorEntry rv_error_table[] = {
        [RV_ERROR_NOT_FOUND] = { "NotFound", RV_BUS_ERROR_PREFIX "NotFound", 404, "not-found" },
        [RV_ERROR_INVALID_ARGUMENT] = { "InvalidArgument", RV_BUS_ERROR_PREFIX "InvalidArgument", 400, "bad-request" },
        [RV_ERROR_CONFLICT] = { "Conflict", RV_BUS_ERROR_PREFIX "Conflict", 409, "conflict" },
        [RV_ERROR_SETUP_REQUIRED] = { "SetupRequired", RV_BUS_ERROR_PREFIX "SetupRequired", 409, "setup-required" },
        [RV_ERROR_RATE_LIMITED] = { "RateLimited", RV_BUS_ERROR_PREFIX "RateLimited", 429, "rate-limited" },
        [RV_ERROR_UNAVAILABLE] = { "Unavailable", RV_BUS_ERROR_PREFIX "Unavailable", 503, "service-unavailable" },
        [RV_ERROR_INTERNAL] = { "Internal", RV_BUS_ERROR_PREFIX "Internal", 500, "internal" },
        /* the standard name, so busctl, gdbus and desktop clients recognise a polkit refusal */
        [RV_ERROR_ACCESS_DENIED] = { "AccessDenied", "org.freedesktop.DBus.Error.AccessDenied", 403, "forbidden" },
        /* another node did not answer in time (a command carried to the torrent's owner) */
        [RV_ERROR_TIMED_OUT] = { "TimedOut", RV_BUS_ERROR_PREFIX "TimedOut", 504, "gateway-timeout" },
};
G_STATIC_ASSERT(G_N_ELEMENTS(rv_error_table) == RV_ERROR_LAST);

/* clang-format off */
G_DEFINE_QUARK(rv-error-quark, rv_error)
/* clang-format on */

static const RvErrorEntry *
rv_error_entry(RvError code)
{
        if ((guint)code >= RV_ERROR_LAST)
                return &rv_error_table[RV_ERROR_INTERNAL];
        return &rv_error_table[code];
}

const char *
rv_error_to_string(RvError code)
{
        return rv_error_entry(code)->name;
}

RvError
rv_error_from_string(const char *name)
{
        for (guint i = 0; name != NULL && i < RV_ERROR_LAST; i++) {
                if (g_strcmp0(rv_error_table[i].name, name) == 0)
                        return (RvError)i;
        }
        return RV_ERROR_LAST;
}

const char *
rv_error_to_dbus_name(RvError code)
{
        return rv_error_entry(code)->dbus_name;
}

guint
rv_error_to_http_status(RvError code)
{
        return rv_error_entry(code)->http_status;
}

const char *
rv_error_to_problem_slug(RvError code)
{
        return rv_error_entry(code)->slug;
}

RvError
rv_error_from_errno(int errsv)
{
        switch (errsv) {
        case ENOENT:
        case ENOTDIR:
                return RV_ERROR_NOT_FOUND;
        case EEXIST:
        case ENOTEMPTY:
        case EBUSY:
                return RV_ERROR_CONFLICT;
        case EACCES:
        case EPERM:
        case EROFS:
                return RV_ERROR_ACCESS_DENIED;
        case EINVAL:
        case ENAMETOOLONG:
        case ELOOP:
        case EISDIR:
        case EBADF:
        case E2BIG:
        case EFBIG:
                return RV_ERROR_INVALID_ARGUMENT;
        case ENOSPC:
        case EDQUOT:
        case EAGAIN:
        case ECONNREFUSED:
        case ETIMEDOUT:
        case EIO:
                return RV_ERROR_UNAVAILABLE;
        default:
                return RV_ERROR_INTERNAL;
        }
}

static RvError
rv_error_from_io(gint code)
{
        switch (code) {
        case G_IO_ERROR_NOT_FOUND:
                return RV_ERROR_NOT_FOUND;
        case G_IO_ERROR_EXISTS:
        case G_IO_ERROR_BUSY:
        case G_IO_ERROR_NOT_EMPTY:
                return RV_ERROR_CONFLICT;
        case G_IO_ERROR_PERMISSION_DENIED:
        case G_IO_ERROR_READ_ONLY:
                return RV_ERROR_ACCESS_DENIED;
        case G_IO_ERROR_INVALID_ARGUMENT:
        case G_IO_ERROR_INVALID_FILENAME:
        case G_IO_ERROR_INVALID_DATA:
        case G_IO_ERROR_FILENAME_TOO_LONG:
        case G_IO_ERROR_IS_DIRECTORY:
        case G_IO_ERROR_NOT_DIRECTORY:
        case G_IO_ERROR_NOT_REGULAR_FILE:
        case G_IO_ERROR_TOO_MANY_LINKS:
                return RV_ERROR_INVALID_ARGUMENT;
        case G_IO_ERROR_NO_SPACE:
        case G_IO_ERROR_TIMED_OUT:
        case G_IO_ERROR_CONNECTION_REFUSED:
        case G_IO_ERROR_HOST_UNREACHABLE:
        case G_IO_ERROR_NETWORK_UNREACHABLE:
        case G_IO_ERROR_WOULD_BLOCK:
        case G_IO_ERROR_BROKEN_PIPE:
                return RV_ERROR_UNAVAILABLE;
        case G_IO_ERROR_CANCELLED:
                return RV_ERROR_UNAVAILABLE;
        default:
                return RV_ERROR_INTERNAL;
        }
}

void
rv_error_convert(GError **error)
{
        RvError code = RV_ERROR_INTERNAL;

        if (error == NULL || *error == NULL)
                return;
        if ((*error)->domain == RV_ERROR)
                return;

        if ((*error)->domain == G_IO_ERROR) {
                code = rv_error_from_io((*error)->code);
        } else if ((*error)->domain == G_FILE_ERROR) {
                switch ((*error)->code) {
                case G_FILE_ERROR_NOENT:
                        code = RV_ERROR_NOT_FOUND;
                        break;
                case G_FILE_ERROR_EXIST:
                        code = RV_ERROR_CONFLICT;
                        break;
                case G_FILE_ERROR_ACCES:
                case G_FILE_ERROR_PERM:
                case G_FILE_ERROR_ROFS:
                        code = RV_ERROR_ACCESS_DENIED;
                        break;
                case G_FILE_ERROR_NOSPC:
                case G_FILE_ERROR_IO:
                case G_FILE_ERROR_AGAIN:
                        code = RV_ERROR_UNAVAILABLE;
                        break;
                default:
                        code = RV_ERROR_INVALID_ARGUMENT;
                        break;
                }
        } else if ((*error)->domain == G_KEY_FILE_ERROR) {
                code = (*error)->code == G_KEY_FILE_ERROR_NOT_FOUND ? RV_ERROR_NOT_FOUND : RV_ERROR_INVALID_ARGUMENT;
        } else if ((*error)->domain == JSON_PARSER_ERROR || (*error)->domain == G_MARKUP_ERROR ||
                   (*error)->domain == G_CONVERT_ERROR || (*error)->domain == G_URI_ERROR ||
                   (*error)->domain == G_VARIANT_PARSE_ERROR || (*error)->domain == G_REGEX_ERROR) {
                code = RV_ERROR_INVALID_ARGUMENT;
        }

        (*error)->domain = RV_ERROR;
        (*error)->code = code;
}
