/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * C++ side of the sources: parsing and validation are pure and shared by both
 * engines; only rv-engine-lt.cpp looks inside the add_torrent_params
 */

#include <map>
#include <string>
#include <vector>

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/error_code.hpp>
#include <libtorrent/info_hash.hpp>
#include <libtorrent/socket.hpp>
#include <libtorrent/torrent_info.hpp>

#include "rv-engine-private.h"

struct _RvEngineSource {
        lt::add_torrent_params atp;
        RvEngineSourceInfo info{};
        std::string name;
        /* RvEngineFile, built on the first rv_engine_source_get_info() only */
        GPtrArray *files = nullptr;
        bool magnet = false;
        /* a magnet's x.pe, behind info.peers */
        GStrv peers = nullptr;
        /* storage behind rv_engine_source_get_options() */
        std::string save_path;
        std::vector<guint8> priorities;

        _RvEngineSource() = default;
        _RvEngineSource(const _RvEngineSource &) = delete;
        _RvEngineSource &operator=(const _RvEngineSource &) = delete;
        ~_RvEngineSource();
};

/* the key torrents are known by: the v1 hash, or the truncated v2 hash of a v2-only torrent */
lt::sha1_hash rv_engine_hash_key(const lt::info_hash_t &hashes);
void rv_engine_hash_to_rv(const lt::sha1_hash &key, RvInfoHash *ret_hash);
lt::sha1_hash rv_engine_hash_from_rv(const RvInfoHash *hash);

/* a Revaer error for a libtorrent error code; the message is "<what>: <libtorrent's message>" */
RvError rv_engine_error_code_from_lt(const lt::error_code &ec);
void rv_engine_set_error_from_lt(GError **error, const lt::error_code &ec, const char *what);
/* for the catch blocks at every entry */
void rv_engine_set_error_from_exception(GError **error, const char *what);

/* the RvEngineFile list of a torrent, priorities from the vector (normal when missing), paths as renamed */
GPtrArray *rv_engine_files_new(const lt::torrent_info &ti, const std::vector<lt::download_priority_t> &priorities,
                               const std::map<lt::file_index_t, std::string> &renamed);

/* the renames a content layout asks for, from the metadata's own paths; none when it changes nothing */
std::map<lt::file_index_t, std::string> rv_engine_layout_renames(const lt::torrent_info &ti, RvContentLayout layout);

/* a raw info section from the swarm: size bound and file name rules */
bool rv_engine_info_section_validate(lt::span<const char> info, gint64 max_size, GError **error);

/* apply add options (or the source's own options when NULL) to add params */
bool rv_engine_add_params_apply(lt::add_torrent_params &atp, const RvEngineAddOptions *options, GError **error);

bool rv_engine_endpoint_parse(const char *host_port, lt::tcp::endpoint &ret_endpoint, GError **error);
