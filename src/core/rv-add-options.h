/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "rv-manager.h"

G_BEGIN_DECLS

/*
 * the options of an add, by name, as every transport takes them (save_path,
 * paused, sequential, labels, include, exclude, skip_fluff, download_limit,
 * upload_limit, peers, skip_checking, name, first_last_piece, content_layout): a typed table decodes them into an
 * RvAddRequest that owns its strings; the values themselves are checked by rv_manager_add()
 */
typedef struct _RvAddOptions RvAddOptions;

RvAddOptions *rv_add_options_new(void);
void rv_add_options_free(RvAddOptions *options);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RvAddOptions, rv_add_options_free)

/* the option names, NULL-terminated */
const char *const *rv_add_options_names(void);

/*
 * one option from a JSON value: an unknown name or a value of the wrong type
 * is an InvalidArgument naming it (prefixed with prefix, e.g. "options.",
 * when given)
 */
gboolean rv_add_options_set_json(RvAddOptions *options, const char *name, JsonNode *value, const char *prefix,
                                 GError **error);
/* every member of obj but those in skip (the source, handled by the caller) */
gboolean rv_add_options_set_json_object(RvAddOptions *options, JsonObject *obj, const char *const *skip,
                                        const char *prefix, GError **error);

/* the source: a magnet link or .torrent bytes (one of them) */
void rv_add_options_set_magnet(RvAddOptions *options, const char *magnet);
void rv_add_options_set_torrent(RvAddOptions *options, GBytes *data);

/* the torrent's own seeding goals (rv_manager_set_share_limits) */
void rv_add_options_set_share_limits(RvAddOptions *options, double ratio, gint64 minutes, gint64 inactive_minutes);
/* a cluster may place the add on another node (adds over HTTP) */
void rv_add_options_set_placeable(RvAddOptions *options, gboolean placeable);

/* the request, valid as long as options; the selection built from include/exclude/skip_fluff */
const RvAddRequest *rv_add_options_get_request(RvAddOptions *options, GError **error);

/* a request in the JSON form rv_add_options_set_json_object() reads, with "magnet" or "torrent" (base64) and
 * "share_limits" ({ratio, minutes, inactive_minutes}): how an add travels to another node of a cluster */
JsonNode *rv_add_request_to_json(const RvAddRequest *request);

G_END_DECLS
