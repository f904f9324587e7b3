/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "rv-torrent.h"

G_BEGIN_DECLS

/*
 * One vocabulary for what a torrent shows: each field once, with its JSON name
 * (event payloads, revaerctl --json, the REST API), its D-Bus property, its
 * D-Bus signature and the change bit that announces it. Transports serialise
 * from this table; none keeps a list of its own.
 */

typedef enum {
        RV_FIELD_STRING,
        RV_FIELD_BOOL,
        RV_FIELD_DOUBLE,
        RV_FIELD_UINT64,
        RV_FIELD_INT64,
        RV_FIELD_UINT32,
        RV_FIELD_STRV,
} RvFieldType;

typedef struct {
        RvFieldType type;
        union {
                const char *s;
                gboolean b;
                double d;
                gint64 i;
                const char *const *strv;
        };
} RvFieldValue;

typedef struct {
        /* "download_rate" */
        const char *json;
        /* "DownloadRate" */
        const char *property;
        RvFieldType type;
        /* the RvTorrentFields bits whose change changes this field; 0 for constants */
        guint changed_by;
        /* what a list view shows */
        gboolean in_list;
        void (*get)(const RvTorrent *torrent, RvFieldValue *ret);
        /* a string that lives as long as the program (a state's name): a list may keep the pointer */
        gboolean static_text;
} RvTorrentField;

/* all fields, NULL-terminated by a zeroed entry */
const RvTorrentField *rv_torrent_fields(void);
guint rv_torrent_fields_count(void);
const RvTorrentField *rv_torrent_field_by_json(const char *name);
const RvTorrentField *rv_torrent_field_by_property(const char *property);
/*
 * the fields a client asks for by name, as the HTTP list and D-Bus columns
 * take them: each once, in the order given, the info hash always and first;
 * no names: the list view's fields (list_view) or all. An unknown name is
 * InvalidArgument naming it, with where the names are listed (hint).
 * RvTorrentField pointers, borrowed
 */
GPtrArray *rv_torrent_fields_select(const char *const *names, gboolean list_view, const char *hint, GError **error);
/* the D-Bus signature of a field's value: "s", "b", "d", "t", "x", "u" or "as" */
const char *rv_torrent_field_signature(const RvTorrentField *field);

void rv_torrent_field_to_json(const RvTorrentField *field, const RvTorrent *torrent, JsonBuilder *builder);
/* an object with the fields that changes announce (all when changes is G_MAXUINT), and "info_hash" */
JsonNode *rv_torrent_fields_snapshot(const RvTorrent *torrent, guint changes);
/* the D-Bus properties that changes touch, NULL-terminated (strings are static) */
const char **rv_torrent_fields_properties(guint changes);

G_END_DECLS
