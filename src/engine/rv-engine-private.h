/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * what the two engines share behind rv-engine.h: a vtable the public entry
 * points dispatch through, the common part of RvEngine, and the helpers of
 * the shared source code (rv-engine-source.cpp) that the C side calls
 */

#include "rv-engine.h"

G_BEGIN_DECLS

typedef struct {
        const char *name;
        void (*free)(RvEngine *engine);
        gboolean (*apply_settings)(RvEngine *engine, const RvEngineSettings *settings, GError **error);
        void (*get_settings)(RvEngine *engine, RvEngineSettings *ret_settings);
        guint16 (*get_listen_port)(RvEngine *engine);
        gboolean (*add)(RvEngine *engine, RvEngineSource *source, const RvEngineAddOptions *options, GError **error);
        gboolean (*pause)(RvEngine *engine, const RvInfoHash *hash, GError **error);
        gboolean (*resume)(RvEngine *engine, const RvInfoHash *hash, GError **error);
        gboolean (*remove)(RvEngine *engine, const RvInfoHash *hash, gboolean delete_data, GError **error);
        gboolean (*recheck)(RvEngine *engine, const RvInfoHash *hash, GError **error);
        gboolean (*reannounce)(RvEngine *engine, const RvInfoHash *hash, GError **error);
        gboolean (*set_sequential)(RvEngine *engine, const RvInfoHash *hash, gboolean sequential, GError **error);
        gboolean (*set_force_start)(RvEngine *engine, const RvInfoHash *hash, gboolean force, GError **error);
        gboolean (*set_super_seeding)(RvEngine *engine, const RvInfoHash *hash, gboolean on, GError **error);
        gboolean (*set_first_last_piece)(RvEngine *engine, const RvInfoHash *hash, gboolean on, GError **error);
        /* NULL on the fake */
        GByteArray *(*get_piece_priorities)(RvEngine *engine, const RvInfoHash *hash, GError **error);
        gboolean (*set_limits)(RvEngine *engine, const RvInfoHash *hash, gint64 download_limit, gint64 upload_limit,
                               GError **error);
        gboolean (*set_file_priorities)(RvEngine *engine, const RvInfoHash *hash, const guint8 *priorities, gsize n,
                                        GError **error);
        gboolean (*move_storage)(RvEngine *engine, const RvInfoHash *hash, const char *save_path, GError **error);
        gboolean (*connect_peer)(RvEngine *engine, const RvInfoHash *hash, const char *host_port, GError **error);
        gboolean (*request_file_progress)(RvEngine *engine, const RvInfoHash *hash, GError **error);
        gboolean (*request_trackers)(RvEngine *engine, const RvInfoHash *hash, GError **error);
        guint (*save_resume)(RvEngine *engine, const RvInfoHash *hash, gboolean only_if_modified);
        guint (*save_resume_all)(RvEngine *engine, gboolean only_if_modified);
        void (*pause_session)(RvEngine *engine);
        void (*resume_session)(RvEngine *engine);
        void (*probe)(RvEngine *engine);
        void (*post_status)(RvEngine *engine);
        guint (*get_torrent_count)(RvEngine *engine);
        /* fake controls; NULL on libtorrent */
        void (*fake_set_progress)(RvEngine *engine, const RvInfoHash *hash, gint64 done);
        void (*fake_deliver_metadata)(RvEngine *engine, const RvInfoHash *hash, const char *name,
                                      const char *const *paths, const gint64 *sizes);
        void (*fake_fail)(RvEngine *engine, const RvInfoHash *hash, const char *message);
        void (*fake_deliver_stale_status)(RvEngine *engine, const RvInfoHash *hash);
} RvEngineVTable;

struct _RvEngine {
        const RvEngineVTable *vtable;
        /* the implementation's own state */
        gpointer impl;
        /* the pack last applied, as the caller gave it */
        RvEngineSettings settings;
        GMainContext *context;
        RvEngineEventFunc event_func;
        gpointer event_data;
        /* rv_engine_free() from inside the event func is deferred until it returns */
        guint emit_depth;
        gboolean free_pending;
};

/* the defaults of rv_engine_settings_init() that the source parsers fall back to without an engine */

RvEngine *rv_engine_new_internal(const RvEngineVTable *vtable, const RvEngineSettings *settings);
/* hand one event to the event func; FALSE when the func freed the engine (touch nothing after that) */
gboolean rv_engine_emit(RvEngine *engine, const RvEngineEvent *event);
gint64 rv_engine_get_max_metadata_size(RvEngine *engine);

void rv_info_hash_set_error_not_found(GError **error, const RvInfoHash *hash);
RvEngineFile *rv_engine_file_new(const char *path, gint64 size, gint64 offset, guint8 priority, gboolean pad);
RvEngineFile *rv_engine_file_copy(const RvEngineFile *file);

/* shared with rv-engine-source.cpp: validation the fake needs too */
gboolean rv_engine_peer_validate(const char *host_port, GError **error);
gboolean rv_engine_save_path_validate(const char *save_path, GError **error);
gboolean rv_engine_source_is_magnet(RvEngineSource *source);

G_END_DECLS
