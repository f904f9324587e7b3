/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <climits>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/load_torrent.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/write_resume_data.hpp>

#include "rv-engine-source.hpp"

/* bdecode bounds: deeper or longer than this is an attack, not a torrent */
#define RV_BDECODE_DEPTH_LIMIT 100
#define RV_BDECODE_TOKEN_LIMIT 3000000

_RvEngineSource::~_RvEngineSource()
{
        if (files != nullptr)
                g_ptr_array_unref(files);
        g_strfreev(peers);
}

lt::sha1_hash
rv_engine_hash_key(const lt::info_hash_t &hashes)
{
        if (hashes.has_v1())
                return hashes.v1;
        return lt::sha1_hash(hashes.v2.data());
}

void
rv_engine_hash_to_rv(const lt::sha1_hash &key, RvInfoHash *ret_hash)
{
        static const char digits[] = "0123456789abcdef";
        const auto *bytes = reinterpret_cast<const unsigned char *>(key.data());

        for (int i = 0; i < 20; i++) {
                ret_hash->hex[i * 2] = digits[bytes[i] >> 4];
                ret_hash->hex[i * 2 + 1] = digits[bytes[i] & 0xf];
        }
        ret_hash->hex[RV_INFO_HASH_HEX_LEN] = '\0';
}

lt::sha1_hash
rv_engine_hash_from_rv(const RvInfoHash *hash)
{
        lt::sha1_hash key;
        auto *bytes = reinterpret_cast<unsigned char *>(key.data());

        for (int i = 0; i < 20; i++) {
                int hi = g_ascii_xdigit_value(hash->hex[i * 2]);
                int lo = g_ascii_xdigit_value(hash->hex[i * 2 + 1]);
                /* an unparsed hash maps to no torrent rather than to a wrong one */
                if (hi < 0 || lo < 0)
                        return lt::sha1_hash();
                bytes[i] = static_cast<unsigned char>(hi << 4 | lo);
        }
        return key;
}

RvError
rv_engine_error_code_from_lt(const lt::error_code &ec)
{
        if (ec.category() == lt::libtorrent_category() || ec.category() == lt::bdecode_category())
                return RV_ERROR_INVALID_ARGUMENT;
        if (ec.category() == boost::system::generic_category() || ec.category() == boost::system::system_category())
                return rv_error_from_errno(ec.value());
        return RV_ERROR_INTERNAL;
}

void
rv_engine_set_error_from_lt(GError **error, const lt::error_code &ec, const char *what)
{
        g_set_error(error, RV_ERROR, rv_engine_error_code_from_lt(ec), "%s: %s", what, ec.message().c_str());
}

void
rv_engine_set_error_from_exception(GError **error, const char *what)
{
        /* called from inside a catch block: rethrow to learn what it was */
        try {
                throw;
        } catch (const lt::system_error &e) {
                rv_engine_set_error_from_lt(error, e.code(), what);
        } catch (const std::bad_alloc &) {
                g_set_error(error, RV_ERROR, RV_ERROR_UNAVAILABLE, "%s: out of memory", what);
        } catch (const std::exception &e) {
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, "%s: %s", what, e.what());
        } catch (...) {
                g_set_error(error, RV_ERROR, RV_ERROR_INTERNAL, "%s: unknown exception", what);
        }
}

static void rv_set_invalid(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
rv_set_invalid(GError **error, const char *format, ...)
{
        va_list args;

        if (error == nullptr)
                return;
        va_start(args, format);
        g_autofree char *message = g_strdup_vprintf(format, args);
        va_end(args);
        g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT, message);
}

/* names from the network go into messages: escape control bytes, keep it UTF-8 */
static std::string
rv_printable(lt::string_view text)
{
        std::string out;

        for (unsigned char c : text) {
                if (c < 0x20 || c == 0x7f || c == '\\') {
                        char buf[8];
                        g_snprintf(buf, sizeof(buf), "\\x%02x", c);
                        out += buf;
                } else {
                        out += static_cast<char>(c);
                }
        }
        g_autofree char *valid = g_utf8_make_valid(out.c_str(), static_cast<gssize>(out.size()));
        return std::string(valid);
}

static bool
rv_path_element_is_safe(lt::string_view element)
{
        if (element.empty() || element == "." || element == "..")
                return false;
        for (char c : element) {
                if (c == '/' || c == '\\' || c == '\0')
                        return false;
        }
        return true;
}

static bool
rv_set_unsafe(GError **error, lt::string_view path)
{
        rv_set_invalid(error, "unsafe file name '%s' in torrent", rv_printable(path).c_str());
        return false;
}

static bool
rv_is_utf8(lt::string_view text)
{
        return g_utf8_validate_len(text.data(), text.size(), nullptr) ? true : false;
}

/*
 * "path", "path.utf-8" or "symlink path" of one file: a non-empty list of
 * safe elements, in UTF-8 when it is the one libtorrent names the file by
 */
static bool
rv_validate_path_list(const lt::bdecode_node &list, const char *key, bool utf8, GError **error)
{
        std::string joined;
        bool safe = true;
        bool valid = true;

        if (list.type() != lt::bdecode_node::list_t) {
                rv_set_invalid(error, "invalid torrent file: '%s' of a file is not a list", key);
                return false;
        }
        if (list.list_size() == 0)
                return rv_set_unsafe(error, "");
        for (int i = 0; i < list.list_size(); i++) {
                lt::bdecode_node element = list.list_at(i);
                if (element.type() != lt::bdecode_node::string_t) {
                        rv_set_invalid(error, "invalid torrent file: element %d of '%s' is not a string", i, key);
                        return false;
                }
                if (i > 0)
                        joined += '/';
                joined += std::string(element.string_value());
                if (!rv_path_element_is_safe(element.string_value()))
                        safe = false;
                if (utf8 && !rv_is_utf8(element.string_value()))
                        valid = false;
        }
        if (!safe)
                return rv_set_unsafe(error, joined);
        if (!valid) {
                rv_set_invalid(error, "invalid torrent file: '%s' of file '%s' is not valid UTF-8", key,
                               rv_printable(joined).c_str());
                return false;
        }
        return true;
}

/* v2 "file tree": nested dicts keyed by path element; the key "" marks a file's own entry */
static bool
rv_validate_file_tree(const lt::bdecode_node &tree, const std::string &path, GError **error)
{
        for (int i = 0; i < tree.dict_size(); i++) {
                auto entry = tree.dict_at(i);
                lt::string_view key = entry.first;

                if (key.empty() && !path.empty())
                        continue;
                std::string sub = path.empty() ? std::string(key) : path + "/" + std::string(key);
                if (!rv_path_element_is_safe(key))
                        return rv_set_unsafe(error, sub);
                if (!rv_is_utf8(key)) {
                        rv_set_invalid(error, "invalid torrent file: file tree entry '%s' is not valid UTF-8",
                                       rv_printable(sub).c_str());
                        return false;
                }
                if (entry.second.type() != lt::bdecode_node::dict_t) {
                        rv_set_invalid(error, "invalid torrent file: file tree entry '%s' is not a dictionary",
                                       rv_printable(sub).c_str());
                        return false;
                }
                if (!rv_validate_file_tree(entry.second, sub, error))
                        return false;
        }
        return true;
}

/*
 * libtorrent sanitizes hostile names (it turns "../x" into "x", drops empty
 * elements, replaces bytes that are not UTF-8 with '_') and carries on;
 * Revaer refuses them instead, so that what the user sees is what the torrent
 * says, and a crafted torrent is an error. Names and paths are checked for
 * UTF-8 where libtorrent takes them from: "name.utf-8" and "path.utf-8" when
 * present (so a torrent with a legacy name and its UTF-8 twin is fine), else
 * "name" and "path"
 */
static bool
rv_validate_info(const lt::bdecode_node &info, GError **error)
{
        static const char *const name_keys[] = { "name", "name.utf-8" };
        static const char *const path_keys[] = { "path", "path.utf-8", "symlink path" };
        bool has_name = false;
        const char *name_key = nullptr;

        if (info.type() != lt::bdecode_node::dict_t) {
                rv_set_invalid(error, "invalid torrent file: the info section is not a dictionary");
                return false;
        }
        for (const char *key : name_keys) {
                lt::bdecode_node name = info.dict_find(key);
                if (!name)
                        continue;
                if (name.type() != lt::bdecode_node::string_t) {
                        rv_set_invalid(error, "invalid torrent file: '%s' is not a string", key);
                        return false;
                }
                if (!rv_path_element_is_safe(name.string_value()))
                        return rv_set_unsafe(error, name.string_value());
                has_name = true;
                name_key = key;
        }
        if (!has_name) {
                rv_set_invalid(error, "invalid torrent file: the info section has no name");
                return false;
        }
        if (!rv_is_utf8(info.dict_find(name_key).string_value())) {
                rv_set_invalid(error, "invalid torrent file: '%s' is not valid UTF-8 ('%s')", name_key,
                               rv_printable(info.dict_find(name_key).string_value()).c_str());
                return false;
        }

        lt::bdecode_node files = info.dict_find("files");
        if (files) {
                if (files.type() != lt::bdecode_node::list_t) {
                        rv_set_invalid(error, "invalid torrent file: 'files' is not a list");
                        return false;
                }
                for (int i = 0; i < files.list_size(); i++) {
                        lt::bdecode_node file = files.list_at(i);
                        if (file.type() != lt::bdecode_node::dict_t) {
                                rv_set_invalid(error, "invalid torrent file: file %d is not a dictionary", i);
                                return false;
                        }
                        if (!file.dict_find("path")) {
                                rv_set_invalid(error, "invalid torrent file: file %d has no path", i);
                                return false;
                        }
                        const bool has_utf8 = static_cast<bool>(file.dict_find("path.utf-8"));
                        for (const char *key : path_keys) {
                                lt::bdecode_node list = file.dict_find(key);
                                const bool named_by = key != path_keys[0] || !has_utf8;
                                if (list && !rv_validate_path_list(list, key, named_by, error))
                                        return false;
                        }
                }
        }

        lt::bdecode_node tree = info.dict_find("file tree");
        if (tree) {
                if (tree.type() != lt::bdecode_node::dict_t) {
                        rv_set_invalid(error, "invalid torrent file: 'file tree' is not a dictionary");
                        return false;
                }
                if (!rv_validate_file_tree(tree, std::string(), error))
                        return false;
        }
        return true;
}

static lt::bdecode_node
rv_bdecode(lt::span<const char> data, const char *what, GError **error)
{
        lt::error_code ec;
        int pos = 0;

        lt::bdecode_node node = lt::bdecode(data, ec, &pos, RV_BDECODE_DEPTH_LIMIT, RV_BDECODE_TOKEN_LIMIT);
        if (ec) {
                rv_set_invalid(error, "invalid %s: %s at byte %d", what, ec.message().c_str(), pos);
                return lt::bdecode_node();
        }
        if (node.type() != lt::bdecode_node::dict_t) {
                rv_set_invalid(error, "invalid %s: not a dictionary", what);
                return lt::bdecode_node();
        }
        return node;
}

bool
rv_engine_info_section_validate(lt::span<const char> info, gint64 max_size, GError **error)
{
        if (static_cast<gint64>(info.size()) > max_size) {
                rv_set_invalid(error, "metadata is %zu bytes, over the bound of %" G_GINT64_FORMAT " bytes",
                               static_cast<size_t>(info.size()), max_size);
                return false;
        }
        lt::bdecode_node node = rv_bdecode(info, "metadata", error);
        if (!node)
                return false;
        return rv_validate_info(node, error);
}

GPtrArray *
rv_engine_files_new(const lt::torrent_info &ti, const std::vector<lt::download_priority_t> &priorities,
                    const std::map<lt::file_index_t, std::string> &renamed)
{
        const lt::file_storage &fs = ti.files();
        GPtrArray *files = g_ptr_array_new_full(static_cast<guint>(fs.num_files()),
                                                reinterpret_cast<GDestroyNotify>(rv_engine_file_free));

        for (lt::file_index_t i : fs.file_range()) {
                const bool pad = fs.pad_file_at(i);
                auto index = static_cast<size_t>(static_cast<int>(i));
                guint8 priority = pad ? RV_FILE_PRIORITY_SKIP : RV_FILE_PRIORITY_NORMAL;

                if (!pad && index < priorities.size())
                        priority = static_cast<guint8>(static_cast<std::uint8_t>(priorities[index]));
                auto name = renamed.find(i);
                const std::string path = name != renamed.end() ? name->second : fs.file_path(i);
                g_ptr_array_add(files,
                                rv_engine_file_new(path.c_str(), fs.file_size(i), fs.file_offset(i), priority, pad));
        }
        return files;
}

/* the folder every real file is in, empty when there is none (a single file, or files side by side) */
static std::string
rv_layout_root(const lt::file_storage &fs)
{
        std::string root;

        for (lt::file_index_t i : fs.file_range()) {
                if (fs.pad_file_at(i))
                        continue;
                const std::string path = fs.file_path(i, "");
                const std::string::size_type slash = path.find('/');
                if (slash == std::string::npos || slash == 0)
                        return {};
                if (root.empty())
                        root = path.substr(0, slash);
                else if (path.compare(0, slash + 1, root + "/") != 0)
                        return {};
        }
        return root;
}

/* qBittorrent's folder for a lone file: its name without the extension (a leading dot is no extension) */
static std::string
rv_layout_folder(const std::string &name)
{
        const std::string::size_type dot = name.rfind('.');

        return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

std::map<lt::file_index_t, std::string>
rv_engine_layout_renames(const lt::torrent_info &ti, RvContentLayout layout)
{
        const lt::file_storage &fs = ti.orig_files();
        const std::string root = rv_layout_root(fs);
        std::map<lt::file_index_t, std::string> renames;
        std::string folder;

        if (layout == RV_CONTENT_LAYOUT_SUBFOLDER && root.empty())
                folder = rv_layout_folder(ti.num_files() == 1 ? fs.file_path(lt::file_index_t(0), "") : ti.name());
        if ((layout == RV_CONTENT_LAYOUT_SUBFOLDER && (!root.empty() || folder.empty())) ||
            (layout == RV_CONTENT_LAYOUT_NO_SUBFOLDER && root.empty()) || layout == RV_CONTENT_LAYOUT_ORIGINAL)
                return renames;
        for (lt::file_index_t i : fs.file_range()) {
                if (fs.pad_file_at(i))
                        continue;
                const std::string path = fs.file_path(i, "");
                renames[i] = layout == RV_CONTENT_LAYOUT_SUBFOLDER ? folder + "/" + path : path.substr(root.size() + 1);
        }
        return renames;
}

static int
rv_clamp_int(gint64 value)
{
        return value > INT_MAX ? INT_MAX : static_cast<int>(value);
}

bool
rv_engine_endpoint_parse(const char *host_port, lt::tcp::endpoint &ret_endpoint, GError **error)
{
        std::string text = host_port != nullptr ? host_port : "";
        std::string host;
        std::string port;
        lt::error_code ec;

        if (!text.empty() && text[0] == '[') {
                size_t end = text.find(']');
                if (end == std::string::npos || end + 1 >= text.size() || text[end + 1] != ':') {
                        rv_set_invalid(error, "invalid peer '%s': expected [IPv6]:port", rv_printable(text).c_str());
                        return false;
                }
                host = text.substr(1, end - 1);
                port = text.substr(end + 2);
        } else {
                size_t colon = text.rfind(':');
                if (colon == std::string::npos || text.find(':') != colon) {
                        rv_set_invalid(error, "invalid peer '%s': expected IPv4:port or [IPv6]:port",
                                       rv_printable(text).c_str());
                        return false;
                }
                host = text.substr(0, colon);
                port = text.substr(colon + 1);
        }

        guint64 number = 0;
        if (port.empty() || !g_ascii_string_to_unsigned(port.c_str(), 10, 1, 65535, &number, nullptr)) {
                rv_set_invalid(error, "invalid peer '%s': port must be 1..65535", rv_printable(text).c_str());
                return false;
        }
        lt::address address = lt::make_address(host, ec);
        if (ec) {
                rv_set_invalid(error, "invalid peer '%s': '%s' is not an IP address", rv_printable(text).c_str(),
                               rv_printable(host).c_str());
                return false;
        }
        ret_endpoint = lt::tcp::endpoint(address, static_cast<unsigned short>(number));
        return true;
}

extern "C" gboolean
rv_engine_peer_validate(const char *host_port, GError **error)
{
        try {
                lt::tcp::endpoint endpoint;
                return rv_engine_endpoint_parse(host_port, endpoint, error) ? TRUE : FALSE;
        } catch (...) {
                rv_engine_set_error_from_exception(error, "parsing peer address");
                return FALSE;
        }
}

bool
rv_engine_add_params_apply(lt::add_torrent_params &atp, const RvEngineAddOptions *options, GError **error)
{
        if (options == nullptr)
                return true;

        if (options->save_path != nullptr)
                atp.save_path = options->save_path;
        if (options->paused) {
                atp.flags |= lt::torrent_flags::paused;
                atp.flags &= ~lt::torrent_flags::auto_managed;
        } else {
                atp.flags |= lt::torrent_flags::auto_managed;
                atp.flags &= ~lt::torrent_flags::paused;
        }
        if (options->sequential)
                atp.flags |= lt::torrent_flags::sequential_download;
        else
                atp.flags &= ~lt::torrent_flags::sequential_download;
        if (options->super_seeding)
                atp.flags |= lt::torrent_flags::super_seeding;
        else
                atp.flags &= ~lt::torrent_flags::super_seeding;
        if (options->seed_mode)
                atp.flags |= lt::torrent_flags::seed_mode;
        else
                atp.flags &= ~lt::torrent_flags::seed_mode;
        atp.download_limit = options->download_limit > 0 ? rv_clamp_int(options->download_limit) : -1;
        atp.upload_limit = options->upload_limit > 0 ? rv_clamp_int(options->upload_limit) : -1;
        if (options->added_time > 0)
                atp.added_time = static_cast<std::time_t>(options->added_time);

        for (guint i = 0; options->peers != nullptr && options->peers[i] != nullptr; i++) {
                lt::tcp::endpoint endpoint;
                if (!rv_engine_endpoint_parse(options->peers[i], endpoint, error)) {
                        /* named as the option is, so a transport can point at the field */
                        g_prefix_error(error, "peers[%u]: ", i);
                        return false;
                }
                atp.peers.push_back(endpoint);
        }

        if (options->file_priorities != nullptr && options->n_file_priorities > 0 && atp.ti) {
                const auto n_files = static_cast<gsize>(atp.ti->num_files());
                if (options->n_file_priorities != n_files) {
                        rv_set_invalid(error,
                                       "%" G_GSIZE_FORMAT " file priorities for a torrent with %" G_GSIZE_FORMAT
                                       " files",
                                       options->n_file_priorities, n_files);
                        return false;
                }
                atp.file_priorities.clear();
                atp.file_priorities.reserve(n_files);
                for (gsize i = 0; i < n_files; i++) {
                        if (options->file_priorities[i] > RV_FILE_PRIORITY_HIGH) {
                                rv_set_invalid(error, "file priority %u of file %" G_GSIZE_FORMAT " is over %d",
                                               options->file_priorities[i], i, RV_FILE_PRIORITY_HIGH);
                                return false;
                        }
                        atp.file_priorities.push_back(lt::download_priority_t(options->file_priorities[i]));
                }
        }
        return true;
}

static bool
rv_is_hex(lt::string_view text)
{
        for (char c : text) {
                if (!g_ascii_isxdigit(c))
                        return false;
        }
        return true;
}

/* RFC 4648 base32 without padding, either case */
static bool
rv_is_base32(lt::string_view text)
{
        for (char c : text) {
                if (!g_ascii_isalpha(c) && (c < '2' || c > '7'))
                        return false;
        }
        return true;
}

/* one xt value, unescaped: the info hashes must be whole; other URNs are not ours to judge */
static bool
rv_magnet_check_xt(const std::string &value, GError **error)
{
        lt::string_view v(value);
        lt::string_view urn = v.substr(0, 9);

        if (urn.size() == 9 && g_ascii_strncasecmp(urn.data(), "urn:btih:", 9) == 0) {
                lt::string_view hash = v.substr(9);
                if ((hash.size() == 40 && rv_is_hex(hash)) || (hash.size() == 32 && rv_is_base32(hash)))
                        return true;
                rv_set_invalid(error, "invalid magnet URI: xt '%s': a btih is 40 hex or 32 base32 digits",
                               rv_printable(value).substr(0, 200).c_str());
                return false;
        }
        if (urn.size() == 9 && g_ascii_strncasecmp(urn.data(), "urn:btmh:", 9) == 0) {
                lt::string_view hash = v.substr(9);
                if (hash.size() == 68 && hash.substr(0, 4) == "1220" && rv_is_hex(hash))
                        return true;
                rv_set_invalid(error, "invalid magnet URI: xt '%s': a btmh is 1220 and 64 hex digits",
                               rv_printable(value).substr(0, 200).c_str());
                return false;
        }
        return true;
}

/*
 * libtorrent takes an info hash with bad digits as some other hash (it reads
 * '1' as 'I' in base32, and hex up to the first bad digit) and drops an x.pe
 * it cannot parse. Revaer reads the parameters libtorrent acts on itself
 * first, with libtorrent's rules for names (".<digits>" suffixes ignored),
 * so a link is added under the hash it names and with the peers it names, or
 * refused with the field named. x.pe gets the check of the peers option; the
 * peers found replace libtorrent's own list
 */
static bool
rv_magnet_check(const char *uri, std::vector<lt::tcp::endpoint> &ret_endpoints, GStrv *ret_peers, GError **error)
{
        g_auto(GStrv) params = g_strsplit(uri + 8, "&", -1);
        g_autoptr(GStrvBuilder) peers = g_strv_builder_new();
        std::vector<lt::tcp::endpoint> endpoints;
        bool any_peer = false;

        for (guint i = 0; params[i] != nullptr; i++) {
                const char *eq = strchr(params[i], '=');
                std::string name = eq != nullptr ? std::string(params[i], static_cast<size_t>(eq - params[i]))
                                                 : std::string(params[i]);
                const size_t dot = name.find('.');

                if (dot != std::string::npos && name.find_first_not_of("0123456789", dot + 1) == std::string::npos)
                        name.resize(dot);
                const bool is_xt = g_ascii_strcasecmp(name.c_str(), "xt") == 0;
                const bool is_peer = g_ascii_strcasecmp(name.c_str(), "x.pe") == 0;
                if (!is_xt && !is_peer)
                        continue;
                g_autofree char *value = g_uri_unescape_string(eq != nullptr ? eq + 1 : "", nullptr);
                if (value == nullptr) {
                        rv_set_invalid(error, "invalid magnet URI: %s '%s': a bad %%-escape", name.c_str(),
                                       rv_printable(eq != nullptr ? eq + 1 : "").substr(0, 200).c_str());
                        return false;
                }
                if (is_xt && !rv_magnet_check_xt(value, error))
                        return false;
                if (is_peer) {
                        lt::tcp::endpoint endpoint;
                        if (!rv_engine_endpoint_parse(value, endpoint, error)) {
                                g_prefix_error(error, "invalid magnet URI: x.pe: ");
                                return false;
                        }
                        endpoints.push_back(endpoint);
                        g_strv_builder_add(peers, value);
                        any_peer = true;
                }
        }
        ret_endpoints = std::move(endpoints);
        *ret_peers = any_peer ? g_strv_builder_end(peers) : nullptr;
        return true;
}

static RvEngineSource *
rv_source_finish(std::unique_ptr<RvEngineSource> source)
{
        lt::add_torrent_params &atp = source->atp;

        if (atp.ti) {
                atp.info_hashes = atp.ti->info_hashes();
                source->name = atp.ti->name();
        } else {
                source->name = atp.name;
        }
        rv_engine_hash_to_rv(rv_engine_hash_key(atp.info_hashes), &source->info.hash);
        source->info.name = source->name.empty() ? nullptr : source->name.c_str();
        source->info.has_metadata = atp.ti != nullptr;
        source->info.total_size = atp.ti ? atp.ti->total_size() : 0;
        source->info.done_size = 0;
        if (atp.ti && (atp.flags & lt::torrent_flags::seed_mode)) {
                source->info.done_size = source->info.total_size;
        } else if (atp.ti) {
                const lt::file_storage &fs = atp.ti->files();
                for (lt::piece_index_t i(0); i < atp.have_pieces.end_index() && i < fs.end_piece(); ++i)
                        if (atp.have_pieces.get_bit(i))
                                source->info.done_size += fs.piece_size(i);
        }
        source->info.downloaded = atp.total_downloaded;
        source->info.uploaded = atp.total_uploaded;
        source->info.files = nullptr;
        source->info.peers = source->peers;
        return source.release();
}

extern "C" RvEngineSource *
rv_engine_source_new_magnet(RvEngine *engine, const char *uri, GError **error)
{
        try {
                auto source = std::make_unique<RvEngineSource>();
                lt::error_code ec;

                if (uri == nullptr || g_ascii_strncasecmp(uri, "magnet:?", 8) != 0) {
                        rv_set_invalid(error, "not a magnet URI: '%s'",
                                       rv_printable(uri != nullptr ? uri : "").substr(0, 200).c_str());
                        return nullptr;
                }
                std::vector<lt::tcp::endpoint> peers;
                if (!rv_magnet_check(uri, peers, &source->peers, error))
                        return nullptr;
                lt::parse_magnet_uri(uri, source->atp, ec);
                if (ec) {
                        rv_set_invalid(error, "invalid magnet URI: %s", ec.message().c_str());
                        return nullptr;
                }
                source->atp.peers = std::move(peers);
                /* the name clients are shown until the metadata comes */
                if (!rv_is_utf8(source->atp.name)) {
                        rv_set_invalid(error, "invalid magnet URI: dn '%s' is not valid UTF-8",
                                       rv_printable(source->atp.name).substr(0, 200).c_str());
                        return nullptr;
                }
                if (!source->atp.info_hashes.has_v1() && !source->atp.info_hashes.has_v2()) {
                        rv_set_invalid(error, "invalid magnet URI: no xt=urn:btih info hash");
                        return nullptr;
                }
                source->magnet = true;
                return rv_source_finish(std::move(source));
        } catch (...) {
                rv_engine_set_error_from_exception(error, "parsing magnet URI");
                return nullptr;
        }
}

extern "C" RvEngineSource *
rv_engine_source_new_torrent(RvEngine *engine, GBytes *data, GError **error)
{
        try {
                const gint64 bound = rv_engine_get_max_metadata_size(engine);
                gsize size = 0;
                const char *bytes =
                        data != nullptr ? static_cast<const char *>(g_bytes_get_data(data, &size)) : nullptr;

                if (size == 0) {
                        rv_set_invalid(error, "invalid torrent file: empty");
                        return nullptr;
                }
                if (static_cast<gint64>(size) > bound) {
                        rv_set_invalid(error,
                                       "torrent file is %" G_GSIZE_FORMAT " bytes, over the bound of %" G_GINT64_FORMAT
                                       " bytes",
                                       size, bound);
                        return nullptr;
                }
                lt::bdecode_node root = rv_bdecode({ bytes, static_cast<std::ptrdiff_t>(size) }, "torrent file", error);
                if (!root)
                        return nullptr;
                lt::bdecode_node info = root.dict_find_dict("info");
                if (!info) {
                        rv_set_invalid(error, "invalid torrent file: no info dictionary");
                        return nullptr;
                }
                if (!rv_validate_info(info, error))
                        return nullptr;

                lt::load_torrent_limits limits;
                limits.max_buffer_size = rv_clamp_int(bound);
                limits.max_decode_depth = RV_BDECODE_DEPTH_LIMIT;
                limits.max_decode_tokens = RV_BDECODE_TOKEN_LIMIT;
                auto source = std::make_unique<RvEngineSource>();
                try {
                        source->atp = lt::load_torrent_parsed(root, limits);
                } catch (const lt::system_error &e) {
                        rv_set_invalid(error, "invalid torrent file: %s", e.code().message().c_str());
                        return nullptr;
                }
                return rv_source_finish(std::move(source));
        } catch (...) {
                rv_engine_set_error_from_exception(error, "parsing torrent file");
                return nullptr;
        }
}

extern "C" RvEngineSource *
rv_engine_source_new_resume(RvEngine *engine, GBytes *data, GError **error)
{
        try {
                const gint64 bound = rv_engine_get_max_metadata_size(engine);
                /* the info dict plus piece bitfields, trackers and the like */
                const gint64 resume_bound = 2 * bound + 1024 * 1024;
                gsize size = 0;
                const char *bytes =
                        data != nullptr ? static_cast<const char *>(g_bytes_get_data(data, &size)) : nullptr;
                lt::error_code ec;

                if (size == 0) {
                        rv_set_invalid(error, "invalid resume data: empty");
                        return nullptr;
                }
                if (static_cast<gint64>(size) > resume_bound) {
                        rv_set_invalid(error,
                                       "resume data is %" G_GSIZE_FORMAT " bytes, over the bound of %" G_GINT64_FORMAT
                                       " bytes",
                                       size, resume_bound);
                        return nullptr;
                }
                lt::bdecode_node root = rv_bdecode({ bytes, static_cast<std::ptrdiff_t>(size) }, "resume data", error);
                if (!root)
                        return nullptr;
                lt::bdecode_node info = root.dict_find_dict("info");
                if (info) {
                        auto section = info.data_section();
                        if (static_cast<gint64>(section.size()) > bound) {
                                rv_set_invalid(error,
                                               "metadata is %zu bytes, over the bound of %" G_GINT64_FORMAT " bytes",
                                               static_cast<size_t>(section.size()), bound);
                                return nullptr;
                        }
                        if (!rv_validate_info(info, error))
                                return nullptr;
                }

                auto source = std::make_unique<RvEngineSource>();
                source->atp = lt::read_resume_data(root, ec);
                if (ec) {
                        rv_set_invalid(error, "invalid resume data: %s", ec.message().c_str());
                        return nullptr;
                }
                if (!source->atp.info_hashes.has_v1() && !source->atp.info_hashes.has_v2()) {
                        rv_set_invalid(error, "invalid resume data: no info hash");
                        return nullptr;
                }
                /* without an info dict the name is the record's own, unchecked until here, and goes out on D-Bus */
                if (!source->atp.ti && !rv_is_utf8(source->atp.name)) {
                        rv_set_invalid(error, "invalid resume data: name '%s' is not valid UTF-8",
                                       rv_printable(source->atp.name).substr(0, 200).c_str());
                        return nullptr;
                }
                if (!source->atp.save_path.empty() && !g_path_is_absolute(source->atp.save_path.c_str())) {
                        rv_set_invalid(error, "invalid resume data: save path '%s' is not absolute",
                                       rv_printable(source->atp.save_path).c_str());
                        return nullptr;
                }
                source->magnet = !source->atp.ti;
                return rv_source_finish(std::move(source));
        } catch (...) {
                rv_engine_set_error_from_exception(error, "parsing resume data");
                return nullptr;
        }
}

extern "C" const RvEngineSourceInfo *
rv_engine_source_get_info(RvEngineSource *source)
{
        g_return_val_if_fail(source != nullptr, nullptr);

        /* the file list costs an allocation per file: only build it when someone asks */
        try {
                if (source->atp.ti && source->files == nullptr)
                        source->files = rv_engine_files_new(*source->atp.ti, source->atp.file_priorities,
                                                            source->atp.renamed_files);
        } catch (...) {
                g_debug("building the file list of %s failed, ignoring", source->info.hash.hex);
        }
        source->info.files = source->files;
        try {
                /* load_torrent moves a .torrent's trackers into atp.trackers; a plain torrent_info keeps its own */
                std::set<std::string> urls(source->atp.trackers.begin(), source->atp.trackers.end());
                if (source->atp.ti)
                        for (const lt::announce_entry &ae : source->atp.ti->trackers())
                                urls.insert(ae.url);
                source->info.n_trackers = static_cast<guint>(urls.size());
        } catch (...) {
                g_debug("counting the trackers of %s failed, ignoring", source->info.hash.hex);
        }
        return &source->info;
}

extern "C" void
rv_engine_source_set_content_layout(RvEngineSource *source, RvContentLayout layout)
{
        g_return_if_fail(source != nullptr);

        if (!source->atp.ti)
                return;
        try {
                for (auto &rename : rv_engine_layout_renames(*source->atp.ti, layout))
                        source->atp.renamed_files[rename.first] = std::move(rename.second);
                if (source->files != nullptr)
                        g_ptr_array_unref(source->files);
                source->files = nullptr;
                source->info.files = nullptr;
        } catch (...) {
                g_debug("laying out the files of %s failed, ignoring", source->info.hash.hex);
        }
}

extern "C" gboolean
rv_engine_source_is_magnet(RvEngineSource *source)
{
        return source != nullptr && source->magnet ? TRUE : FALSE;
}

extern "C" void
rv_engine_source_get_options(RvEngineSource *source, RvEngineAddOptions *ret_options)
{
        g_return_if_fail(source != nullptr);
        g_return_if_fail(ret_options != nullptr);

        const lt::add_torrent_params &atp = source->atp;
        RvEngineAddOptions options;

        rv_engine_add_options_init(&options);
        try {
                source->save_path = atp.save_path;
                source->priorities.clear();
                for (auto priority : atp.file_priorities)
                        source->priorities.push_back(static_cast<guint8>(static_cast<std::uint8_t>(priority)));
        } catch (...) {
                g_debug("copying the options of %s failed, ignoring", source->info.hash.hex);
        }
        options.save_path = source->save_path.empty() ? nullptr : source->save_path.c_str();
        /* a torrent the queue paused is still one the user wants running */
        options.paused = (atp.flags & lt::torrent_flags::paused) && !(atp.flags & lt::torrent_flags::auto_managed);
        options.sequential = (atp.flags & lt::torrent_flags::sequential_download) ? TRUE : FALSE;
        options.seed_mode = (atp.flags & lt::torrent_flags::seed_mode) ? TRUE : FALSE;
        options.super_seeding = (atp.flags & lt::torrent_flags::super_seeding) ? TRUE : FALSE;
        /* running and not managed by the queue */
        options.force_start =
                !(atp.flags & lt::torrent_flags::paused) && !(atp.flags & lt::torrent_flags::auto_managed);
        options.download_limit = atp.download_limit > 0 ? atp.download_limit : 0;
        options.upload_limit = atp.upload_limit > 0 ? atp.upload_limit : 0;
        options.added_time = atp.added_time > 0 ? static_cast<gint64>(atp.added_time) : 0;
        if (!source->priorities.empty()) {
                options.file_priorities = source->priorities.data();
                options.n_file_priorities = source->priorities.size();
        }
        *ret_options = options;
}

extern "C" GBytes *
rv_engine_source_write_resume(RvEngineSource *source, const RvEngineAddOptions *options, GError **error)
{
        g_return_val_if_fail(source != nullptr, nullptr);

        try {
                lt::add_torrent_params atp = source->atp;
                RvEngineAddOptions own;

                if (options == nullptr) {
                        rv_engine_source_get_options(source, &own);
                        options = &own;
                }
                if (options->save_path != nullptr && !rv_engine_save_path_validate(options->save_path, error))
                        return nullptr;
                if (!rv_engine_add_params_apply(atp, options, error))
                        return nullptr;
                std::vector<char> buffer = lt::write_resume_data_buf(atp);
                return g_bytes_new(buffer.data(), buffer.size());
        } catch (...) {
                rv_engine_set_error_from_exception(error, "writing resume data");
                return nullptr;
        }
}

extern "C" void
rv_engine_source_free(RvEngineSource *source)
{
        delete source;
}

extern "C" GBytes *
rv_engine_create_torrent(const char *path, guint piece_size, const char *const *trackers, GError **error)
{
        try {
                if (path == nullptr || path[0] == '\0') {
                        rv_set_invalid(error, "no path to make a torrent of");
                        return nullptr;
                }
                if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
                        g_set_error(error, RV_ERROR, RV_ERROR_NOT_FOUND, "no such file or directory '%s'", path);
                        return nullptr;
                }
                if (piece_size != 0 && (piece_size < 16 * 1024 || (piece_size & (piece_size - 1)) != 0)) {
                        rv_set_invalid(error, "piece size %u is not a power of two of at least 16 KiB", piece_size);
                        return nullptr;
                }
                g_autofree char *full = g_canonicalize_filename(path, nullptr);
                g_autofree char *parent = g_path_get_dirname(full);
                lt::file_storage fs;

                lt::add_files(fs, full);
                if (fs.num_files() == 0) {
                        rv_set_invalid(error, "no files to make a torrent of in '%s'", path);
                        return nullptr;
                }
                lt::create_torrent creator(fs, static_cast<int>(piece_size), lt::create_torrent::v1_only);
                for (int tier = 0; trackers != nullptr && trackers[tier] != nullptr; tier++)
                        creator.add_tracker(trackers[tier], tier);
                creator.set_creator(PACKAGE_NAME " " PACKAGE_VERSION);

                lt::error_code ec;
                lt::set_piece_hashes(creator, parent, ec);
                if (ec) {
                        g_autofree char *what = g_strdup_printf("hashing '%s' failed", path);
                        rv_engine_set_error_from_lt(error, ec, what);
                        return nullptr;
                }
                std::vector<char> buffer;
                lt::bencode(std::back_inserter(buffer), creator.generate());
                return g_bytes_new(buffer.data(), buffer.size());
        } catch (...) {
                g_autofree char *what = g_strdup_printf("making a torrent of '%s'", path);
                rv_engine_set_error_from_exception(error, what);
                return nullptr;
        }
}
