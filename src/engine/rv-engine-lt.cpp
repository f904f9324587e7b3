/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <climits>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sys/statvfs.h>

#include <libtorrent/alert_types.hpp>
#include <libtorrent/fingerprint.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/operations.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_status.hpp>
#include <libtorrent/write_resume_data.hpp>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "rv-engine-source.hpp"

/* how long one dispatch of the alert source may run before it yields to the rest of the loop */
#define RV_LT_DISPATCH_BUDGET_US 3000
/* alerts kept while the main loop is busy; critical ones (adds, removes, resume data) may exceed it */
#define RV_LT_ALERT_QUEUE_SIZE 100000

namespace
{

struct RvLtTorrent {
        /* invalid while the add is in flight */
        lt::torrent_handle handle;
        /* commands given while the add was in flight, run on add_torrent_alert */
        std::vector<std::function<void(const lt::torrent_handle &)>> deferred;
        /* per-torrent limits as set; libtorrent's status does not carry them */
        gint64 download_limit = 0;
        gint64 upload_limit = 0;
        gint64 total_size = 0;
        /* the priorities asked for at add, until METADATA reports them (add_torrent_alert does not carry them) */
        std::vector<lt::download_priority_t> add_priorities;
        /* -1 until the metadata is known */
        int num_files = -1;
        /* first and last pieces first: piece priorities recomputed from the files' whenever either changes */
        bool first_last = false;
        /* a magnet's content layout, applied by file renames when the metadata arrives */
        RvContentLayout layout = RV_CONTENT_LAYOUT_ORIGINAL;
        /* the layout's renames libtorrent has not confirmed, and the folders they leave behind */
        int renames_pending = 0;
        std::vector<std::string> layout_leftovers;
        std::shared_ptr<const lt::torrent_info> ti;
        /* the file priorities as last asked for, empty: all default */
        std::vector<lt::download_priority_t> file_prios;
        /* the target of the last move asked for: libtorrent's failure does not name it */
        std::string move_target;
        /*
         * a write that failed for want of space or permission: libtorrent
         * answers it with upload mode, not an error, and the torrent would
         * look like a download without peers; it is the torrent's error for
         * as long as upload mode lasts (a resume or libtorrent's own retry,
         * optimistic_disk_retry, ends it)
         */
        std::string disk_error;
        /* where the data is, for the disk error's cause (the status is not asked for it) */
        std::string save_path;
        /* removal asked while the add was in flight */
        bool removed = false;
        /* something a resume save would record changed since the last save */
        bool dirty = true;
        /* magnet metadata arrived and waits for validation */
        bool metadata_pending = false;
        /* added paused on the user's behalf of a running torrent, see rv_lt_start() */
        bool start_pending = false;
        /* runs outside the queue: rv_lt_start() leaves it not auto-managed */
        bool force_start = false;
        /* that start was asked for and libtorrent has not yet said it took effect (torrent_resumed_alert) */
        bool start_in_flight = false;
        /* torrent_resumed_alerts of our own making, not the user's news */
        guint swallow_resumed = 0;
        guint user_resume_requests = 0;
        guint internal_resume_requests = 0;
        /*
         * libtorrent says finished once the last piece is hashed, which can be
         * before its write reached the file: finished is told only after
         * flush_cache() answered, so that whoever reads the files then (FsOps)
         * reads the data; 0 when no flush is asked
         */
        gint64 flush_asked = 0;
        bool flushed = false;
};

/* what outlives the engine for work still running on other threads */
struct RvLtShared {
        /* NULL once the engine is gone */
        RvEngine *engine = nullptr;
        std::atomic<int> inflight{ 0 };
};

struct RvLtEngine {
        RvEngine *engine = nullptr;
        std::shared_ptr<RvLtShared> shared;
        std::unique_ptr<lt::session> session;
        std::unordered_map<lt::sha1_hash, RvLtTorrent> torrents;
        /* torrents in the map that are not being removed */
        guint count = 0;
        GSource *alert_source = nullptr;
        GSource *status_source = nullptr;
        guint status_interval_ms = 0;
        /* updates posted often for a moment after a torrent starts, see rv_lt_status_burst() */
        GSource *burst_source = nullptr;
        guint burst_left = 0;
        guint burst_fast_left = 0;
        /* started torrents with no payload yet and until when they wait; see rv_lt_await_payload() */
        std::unordered_map<lt::sha1_hash, gint64> awaiting_payload;
        bool piece_alerts = false;
        bool post_now = false;
        guint16 listen_port = 0;
        /* popped alerts live until the next pop; a busy dispatch resumes where it stopped */
        std::vector<lt::alert *> alerts;
        size_t alert_pos = 0;
        /* the next status of a state_update_alert handled over several dispatches */
        size_t status_pos = 0;
};

struct RvAlertSource {
        GSource source;
        RvEngine *engine;
};

RvLtEngine *
rv_lt_self(RvEngine *engine)
{
        return static_cast<RvLtEngine *>(engine->impl);
}

int
rv_lt_clamp_int(gint64 value)
{
        if (value > INT_MAX)
                return INT_MAX;
        if (value < INT_MIN)
                return INT_MIN;
        return static_cast<int>(value);
}

/* what the main loop turns into events; no per-peer, per-block or tracker chatter */
#define RV_LT_ALERT_MASK                                                                        \
        (lt::alert_category::status | lt::alert_category::error | lt::alert_category::storage | \
         lt::alert_category::file_progress)

lt::settings_pack
rv_lt_settings_pack(const RvEngineSettings *settings, bool initial)
{
        using sp = lt::settings_pack;
        lt::settings_pack pack;
        int policy = sp::pe_enabled;

        if (settings->listen_interfaces != nullptr && settings->listen_interfaces[0] != '\0')
                pack.set_str(sp::listen_interfaces, settings->listen_interfaces);
        else
                pack.set_str(sp::listen_interfaces, "0.0.0.0:6881,[::]:6881");
        pack.set_bool(sp::enable_dht, settings->enable_dht);
        pack.set_bool(sp::enable_lsd, settings->enable_lsd);
        pack.set_bool(sp::enable_upnp, settings->enable_upnp);
        pack.set_bool(sp::enable_natpmp, settings->enable_natpmp);
        /* libtorrent tries uTP first on outgoing connections when it is on; off means TCP only */
        pack.set_bool(sp::enable_outgoing_utp, settings->enable_utp);
        pack.set_bool(sp::enable_incoming_utp, settings->enable_utp);
        pack.set_bool(sp::enable_outgoing_tcp, true);
        pack.set_bool(sp::enable_incoming_tcp, true);
        switch (settings->encryption) {
        case RV_ENCRYPTION_REQUIRE:
                policy = sp::pe_forced;
                break;
        case RV_ENCRYPTION_DISABLE:
                policy = sp::pe_disabled;
                break;
        case RV_ENCRYPTION_PREFER:
        default:
                policy = sp::pe_enabled;
                break;
        }
        pack.set_int(sp::out_enc_policy, policy);
        pack.set_int(sp::in_enc_policy, policy);
        pack.set_int(sp::download_rate_limit, rv_lt_clamp_int(settings->download_rate_limit));
        pack.set_int(sp::upload_rate_limit, rv_lt_clamp_int(settings->upload_rate_limit));
        pack.set_int(sp::active_downloads, settings->active_downloads);
        pack.set_int(sp::active_seeds, settings->active_seeds);
        pack.set_int(sp::active_limit, settings->active_limit);
        pack.set_int(sp::connections_limit, settings->connections_limit);
        /*
         * libtorrent drops peers that offer metadata over its bound, silently;
         * give it twice ours so that an oversized info dict reaches the main
         * thread, where it is refused with METADATA_REJECTED for all to see
         */
        pack.set_int(sp::max_metadata_size, rv_lt_clamp_int(settings->max_metadata_size * 2));
        pack.set_bool(sp::allow_multiple_connections_per_ip, settings->allow_multiple_connections_per_ip);

        if (initial) {
                pack.set_int(sp::alert_mask, RV_LT_ALERT_MASK);
                pack.set_int(sp::alert_queue_size, RV_LT_ALERT_QUEUE_SIZE);
                pack.set_str(sp::user_agent, "Revaer/" PACKAGE_VERSION);
                pack.set_str(sp::peer_fingerprint, lt::generate_fingerprint("RV", 0, 1, 0, 0));
                /* the daemon's shutdown should not wait long for trackers that do not answer */
                pack.set_int(sp::stop_tracker_timeout, 2);
                /*
                 * a pause disconnects every peer, and libtorrent then waits
                 * min_reconnect_time (60 s) before it tries one again: a resume
                 * should resume now; failing peers still back off by their fail count
                 */
                pack.set_int(sp::min_reconnect_time, 2);
                /*
                 * received blocks that may wait for a disk thread before the
                 * peers' sockets are no longer read: libtorrent's 1 MiB is a
                 * few milliseconds of a fast peer, and then every short lag of
                 * the disk threads stalls the download. From a loopback
                 * seeder, 2 GiB in 4 MiB pieces, five interleaved rounds
                 * each, medians: bare libtorrent 384 MB/s and 6.7 CPU-s with
                 * 1 MiB, 459 MB/s and 5.7 CPU-s with 4 MiB, 8, 16 and 64 MiB
                 * no better than 4; revaerd, two such runs, 469 and 424 MB/s
                 * with 1 MiB, 475 and 456 MB/s with 4 (bench/README.md)
                 */
                pack.set_int(sp::max_queued_disk_bytes, 4 * 1024 * 1024);
        }
        return pack;
}

/*
 * libtorrent puts peers on loopback and private networks in an unlimited
 * "local" class by default, so a global rate limit would not hold against a
 * seeder on the LAN; Revaer's limits mean every peer, as users expect them to
 */
void
rv_lt_peer_classes_setup(lt::session &session)
{
        lt::ip_filter filter;
        const std::uint32_t global = 1u << static_cast<std::uint32_t>(lt::session::global_peer_class_id);

        filter.add_rule(lt::make_address("0.0.0.0"), lt::make_address("255.255.255.255"), global);
        filter.add_rule(lt::make_address("::"), lt::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), global);
        session.set_peer_class_filter(filter);
}

RvEncryption
rv_lt_encryption_from_policy(int policy)
{
        switch (policy) {
        case lt::settings_pack::pe_forced:
                return RV_ENCRYPTION_REQUIRE;
        case lt::settings_pack::pe_disabled:
                return RV_ENCRYPTION_DISABLE;
        default:
                return RV_ENCRYPTION_PREFER;
        }
}

RvEngineState
rv_lt_state(lt::torrent_status::state_t state)
{
        switch (state) {
        case lt::torrent_status::checking_resume_data:
                return RV_ENGINE_STATE_CHECKING_RESUME;
        case lt::torrent_status::downloading_metadata:
                return RV_ENGINE_STATE_FETCHING_METADATA;
        case lt::torrent_status::downloading:
                return RV_ENGINE_STATE_DOWNLOADING;
        case lt::torrent_status::finished:
                return RV_ENGINE_STATE_FINISHED;
        case lt::torrent_status::seeding:
                return RV_ENGINE_STATE_SEEDING;
        case lt::torrent_status::checking_files:
        default:
                return RV_ENGINE_STATE_CHECKING_FILES;
        }
}

/*
 * qBittorrent's "first and last piece first": a player can start a file,
 * and read its index at the end, before the rest is there. Each piece gets
 * the highest priority of the files it holds; then the first and last 1% of
 * each wanted file (a piece at least) gets the top one (7). libtorrent
 * recomputes piece priorities from file priorities on prioritize_files(), so
 * this runs after each of those, and when the metadata comes
 */
void
rv_lt_apply_piece_priorities(RvLtTorrent &torrent)
{
        if (!torrent.ti || !torrent.handle.is_valid())
                return;
        const lt::file_storage &fs = torrent.ti->files();
        const int piece_length = torrent.ti->piece_length();
        std::vector<lt::download_priority_t> pieces(static_cast<size_t>(torrent.ti->num_pieces()), lt::dont_download);
        auto prio_of = [&torrent](int file) {
                return file < static_cast<int>(torrent.file_prios.size())
                               ? torrent.file_prios[static_cast<size_t>(file)]
                               : lt::default_priority;
        };
        auto range_of = [&fs](lt::file_index_t f) {
                return std::make_pair(static_cast<int>(fs.map_file(f, 0, 1).piece),
                                      static_cast<int>(fs.map_file(f, fs.file_size(f) - 1, 1).piece));
        };

        for (lt::file_index_t f : fs.file_range()) {
                if (fs.pad_file_at(f) || fs.file_size(f) == 0)
                        continue;
                auto [first, last] = range_of(f);
                for (int p = first; p <= last; p++)
                        pieces[static_cast<size_t>(p)] =
                                std::max(pieces[static_cast<size_t>(p)], prio_of(static_cast<int>(f)));
        }
        for (lt::file_index_t f : fs.file_range()) {
                if (!torrent.first_last)
                        break;
                if (fs.pad_file_at(f) || fs.file_size(f) == 0 || prio_of(static_cast<int>(f)) == lt::dont_download)
                        continue;
                auto [first, last] = range_of(f);
                const gint64 ends = std::max<gint64>(1, (fs.file_size(f) / 100 + piece_length - 1) / piece_length);
                for (gint64 k = 0; k < ends && first + k <= last; k++) {
                        pieces[static_cast<size_t>(first + k)] = lt::top_priority;
                        pieces[static_cast<size_t>(last - k)] = lt::top_priority;
                }
        }
        torrent.handle.prioritize_pieces(pieces);
}

/* after file priorities changed or the metadata came: nothing to do unless first and last pieces come first */
void
rv_lt_apply_first_last(RvLtTorrent &torrent)
{
        if (torrent.first_last)
                rv_lt_apply_piece_priorities(torrent);
}

/* ---- events ---------------------------------------------------------------------------------------------- */

bool
rv_lt_emit_simple(RvEngine *engine, RvEngineEventKind kind, const lt::sha1_hash &key, const GError *error)
{
        RvEngineEvent event{};

        event.kind = kind;
        rv_engine_hash_to_rv(key, &event.hash);
        event.error = error;
        return rv_engine_emit(engine, &event);
}

bool
rv_lt_emit_error(RvEngine *engine, RvEngineEventKind kind, const lt::sha1_hash &key, RvError code,
                 const std::string &message)
{
        g_autoptr(GError) error = g_error_new_literal(RV_ERROR, code, message.c_str());
        return rv_lt_emit_simple(engine, kind, key, error);
}

RvLtTorrent *
rv_lt_find(RvLtEngine *self, const lt::sha1_hash &key)
{
        auto it = self->torrents.find(key);
        if (it == self->torrents.end() || it->second.removed)
                return nullptr;
        return &it->second;
}

RvLtTorrent *
rv_lt_find_handle(RvLtEngine *self, const lt::torrent_handle &handle, lt::sha1_hash &ret_key)
{
        if (!handle.is_valid())
                return nullptr;
        const lt::sha1_hash key = rv_engine_hash_key(handle.info_hashes());
        RvLtTorrent *torrent = rv_lt_find(self, key);
        if (torrent != nullptr)
                ret_key = key;
        return torrent;
}

bool
rv_lt_emit_metadata(RvEngine *engine, const lt::sha1_hash &key, const lt::torrent_info &ti,
                    const std::vector<lt::download_priority_t> &priorities,
                    const std::map<lt::file_index_t, std::string> &renamed)
{
        RvEngineEvent event{};
        const std::string &name = ti.name();

        event.kind = RV_ENGINE_EVENT_METADATA;
        rv_engine_hash_to_rv(key, &event.hash);
        event.name = name.c_str();
        event.files = rv_engine_files_new(ti, priorities, renamed);
        event.total_size = ti.total_size();
        bool alive = rv_engine_emit(engine, &event);
        g_ptr_array_unref(event.files);
        return alive;
}

/*
 * A torrent that starts shows its first payload (and its first peers) when
 * the next status update says so: at the status interval (1 s), that is up
 * to a second after the data arrived. For half a second after a start,
 * updates are posted every 20 ms, the first 20 ms of it every 5 (a first
 * block from a near peer comes 3-8 ms after the start); libtorrent reports
 * only the torrents that changed, so this costs little even when many start
 * at once.
 */
#define RV_LT_BURST_MS 20
#define RV_LT_BURST_FAST_MS 5
#define RV_LT_BURST_FAST_TICKS 4

/*
 * only torrents that changed come back, without piece bitfields, names or
 * paths. Their bytes done count the blocks received and written of pieces not
 * yet checked, as qBittorrent's and Transmission's do (its "unchecked"): a
 * progress bar moves with the data, not by a whole piece once the piece has
 * been hashed, and a torrent's first payload shows a few milliseconds after
 * its first block, not after its first 4 or 16 MiB piece. A piece that fails
 * its check takes its blocks back out.
 */
const lt::status_flags_t RV_LT_STATUS_FLAGS = lt::torrent_handle::query_accurate_download_counters;

void
rv_lt_post_updates(RvLtEngine *self)
{
        try {
                if (self->count > 0)
                        self->session->post_torrent_updates(RV_LT_STATUS_FLAGS);
        } catch (...) {
                g_debug("posting torrent updates failed, ignoring");
        }
}
#define RV_LT_BURST_TICKS 25

gboolean rv_lt_burst_cb(gpointer user_data);

/* the burst's timer, at interval_ms from now on; the one it replaces is gone */
void
rv_lt_burst_arm(RvLtEngine *self, guint interval_ms)
{
        if (self->burst_source != nullptr) {
                g_source_destroy(self->burst_source);
                g_source_unref(self->burst_source);
        }
        self->burst_source = g_timeout_source_new(interval_ms);
        g_source_set_name(self->burst_source, "rv-engine-status-burst");
        g_source_set_callback(self->burst_source, rv_lt_burst_cb, self, nullptr);
        g_source_attach(self->burst_source, self->engine->context);
}

gboolean
rv_lt_burst_cb(gpointer user_data)
{
        RvLtEngine *self = static_cast<RvLtEngine *>(user_data);

        rv_lt_post_updates(self);
        if (self->burst_fast_left > 0) {
                if (--self->burst_fast_left > 0)
                        return G_SOURCE_CONTINUE;
                /* the rest of the burst at its own pace: this source is destroyed by the new one */
                rv_lt_burst_arm(self, RV_LT_BURST_MS);
                return G_SOURCE_REMOVE;
        }
        if (self->burst_left > 0 && --self->burst_left > 0)
                return G_SOURCE_CONTINUE;
        g_clear_pointer(&self->burst_source, g_source_unref);
        return G_SOURCE_REMOVE;
}

/*
 * A torrent's first payload is in its status once its first block is written
 * (RV_LT_STATUS_FLAGS), and is seen at the next update: up to the burst's 20
 * ms later, or up to the interval's second when the first block comes after
 * the burst, as it does in many swarms. So while a started torrent has
 * nothing yet, libtorrent also tells every passed piece, and the first of
 * such a torrent posts an update at once (rv_lt_on_piece_finished()): a
 * block alone is not told, as libtorrent would tell every block of every
 * download while one torrent waits. The
 * alerts go off again when none waits: a running download pays nothing per
 * piece. A torrent waits for RV_LT_AWAIT_PAYLOAD_S at most: a swarm that slow
 * does not make a second matter, and a dead torrent does not keep every other
 * download's pieces told.
 */
#define RV_LT_AWAIT_PAYLOAD_S 30

void
rv_lt_piece_alerts_update(RvLtEngine *self)
{
        const bool want = !self->awaiting_payload.empty();
        lt::settings_pack pack;

        if (want == self->piece_alerts)
                return;
        pack.set_int(lt::settings_pack::alert_mask,
                     want ? RV_LT_ALERT_MASK | lt::alert_category::piece_progress : RV_LT_ALERT_MASK);
        try {
                self->session->apply_settings(std::move(pack));
                self->piece_alerts = want;
        } catch (...) {
                g_debug("changing libtorrent's alert mask failed, ignoring");
        }
}

void
rv_lt_await_payload(RvLtEngine *self, const lt::sha1_hash &key)
{
        if (self->status_interval_ms == 0)
                return;
        self->awaiting_payload[key] = g_get_monotonic_time() + RV_LT_AWAIT_PAYLOAD_S * G_USEC_PER_SEC;
        rv_lt_piece_alerts_update(self);
}

/* the piece a started torrent waited for: its update goes out after this dispatch */
void
rv_lt_on_piece_finished(RvLtEngine *self, const lt::piece_finished_alert *alert)
{
        lt::sha1_hash key;

        if (self->awaiting_payload.empty() || rv_lt_find_handle(self, alert->handle, key) == nullptr)
                return;
        if (self->awaiting_payload.erase(key) > 0)
                self->post_now = true;
}

/* torrents that left the map while they waited, or waited long enough, wait no more */
void
rv_lt_awaiting_prune(RvLtEngine *self)
{
        const gint64 now = g_get_monotonic_time();

        for (auto it = self->awaiting_payload.begin(); it != self->awaiting_payload.end();) {
                if (it->second < now || rv_lt_find(self, it->first) == nullptr)
                        it = self->awaiting_payload.erase(it);
                else
                        ++it;
        }
        rv_lt_piece_alerts_update(self);
}

/* key: the torrent that starts */
void
rv_lt_status_burst(RvLtEngine *self, const lt::sha1_hash &key)
{
        rv_lt_await_payload(self, key);
        self->burst_left = RV_LT_BURST_TICKS;
        if (self->status_interval_ms == 0)
                return;
        /* many starting at once: the first re-arms the fast steps, the others find them running */
        const bool fast = self->burst_source != nullptr && self->burst_fast_left > 0;
        self->burst_fast_left = RV_LT_BURST_FAST_TICKS;
        if (!fast)
                rv_lt_burst_arm(self, RV_LT_BURST_FAST_MS);
}

/*
 * a torrent that starts running straight from the add connects to its peers
 * only on the session's next tick, up to 500 ms later; one that is resumed
 * after its resume data is checked connects at once (libtorrent's connect
 * boost runs on resume), so running torrents are added paused and resumed
 * here: when the check is done, or at once for magnets, which have nothing to
 * check; until then they are reported as running, and the resume is not news.
 *
 * "until then" lasts until libtorrent has done the resume, not until it was
 * asked: set_flags() and resume() run later on the network thread, and a
 * status taken in between (paused, not auto-managed) arrives after this call.
 * Reported as it is, it showed a restored running torrent as "paused" for a
 * status interval. The torrent_resumed_alert of this resume, or a status that
 * is not paused, ends the pretence
 */
void
rv_lt_start(RvLtTorrent &torrent)
{
        if (!torrent.start_pending || !torrent.handle.is_valid())
                return;
        torrent.start_pending = false;
        torrent.start_in_flight = true;
        torrent.swallow_resumed++;
        if (torrent.force_start)
                torrent.handle.unset_flags(lt::torrent_flags::auto_managed);
        else
                torrent.handle.set_flags(lt::torrent_flags::auto_managed);
        torrent.handle.resume();
}

/* running as far as the user knows, though libtorrent holds it paused: see rv_lt_start() */
bool
rv_lt_starting(const RvLtTorrent &torrent)
{
        return torrent.start_pending || torrent.start_in_flight;
}

bool
rv_lt_on_add(RvEngine *engine, const lt::add_torrent_alert *alert)
{
        RvLtEngine *self = rv_lt_self(engine);
        const lt::add_torrent_params &params = alert->params;
        const lt::sha1_hash key = rv_engine_hash_key(params.info_hashes);
        auto it = self->torrents.find(key);

        if (alert->error) {
                if (it != self->torrents.end()) {
                        if (!it->second.removed)
                                self->count--;
                        self->torrents.erase(it);
                }
                RvInfoHash hash;
                rv_engine_hash_to_rv(key, &hash);
                return rv_lt_emit_error(
                        engine, RV_ENGINE_EVENT_ADD_FAILED, key, rv_engine_error_code_from_lt(alert->error),
                        std::string("adding torrent ") + hash.hex + " failed: " + alert->error.message());
        }
        if (it == self->torrents.end())
                return true;
        it->second.handle = alert->handle;
        it->second.save_path = params.save_path;
        rv_lt_apply_first_last(it->second);

        RvEngineEvent event{};
        std::string name = params.ti ? params.ti->name() : params.name;
        event.kind = RV_ENGINE_EVENT_ADDED;
        rv_engine_hash_to_rv(key, &event.hash);
        event.name = name.empty() ? nullptr : name.c_str();
        event.save_path = params.save_path.c_str();
        if (!rv_engine_emit(engine, &event))
                return false;
        if (params.ti) {
                std::vector<lt::download_priority_t> priorities = std::move(it->second.add_priorities);
                it->second.add_priorities.clear();
                if (!rv_lt_emit_metadata(engine, key, *params.ti, priorities, params.renamed_files))
                        return false;
        }

        /* the event func may have removed or replaced the torrent */
        it = self->torrents.find(key);
        if (it == self->torrents.end() || it->second.handle != alert->handle)
                return true;
        auto deferred = std::move(it->second.deferred);
        const bool removed = it->second.removed;
        it->second.deferred.clear();
        if (!removed && !params.ti)
                rv_lt_start(it->second);
        /* a torrent that runs from its add: its first payload shows at once */
        if (!removed && (rv_lt_starting(it->second) || !(params.flags & lt::torrent_flags::paused)))
                rv_lt_status_burst(self, key);
        if (removed)
                self->torrents.erase(it);
        for (auto &op : deferred)
                op(alert->handle);
        return true;
}

/* metadata from the swarm: refuse what a .torrent with the same content would be refused for */
bool
rv_lt_check_metadata(RvEngine *engine, const lt::sha1_hash &key, const lt::torrent_info &ti,
                     const std::vector<lt::download_priority_t> &priorities)
{
        RvLtEngine *self = rv_lt_self(engine);
        g_autoptr(GError) error = nullptr;
        RvLtTorrent *torrent = rv_lt_find(self, key);

        if (torrent == nullptr)
                return true;
        torrent->metadata_pending = false;
        if (!rv_engine_info_section_validate(ti.info_section(), engine->settings.max_metadata_size, &error)) {
                /* out of the session first, so nothing more is downloaded under the refused names */
                self->session->remove_torrent(torrent->handle);
                self->torrents.erase(key);
                self->count--;
                return rv_lt_emit_simple(engine, RV_ENGINE_EVENT_METADATA_REJECTED, key, error);
        }
        torrent->total_size = ti.total_size();
        torrent->num_files = ti.num_files();
        torrent->dirty = true;
        /*
         * libtorrent downloads from the moment it has the metadata, before
         * this alert is handled: the first pieces may be written under the
         * metadata's names. rename_file() moves them (it is ordered with the
         * writes on the disk thread); the folders they were in are removed
         * once every rename is done, when empty.
         */
        std::map<lt::file_index_t, std::string> renames = rv_engine_layout_renames(ti, torrent->layout);
        for (const auto &rename : renames) {
                std::string dir = ti.orig_files().file_path(rename.first, "");
                for (auto slash = dir.rfind('/'); slash != std::string::npos && slash > 0; slash = dir.rfind('/')) {
                        dir.resize(slash);
                        torrent->layout_leftovers.push_back(dir);
                }
                torrent->handle.rename_file(rename.first, rename.second);
        }
        torrent->renames_pending = static_cast<int>(renames.size());
        return rv_lt_emit_metadata(engine, key, ti, priorities, renames);
}

bool
rv_lt_on_metadata_received(RvEngine *engine, const lt::metadata_received_alert *alert)
{
        RvLtEngine *self = rv_lt_self(engine);
        lt::sha1_hash key;
        RvLtTorrent *torrent = rv_lt_find_handle(self, alert->handle, key);

        if (torrent == nullptr)
                return true;
        /*
         * torrent_file() would be a blocking round trip to the network thread;
         * resume data with the info dict carries the same torrent_info and
         * arrives as an alert like everything else
         */
        torrent->metadata_pending = true;
        torrent->internal_resume_requests++;
        alert->handle.save_resume_data(lt::torrent_handle::save_info_dict);
        return true;
}

bool
rv_lt_on_resume_data(RvEngine *engine, const lt::save_resume_data_alert *alert)
{
        RvLtEngine *self = rv_lt_self(engine);
        const lt::sha1_hash key = rv_engine_hash_key(alert->params.info_hashes);
        RvLtTorrent *torrent = rv_lt_find(self, key);
        bool for_user = false;

        if (torrent == nullptr)
                return true;
        if (torrent->user_resume_requests > 0) {
                torrent->user_resume_requests--;
                for_user = true;
        } else if (torrent->internal_resume_requests > 0) {
                torrent->internal_resume_requests--;
        }
        if (torrent->metadata_pending && alert->params.ti) {
                /* before METADATA goes out: the core may set file priorities when it hears it */
                torrent->ti = alert->params.ti;
                torrent->file_prios = alert->params.file_priorities;
                if (!rv_lt_check_metadata(engine, key, *alert->params.ti, alert->params.file_priorities))
                        return false;
                torrent = rv_lt_find(self, key);
                if (torrent == nullptr)
                        return true;
                rv_lt_apply_first_last(*torrent);
        }
        if (!for_user)
                return true;

        std::vector<char> buffer;
        if (rv_lt_starting(*torrent)) {
                /* say what the user asked for, not the pause of rv_lt_start() */
                lt::add_torrent_params params = alert->params;
                params.flags &= ~lt::torrent_flags::paused;
                params.flags |= lt::torrent_flags::auto_managed;
                buffer = lt::write_resume_data_buf(params);
        } else {
                buffer = lt::write_resume_data_buf(alert->params);
        }
        RvEngineEvent event{};
        event.kind = RV_ENGINE_EVENT_RESUME_DATA;
        rv_engine_hash_to_rv(key, &event.hash);
        event.resume_data = g_bytes_new(buffer.data(), buffer.size());
        bool alive = rv_engine_emit(engine, &event);
        g_bytes_unref(event.resume_data);
        return alive;
}

bool
rv_lt_on_resume_data_failed(RvEngine *engine, const lt::save_resume_data_failed_alert *alert)
{
        RvLtEngine *self = rv_lt_self(engine);
        lt::sha1_hash key;
        RvLtTorrent *torrent = rv_lt_find_handle(self, alert->handle, key);

        if (torrent == nullptr)
                return true;
        if (torrent->user_resume_requests > 0) {
                torrent->user_resume_requests--;
                torrent->dirty = true;
                return rv_lt_emit_error(engine, RV_ENGINE_EVENT_RESUME_DATA_FAILED, key,
                                        rv_engine_error_code_from_lt(alert->error),
                                        "saving resume data failed: " + alert->error.message());
        }
        if (torrent->internal_resume_requests > 0)
                torrent->internal_resume_requests--;
        if (torrent->metadata_pending && torrent->internal_resume_requests == 0) {
                /* rare: fall back to the blocking copy rather than never validating */
                std::shared_ptr<const lt::torrent_info> ti = alert->handle.torrent_file();
                if (ti) {
                        torrent->ti = ti;
                        if (!rv_lt_check_metadata(engine, key, *ti, {}))
                                return false;
                        torrent = rv_lt_find(self, key);
                        if (torrent != nullptr)
                                rv_lt_apply_first_last(*torrent);
                }
        }
        return true;
}

/*
 * libtorrent writes through memory maps: a full file system shows as a
 * fault on the mapping (EFAULT, "Bad address"), which says nothing to a
 * user (nor does libtorrent always name the file). When the file system of
 * the torrent's folder has (nearly) no space left, that is the cause.
 */
static std::string
rv_lt_disk_error_message(const lt::error_code &ec, const std::string &dir)
{
        struct statvfs sv;

        /* nearly: the pages of a fault may not be all that was wanted */
        if (ec == boost::system::errc::bad_address && !dir.empty() && statvfs(dir.c_str(), &sv) == 0 &&
            static_cast<guint64>(sv.f_bavail) * sv.f_frsize < 16 * 1024 * 1024)
                return g_strerror(ENOSPC);
        return ec.message();
}

/* finished as libtorrent says, held back until the flush of the files answered (or 10 s passed) */
static gboolean
rv_lt_finished_on_disk(RvLtTorrent &torrent, bool finished)
{
        const gint64 now = g_get_monotonic_time();

        if (!finished) {
                torrent.flushed = false;
                torrent.flush_asked = 0;
                return FALSE;
        }
        if (torrent.flushed)
                return TRUE;
        if (torrent.flush_asked == 0 && torrent.handle.is_valid()) {
                torrent.flush_asked = now;
                try {
                        torrent.handle.flush_cache();
                } catch (...) {
                        /* the torrent left the session: nobody reads its files */
                }
        } else if (torrent.flush_asked != 0 && now - torrent.flush_asked > 10 * G_USEC_PER_SEC) {
                torrent.flushed = true;
        }
        return torrent.flushed ? TRUE : FALSE;
}

/* one torrent's status as a STATUS event; FALSE when the event func freed the engine */
static bool
rv_lt_emit_status(RvEngine *engine, RvLtTorrent &torrent, const lt::sha1_hash &key, const lt::torrent_status &st)
{
        RvEngineStatus status{};
        RvEngineEvent event{};

        if (st.need_save_resume)
                torrent.dirty = true;
        /* taken after the start took effect */
        if (!(st.flags & lt::torrent_flags::paused))
                torrent.start_in_flight = false;
        const bool starting = rv_lt_starting(torrent);
        rv_engine_hash_to_rv(key, &status.hash);
        status.state = rv_lt_state(st.state);
        status.paused = (st.flags & lt::torrent_flags::paused) && !starting ? TRUE : FALSE;
        status.auto_managed = (st.flags & lt::torrent_flags::auto_managed) || starting ? TRUE : FALSE;
        status.sequential = (st.flags & lt::torrent_flags::sequential_download) ? TRUE : FALSE;
        status.super_seeding = (st.flags & lt::torrent_flags::super_seeding) ? TRUE : FALSE;
        status.has_metadata = st.has_metadata;
        status.is_finished = rv_lt_finished_on_disk(torrent, st.is_finished);
        status.is_seeding = st.is_seeding;
        status.moving_storage = st.moving_storage;
        status.need_save_resume = st.need_save_resume;
        status.total_size = torrent.total_size;
        status.total_wanted = st.total_wanted;
        status.total_wanted_done = st.total_wanted_done;
        status.total_done = st.total_done;
        /* payload, or nothing more to come until a start: no need of passed pieces told */
        if (st.total_wanted_done > 0 || st.is_finished || status.paused)
                rv_lt_self(engine)->awaiting_payload.erase(key);
        if (st.total_wanted > 0)
                status.progress = static_cast<double>(st.total_wanted_done) / static_cast<double>(st.total_wanted);
        else
                status.progress = st.is_finished ? 1.0 : 0.0;
        status.download_rate = st.download_payload_rate;
        status.upload_rate = st.upload_payload_rate;
        status.all_time_download = st.all_time_download;
        status.all_time_upload = st.all_time_upload;
        status.num_peers = st.num_peers;
        status.num_seeds = st.num_seeds;
        status.queue_position = static_cast<int>(st.queue_position);
        status.added_time = st.added_time;
        status.completed_time = st.completed_time;
        /* libtorrent's clock is monotonic: its time points become wall-clock seconds here */
        if (st.last_upload.time_since_epoch().count() != 0)
                status.last_upload =
                        g_get_real_time() / G_USEC_PER_SEC -
                        std::chrono::duration_cast<std::chrono::seconds>(lt::clock_type::now() - st.last_upload)
                                .count();
        status.download_limit = torrent.download_limit;
        status.upload_limit = torrent.upload_limit;
        if (st.errc)
                status.error = g_strdup(!torrent.disk_error.empty()
                                                ? torrent.disk_error.c_str()
                                                : rv_lt_disk_error_message(st.errc, torrent.save_path).c_str());
        else if ((st.flags & lt::torrent_flags::upload_mode) && !torrent.disk_error.empty())
                status.error = g_strdup(torrent.disk_error.c_str());
        else
                torrent.disk_error.clear();
        if (!st.current_tracker.empty())
                status.current_tracker = g_strdup(st.current_tracker.c_str());

        event.kind = RV_ENGINE_EVENT_STATUS;
        event.hash = status.hash;
        event.status = &status;
        bool alive = rv_engine_emit(engine, &event);
        rv_engine_status_clear(&status);
        return alive;
}

bool
rv_lt_on_state_update(RvEngine *engine, const lt::state_update_alert *alert, gint64 deadline, bool *ret_done)
{
        RvLtEngine *self = rv_lt_self(engine);

        *ret_done = false;
        while (self->status_pos < alert->status.size()) {
                const lt::torrent_status &st = alert->status[self->status_pos++];
                const lt::sha1_hash key = rv_engine_hash_key(st.info_hashes);
                RvLtTorrent *torrent = rv_lt_find(self, key);

                if (torrent == nullptr)
                        continue;
                if (!rv_lt_emit_status(engine, *torrent, key, st))
                        return false;
                /* 10,000 torrents resumed at once come back in one alert: the rest in the next dispatch */
                if (self->status_pos % 8 == 0 && g_get_monotonic_time() > deadline)
                        return true;
        }
        self->status_pos = 0;
        *ret_done = true;
        return true;
}

/* a layout rename done or failed: after the last, the metadata's folders go when empty */
void
rv_lt_on_layout_renamed(RvLtEngine *self, const lt::torrent_handle &handle)
{
        lt::sha1_hash key;
        RvLtTorrent *torrent = rv_lt_find_handle(self, handle, key);

        if (torrent == nullptr || torrent->renames_pending == 0 || --torrent->renames_pending > 0)
                return;
        std::vector<std::string> dirs = std::move(torrent->layout_leftovers);
        torrent->layout_leftovers.clear();
        /* deepest first; a folder that still holds something stays */
        std::sort(dirs.begin(), dirs.end(),
                  [](const std::string &a, const std::string &b) { return a.size() > b.size(); });
        for (const std::string &dir : dirs) {
                g_autofree char *path = g_build_filename(torrent->save_path.c_str(), dir.c_str(), nullptr);
                (void)g_rmdir(path);
        }
        torrent->dirty = true;
}

/* one alert to zero or more events; FALSE when the event func freed the engine */
bool
rv_lt_handle_alert(RvEngine *engine, lt::alert *alert)
{
        RvLtEngine *self = rv_lt_self(engine);
        lt::sha1_hash key;

        switch (alert->type()) {
        case lt::add_torrent_alert::alert_type:
                return rv_lt_on_add(engine, lt::alert_cast<lt::add_torrent_alert>(alert));
        case lt::metadata_received_alert::alert_type:
                return rv_lt_on_metadata_received(engine, lt::alert_cast<lt::metadata_received_alert>(alert));
        case lt::save_resume_data_alert::alert_type:
                return rv_lt_on_resume_data(engine, lt::alert_cast<lt::save_resume_data_alert>(alert));
        case lt::save_resume_data_failed_alert::alert_type:
                return rv_lt_on_resume_data_failed(engine, lt::alert_cast<lt::save_resume_data_failed_alert>(alert));
        case lt::file_renamed_alert::alert_type:
                rv_lt_on_layout_renamed(self, lt::alert_cast<lt::file_renamed_alert>(alert)->handle);
                return true;
        case lt::file_rename_failed_alert::alert_type:
                rv_lt_on_layout_renamed(self, lt::alert_cast<lt::file_rename_failed_alert>(alert)->handle);
                return true;
        case lt::torrent_finished_alert::alert_type: {
                auto *a = lt::alert_cast<lt::torrent_finished_alert>(alert);
                RvLtTorrent *torrent = rv_lt_find_handle(self, a->handle, key);
                if (torrent == nullptr)
                        return true;
                torrent->dirty = true;
                return rv_lt_emit_simple(engine, RV_ENGINE_EVENT_FINISHED, key, nullptr);
        }
        case lt::cache_flushed_alert::alert_type: {
                auto *a = lt::alert_cast<lt::cache_flushed_alert>(alert);
                RvLtTorrent *torrent = rv_lt_find_handle(self, a->handle, key);
                if (torrent == nullptr || torrent->flush_asked == 0 || torrent->flushed)
                        return true;
                torrent->flushed = true;
                /*
                 * libtorrent's next update leaves out a torrent whose status did
                 * not change: this one says finished; the handle throws when the
                 * torrent left meanwhile (removed, the session stopping)
                 */
                lt::torrent_status st;
                try {
                        st = a->handle.status();
                } catch (...) {
                        return true;
                }
                return rv_lt_emit_status(engine, *torrent, key, st);
        }
        case lt::torrent_checked_alert::alert_type: {
                auto *a = lt::alert_cast<lt::torrent_checked_alert>(alert);
                RvLtTorrent *torrent = rv_lt_find_handle(self, a->handle, key);
                if (torrent != nullptr)
                        rv_lt_start(*torrent);
                return true;
        }
        case lt::state_changed_alert::alert_type: {
                auto *a = lt::alert_cast<lt::state_changed_alert>(alert);
                RvLtTorrent *torrent = rv_lt_find_handle(self, a->handle, key);
                /* a paused torrent does not run a full check: start it so that it can */
                if (torrent != nullptr && a->state != lt::torrent_status::checking_resume_data)
                        rv_lt_start(*torrent);
                return true;
        }
        case lt::torrent_paused_alert::alert_type:
        case lt::torrent_resumed_alert::alert_type: {
                auto *a = static_cast<lt::torrent_alert *>(alert);
                RvLtTorrent *torrent = rv_lt_find_handle(self, a->handle, key);
                if (torrent == nullptr)
                        return true;
                if (alert->type() == lt::torrent_resumed_alert::alert_type && torrent->swallow_resumed > 0) {
                        torrent->swallow_resumed--;
                        torrent->start_in_flight = false;
                        return true;
                }
                return rv_lt_emit_simple(engine,
                                         alert->type() == lt::torrent_paused_alert::alert_type
                                                 ? RV_ENGINE_EVENT_PAUSED
                                                 : RV_ENGINE_EVENT_RESUMED,
                                         key, nullptr);
        }
        case lt::torrent_removed_alert::alert_type: {
                auto *a = lt::alert_cast<lt::torrent_removed_alert>(alert);
                return rv_lt_emit_simple(engine, RV_ENGINE_EVENT_REMOVED, rv_engine_hash_key(a->info_hashes), nullptr);
        }
        case lt::torrent_deleted_alert::alert_type: {
                auto *a = lt::alert_cast<lt::torrent_deleted_alert>(alert);
                return rv_lt_emit_simple(engine, RV_ENGINE_EVENT_FILES_DELETED, rv_engine_hash_key(a->info_hashes),
                                         nullptr);
        }
        case lt::torrent_delete_failed_alert::alert_type: {
                auto *a = lt::alert_cast<lt::torrent_delete_failed_alert>(alert);
                return rv_lt_emit_error(engine, RV_ENGINE_EVENT_FILES_DELETE_FAILED, rv_engine_hash_key(a->info_hashes),
                                        rv_engine_error_code_from_lt(a->error),
                                        "deleting files failed: " + a->error.message());
        }
        case lt::torrent_error_alert::alert_type: {
                auto *a = lt::alert_cast<lt::torrent_error_alert>(alert);
                if (rv_lt_find_handle(self, a->handle, key) == nullptr)
                        return true;
                std::string message = a->error.message();
                if (a->filename() != nullptr && a->filename()[0] != '\0')
                        message += std::string(" (") + a->filename() + ")";
                return rv_lt_emit_error(engine, RV_ENGINE_EVENT_ERROR, key, rv_engine_error_code_from_lt(a->error),
                                        message);
        }
        case lt::file_error_alert::alert_type: {
                auto *a = lt::alert_cast<lt::file_error_alert>(alert);
                RvLtTorrent *torrent = rv_lt_find_handle(self, a->handle, key);
                if (torrent == nullptr)
                        return true;
                const std::string file = a->filename();
                std::string message = std::string(lt::operation_name(a->op)) + " '" + file +
                                      "' failed: " + rv_lt_disk_error_message(a->error, torrent->save_path);
                torrent->disk_error = message;
                return rv_lt_emit_error(engine, RV_ENGINE_EVENT_ERROR, key, rv_engine_error_code_from_lt(a->error),
                                        message);
        }
        case lt::storage_moved_alert::alert_type: {
                auto *a = lt::alert_cast<lt::storage_moved_alert>(alert);
                RvLtTorrent *torrent = rv_lt_find_handle(self, a->handle, key);
                if (torrent == nullptr)
                        return true;
                torrent->dirty = true;
                torrent->save_path = a->storage_path();
                RvEngineEvent event{};
                event.kind = RV_ENGINE_EVENT_STORAGE_MOVED;
                rv_engine_hash_to_rv(key, &event.hash);
                event.save_path = a->storage_path();
                return rv_engine_emit(engine, &event);
        }
        case lt::storage_moved_failed_alert::alert_type: {
                auto *a = lt::alert_cast<lt::storage_moved_failed_alert>(alert);
                RvLtTorrent *torrent = rv_lt_find_handle(self, a->handle, key);
                if (torrent == nullptr)
                        return true;
                /* the file is empty when the target itself failed (creating it, say) */
                std::string message =
                        "moving the data to '" + torrent->move_target + "' failed: " + lt::operation_name(a->op);
                if (a->file_path() != nullptr && a->file_path()[0] != '\0')
                        message += std::string(" '") + a->file_path() + "'";
                message += ": " + a->error.message();
                return rv_lt_emit_error(engine, RV_ENGINE_EVENT_STORAGE_MOVE_FAILED, key,
                                        rv_engine_error_code_from_lt(a->error), message);
        }
        case lt::session_stats_alert::alert_type: {
                RvEngineEvent event{};
                event.kind = RV_ENGINE_EVENT_PROBE;
                return rv_engine_emit(engine, &event);
        }
        case lt::listen_succeeded_alert::alert_type: {
                auto *a = lt::alert_cast<lt::listen_succeeded_alert>(alert);
                if (a->socket_type != lt::socket_type_t::tcp)
                        return true;
                self->listen_port = static_cast<guint16>(a->port);
                RvEngineEvent event{};
                event.kind = RV_ENGINE_EVENT_LISTEN_SUCCEEDED;
                event.listen_port = self->listen_port;
                return rv_engine_emit(engine, &event);
        }
        case lt::listen_failed_alert::alert_type: {
                auto *a = lt::alert_cast<lt::listen_failed_alert>(alert);
                g_autoptr(GError) error = g_error_new(RV_ERROR, rv_engine_error_code_from_lt(a->error),
                                                      "listening on %s port %d failed: %s", a->listen_interface(),
                                                      a->port, a->error.message().c_str());
                RvEngineEvent event{};
                event.kind = RV_ENGINE_EVENT_LISTEN_FAILED;
                event.error = error;
                return rv_engine_emit(engine, &event);
        }
        case lt::piece_finished_alert::alert_type:
                rv_lt_on_piece_finished(self, lt::alert_cast<lt::piece_finished_alert>(alert));
                return true;
        case lt::alerts_dropped_alert::alert_type:
                g_debug("libtorrent dropped alerts: the main loop fell behind, ignoring");
                return true;
        default:
                return true;
        }
}

gboolean
rv_lt_alert_dispatch_cb(GSource *source, GSourceFunc callback, gpointer user_data)
{
        RvEngine *engine = reinterpret_cast<RvAlertSource *>(source)->engine;
        RvLtEngine *self = rv_lt_self(engine);

        try {
                if (self->alert_pos >= self->alerts.size()) {
                        /* disarm before popping: an alert posted after the pop re-arms it */
                        g_source_set_ready_time(source, -1);
                        self->session->pop_alerts(&self->alerts);
                        self->alert_pos = 0;
                }
                const gint64 deadline = g_get_monotonic_time() + RV_LT_DISPATCH_BUDGET_US;
                guint handled = 0;
                while (self->alert_pos < self->alerts.size()) {
                        lt::alert *alert = self->alerts[self->alert_pos];
                        if (alert->type() == lt::state_update_alert::alert_type) {
                                bool done = false;
                                if (!rv_lt_on_state_update(engine, lt::alert_cast<lt::state_update_alert>(alert),
                                                           deadline, &done))
                                        return G_SOURCE_CONTINUE;
                                if (!done)
                                        break;
                                self->alert_pos++;
                                continue;
                        }
                        self->alert_pos++;
                        if (!rv_lt_handle_alert(engine, alert))
                                return G_SOURCE_CONTINUE;
                        if (++handled % 32 == 0 && g_get_monotonic_time() > deadline)
                                break;
                }
                if (self->alert_pos < self->alerts.size())
                        g_source_set_ready_time(source, 0);
                /* one update for all the first pieces of this dispatch */
                if (self->post_now) {
                        self->post_now = false;
                        rv_lt_post_updates(self);
                }
                rv_lt_piece_alerts_update(self);
        } catch (...) {
                g_autoptr(GError) error = nullptr;
                rv_engine_set_error_from_exception(&error, "handling libtorrent alerts");
                g_debug("%s, ignoring", error->message);
        }
        return G_SOURCE_CONTINUE;
}

GSourceFuncs rv_lt_alert_source_funcs = {
        nullptr, nullptr, rv_lt_alert_dispatch_cb, nullptr, nullptr, nullptr,
};

gboolean
rv_lt_status_cb(gpointer user_data)
{
        RvLtEngine *self = static_cast<RvLtEngine *>(user_data);

        rv_lt_post_updates(self);
        rv_lt_awaiting_prune(self);
        return G_SOURCE_CONTINUE;
}

void
rv_lt_status_timer_start(RvLtEngine *self, guint interval_ms)
{
        if (self->status_source != nullptr && self->status_interval_ms == interval_ms)
                return;
        if (self->status_source != nullptr) {
                g_source_destroy(self->status_source);
                g_clear_pointer(&self->status_source, g_source_unref);
        }
        self->status_interval_ms = interval_ms;
        if (interval_ms == 0)
                return;
        self->status_source = g_timeout_source_new(interval_ms);
        g_source_set_name(self->status_source, "rv-engine-status");
        g_source_set_callback(self->status_source, rv_lt_status_cb, self, nullptr);
        g_source_attach(self->status_source, self->engine->context);
}

/* ---- vtable ---------------------------------------------------------------------------------------------- */

void
rv_lt_free(RvEngine *engine)
{
        RvLtEngine *self = rv_lt_self(engine);

        if (self == nullptr)
                return;
        if (self->status_source != nullptr) {
                g_source_destroy(self->status_source);
                g_clear_pointer(&self->status_source, g_source_unref);
        }
        if (self->burst_source != nullptr) {
                g_source_destroy(self->burst_source);
                g_clear_pointer(&self->burst_source, g_source_unref);
        }
        if (self->shared) {
                self->shared->engine = nullptr;
                /* file progress requests block on the network thread: let them finish while it runs */
                while (self->shared->inflight > 0)
                        g_usleep(1000);
        }
        try {
                if (self->session) {
                        /* no wake-ups into a source that is about to go */
                        self->session->set_alert_notify([] {});
                        self->alerts.clear();
                        /*
                         * libtorrent's abort takes each torrent out of the
                         * download queue in its own order and renumbers the
                         * rest every time: quadratic, 1.5 s with 10,000
                         * torrents. Removed from the back of the queue
                         * first, nothing is renumbered.
                         */
                        std::vector<lt::torrent_status> all = self->session->get_torrent_status(
                                [](const lt::torrent_status &) { return true; }, lt::status_flags_t{});
                        std::sort(all.begin(), all.end(), [](const lt::torrent_status &a, const lt::torrent_status &b) {
                                return a.queue_position > b.queue_position;
                        });
                        for (const lt::torrent_status &st : all)
                                self->session->remove_torrent(st.handle);
                        self->session.reset();
                }
        } catch (...) {
                g_debug("closing the libtorrent session failed, ignoring");
        }
        if (self->alert_source != nullptr) {
                g_source_destroy(self->alert_source);
                g_clear_pointer(&self->alert_source, g_source_unref);
        }
        delete self;
        engine->impl = nullptr;
}

gboolean
rv_lt_apply_settings(RvEngine *engine, const RvEngineSettings *settings, GError **error)
{
        RvLtEngine *self = rv_lt_self(engine);

        try {
                /* apply_settings() only posts to the network thread: cheap enough for a hot reload */
                self->session->apply_settings(rv_lt_settings_pack(settings, false));
                rv_lt_status_timer_start(self, settings->status_interval_ms);
                return TRUE;
        } catch (...) {
                rv_engine_set_error_from_exception(error, "applying settings");
                return FALSE;
        }
}

void
rv_lt_get_settings(RvEngine *engine, RvEngineSettings *ret_settings)
{
        using sp = lt::settings_pack;
        RvLtEngine *self = rv_lt_self(engine);
        RvEngineSettings settings;

        rv_engine_settings_copy(&settings, &engine->settings);
        try {
                lt::settings_pack pack = self->session->get_settings();
                g_free(settings.listen_interfaces);
                settings.listen_interfaces = g_strdup(pack.get_str(sp::listen_interfaces).c_str());
                settings.enable_dht = pack.get_bool(sp::enable_dht);
                settings.enable_lsd = pack.get_bool(sp::enable_lsd);
                settings.enable_upnp = pack.get_bool(sp::enable_upnp);
                settings.enable_natpmp = pack.get_bool(sp::enable_natpmp);
                settings.enable_utp = pack.get_bool(sp::enable_outgoing_utp) || pack.get_bool(sp::enable_incoming_utp);
                settings.encryption = rv_lt_encryption_from_policy(pack.get_int(sp::out_enc_policy));
                settings.download_rate_limit = pack.get_int(sp::download_rate_limit);
                settings.upload_rate_limit = pack.get_int(sp::upload_rate_limit);
                settings.active_downloads = pack.get_int(sp::active_downloads);
                settings.active_seeds = pack.get_int(sp::active_seeds);
                settings.active_limit = pack.get_int(sp::active_limit);
                settings.connections_limit = pack.get_int(sp::connections_limit);
                settings.max_metadata_size = pack.get_int(sp::max_metadata_size) / 2;
                settings.allow_multiple_connections_per_ip = pack.get_bool(sp::allow_multiple_connections_per_ip);
                settings.status_interval_ms = self->status_interval_ms;
        } catch (...) {
                g_debug("reading settings back from libtorrent failed, ignoring");
        }
        *ret_settings = settings;
}

guint16
rv_lt_get_listen_port(RvEngine *engine)
{
        return rv_lt_self(engine)->listen_port;
}

gboolean
rv_lt_add(RvEngine *engine, RvEngineSource *source, const RvEngineAddOptions *options, GError **error)
{
        std::unique_ptr<RvEngineSource> owned(source);

        try {
                RvLtEngine *self = rv_lt_self(engine);
                const lt::sha1_hash key = rv_engine_hash_key(source->atp.info_hashes);
                RvEngineAddOptions own;

                if (self->torrents.find(key) != self->torrents.end()) {
                        g_set_error(error, RV_ERROR, RV_ERROR_CONFLICT, "torrent %s is already in the engine",
                                    source->info.hash.hex);
                        return FALSE;
                }
                if (options == nullptr) {
                        rv_engine_source_get_options(source, &own);
                        options = &own;
                }
                lt::add_torrent_params atp = std::move(source->atp);
                if (!rv_engine_add_params_apply(atp, options, error))
                        return FALSE;
                if (!rv_engine_save_path_validate(atp.save_path.c_str(), error))
                        return FALSE;
                atp.flags |= lt::torrent_flags::update_subscribe | lt::torrent_flags::duplicate_is_error;

                RvLtTorrent torrent;
                /*
                 * what came from a resume blob is saved already, and callers persist
                 * rv_engine_source_write_resume() at add: nothing is new until libtorrent says so
                 * (need_save_resume) or a command changes something
                 */
                torrent.dirty = false;
                if (!options->paused && !options->seed_mode) {
                        /* see rv_lt_start(); a seed in seed mode has nothing to download and nothing to check */
                        torrent.start_pending = true;
                        atp.flags |= lt::torrent_flags::paused;
                        atp.flags &= ~lt::torrent_flags::auto_managed;
                }
                torrent.download_limit = options->download_limit;
                torrent.upload_limit = options->upload_limit;
                torrent.force_start = !options->paused && options->force_start;
                if (torrent.force_start && !torrent.start_pending)
                        atp.flags &= ~lt::torrent_flags::auto_managed;
                torrent.first_last = options->first_last_piece;
                /* with metadata the layout is in atp.renamed_files already (rv_engine_source_set_content_layout) */
                if (!atp.ti)
                        torrent.layout = options->content_layout;
                if (atp.ti) {
                        torrent.total_size = atp.ti->total_size();
                        torrent.num_files = atp.ti->num_files();
                        torrent.add_priorities = atp.file_priorities;
                        torrent.file_prios = atp.file_priorities;
                        torrent.ti = atp.ti;
                }
                self->session->async_add_torrent(std::move(atp));
                self->torrents.emplace(key, std::move(torrent));
                self->count++;
                return TRUE;
        } catch (...) {
                rv_engine_set_error_from_exception(error, "adding torrent");
                return FALSE;
        }
}

/* a resume or forced start was asked: its status shows soon */
gboolean
rv_lt_started(RvEngine *engine, const RvInfoHash *hash)
{
        rv_lt_status_burst(rv_lt_self(engine), rv_engine_hash_from_rv(hash));
        return TRUE;
}

/*
 * run op on the torrent's handle, now or, while the add is still in flight,
 * when add_torrent_alert brings the handle; update runs at once on the record
 */
gboolean
rv_lt_with_torrent(RvEngine *engine, const RvInfoHash *hash, const char *what, GError **error,
                   const std::function<bool(RvLtTorrent &, GError **)> &update,
                   std::function<void(const lt::torrent_handle &)> op)
{
        try {
                RvLtEngine *self = rv_lt_self(engine);
                RvLtTorrent *torrent = rv_lt_find(self, rv_engine_hash_from_rv(hash));

                if (torrent == nullptr) {
                        rv_info_hash_set_error_not_found(error, hash);
                        return FALSE;
                }
                if (update && !update(*torrent, error))
                        return FALSE;
                torrent->dirty = true;
                if (torrent->handle.is_valid())
                        op(torrent->handle);
                else
                        torrent->deferred.push_back(std::move(op));
                return TRUE;
        } catch (...) {
                rv_engine_set_error_from_exception(error, what);
                return FALSE;
        }
}

gboolean
rv_lt_pause(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        try {
                RvLtTorrent *torrent = rv_lt_find(rv_lt_self(engine), rv_engine_hash_from_rv(hash));

                if (torrent == nullptr) {
                        rv_info_hash_set_error_not_found(error, hash);
                        return FALSE;
                }
                /* running as far as the user knows: make it a real pause, with its PAUSED */
                const bool was_pending = torrent->start_pending;
                if (was_pending) {
                        torrent->start_pending = false;
                        torrent->swallow_resumed++;
                }
                /* from here a status that says paused is the truth */
                torrent->start_in_flight = false;
                torrent->force_start = false;
                torrent->dirty = true;
                auto op = [was_pending](const lt::torrent_handle &h) {
                        if (was_pending)
                                h.resume();
                        h.unset_flags(lt::torrent_flags::auto_managed);
                        h.pause();
                };
                if (torrent->handle.is_valid())
                        op(torrent->handle);
                else
                        torrent->deferred.emplace_back(std::move(op));
                return TRUE;
        } catch (...) {
                rv_engine_set_error_from_exception(error, "pausing torrent");
                return FALSE;
        }
}

gboolean
rv_lt_resume(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        try {
                return rv_lt_with_torrent(
                               engine, hash, "resuming torrent", error,
                               [](RvLtTorrent &torrent, GError **) {
                                       /* running as far as the user knows: no RESUMED, as libtorrent would not say it
                                        */
                                       if (torrent.start_pending) {
                                               torrent.start_pending = false;
                                               torrent.start_in_flight = true;
                                               torrent.swallow_resumed++;
                                       }
                                       torrent.disk_error.clear();
                                       torrent.force_start = false;
                                       return true;
                               },
                               [](const lt::torrent_handle &h) {
                                       /* a disk error stops a torrent (its error, or upload mode) until a resume */
                                       h.clear_error();
                                       h.unset_flags(lt::torrent_flags::upload_mode);
                                       h.set_flags(lt::torrent_flags::auto_managed);
                                       h.resume();
                               }) &&
                       rv_lt_started(engine, hash);
        } catch (...) {
                rv_engine_set_error_from_exception(error, "resuming torrent");
                return FALSE;
        }
}

/*
 * a forced torrent is one libtorrent's queue does not manage: it runs
 * although active_downloads or active_seeds are reached. Off, it is
 * auto-managed again and the queue decides whether it runs now. A start
 * still pending (see rv_lt_start()) happens now, forced or not
 */
gboolean
rv_lt_set_force_start(RvEngine *engine, const RvInfoHash *hash, gboolean force, GError **error)
{
        try {
                return rv_lt_with_torrent(
                               engine, hash, "forcing a start", error,
                               [force](RvLtTorrent &torrent, GError **) {
                                       if (torrent.start_pending) {
                                               torrent.start_pending = false;
                                               torrent.start_in_flight = true;
                                               torrent.swallow_resumed++;
                                       }
                                       torrent.force_start = force;
                                       return true;
                               },
                               [force](const lt::torrent_handle &h) {
                                       if (force)
                                               h.unset_flags(lt::torrent_flags::auto_managed);
                                       else
                                               h.set_flags(lt::torrent_flags::auto_managed);
                                       h.resume();
                               }) &&
                       rv_lt_started(engine, hash);
        } catch (...) {
                rv_engine_set_error_from_exception(error, "forcing a start");
                return FALSE;
        }
}

gboolean
rv_lt_remove(RvEngine *engine, const RvInfoHash *hash, gboolean delete_data, GError **error)
{
        try {
                RvLtEngine *self = rv_lt_self(engine);
                const lt::sha1_hash key = rv_engine_hash_from_rv(hash);
                RvLtTorrent *torrent = rv_lt_find(self, key);
                const lt::remove_flags_t flags = delete_data ? lt::session::delete_files : lt::remove_flags_t{};

                if (torrent == nullptr) {
                        rv_info_hash_set_error_not_found(error, hash);
                        return FALSE;
                }
                self->count--;
                if (!torrent->handle.is_valid()) {
                        lt::session *session = self->session.get();
                        torrent->removed = true;
                        torrent->deferred.emplace_back(
                                [session, flags](const lt::torrent_handle &h) { session->remove_torrent(h, flags); });
                        return TRUE;
                }
                /* from here on only REMOVED and FILES_DELETED* speak of this hash */
                self->session->remove_torrent(torrent->handle, flags);
                self->torrents.erase(key);
                return TRUE;
        } catch (...) {
                rv_engine_set_error_from_exception(error, "removing torrent");
                return FALSE;
        }
}

gboolean
rv_lt_recheck(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        try {
                return rv_lt_with_torrent(engine, hash, "rechecking torrent", error, nullptr,
                                          [](const lt::torrent_handle &h) { h.force_recheck(); });
        } catch (...) {
                rv_engine_set_error_from_exception(error, "rechecking torrent");
                return FALSE;
        }
}

gboolean
rv_lt_reannounce(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        try {
                return rv_lt_with_torrent(engine, hash, "reannouncing torrent", error, nullptr,
                                          [](const lt::torrent_handle &h) {
                                                  h.force_reannounce(0, -1, lt::torrent_handle::ignore_min_interval);
                                          });
        } catch (...) {
                rv_engine_set_error_from_exception(error, "reannouncing torrent");
                return FALSE;
        }
}

/* one of libtorrent's torrent flags on or off */
static gboolean
rv_lt_set_flag(RvEngine *engine, const RvInfoHash *hash, lt::torrent_flags_t flag, gboolean on, const char *what,
               GError **error)
{
        try {
                return rv_lt_with_torrent(engine, hash, what, error, nullptr, [flag, on](const lt::torrent_handle &h) {
                        if (on)
                                h.set_flags(flag);
                        else
                                h.unset_flags(flag);
                });
        } catch (...) {
                rv_engine_set_error_from_exception(error, what);
                return FALSE;
        }
}

gboolean
rv_lt_set_sequential(RvEngine *engine, const RvInfoHash *hash, gboolean sequential, GError **error)
{
        return rv_lt_set_flag(engine, hash, lt::torrent_flags::sequential_download, sequential,
                              "setting sequential download", error);
}

gboolean
rv_lt_set_super_seeding(RvEngine *engine, const RvInfoHash *hash, gboolean on, GError **error)
{
        return rv_lt_set_flag(engine, hash, lt::torrent_flags::super_seeding, on, "setting super seeding", error);
}

gboolean
rv_lt_set_first_last_piece(RvEngine *engine, const RvInfoHash *hash, gboolean on, GError **error)
{
        try {
                RvLtEngine *self = rv_lt_self(engine);
                const lt::sha1_hash key = rv_engine_hash_from_rv(hash);
                return rv_lt_with_torrent(
                        engine, hash, "setting first and last piece priority", error,
                        [on](RvLtTorrent &torrent, GError **) {
                                torrent.first_last = on;
                                return true;
                        },
                        [self, key](const lt::torrent_handle &) {
                                /* off: the pieces follow the files again (libtorrent ignores the same file priorities)
                                 */
                                RvLtTorrent *torrent = rv_lt_find(self, key);
                                if (torrent != nullptr)
                                        rv_lt_apply_piece_priorities(*torrent);
                        });
        } catch (...) {
                rv_engine_set_error_from_exception(error, "setting first and last piece priority");
                return FALSE;
        }
}

GByteArray *
rv_lt_get_piece_priorities(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        try {
                RvLtTorrent *torrent = rv_lt_find(rv_lt_self(engine), rv_engine_hash_from_rv(hash));
                if (torrent == nullptr || !torrent->handle.is_valid()) {
                        rv_info_hash_set_error_not_found(error, hash);
                        return nullptr;
                }
                std::vector<lt::download_priority_t> pieces = torrent->handle.get_piece_priorities();
                if (pieces.empty())
                        return nullptr;
                GByteArray *out = g_byte_array_sized_new(static_cast<guint>(pieces.size()));
                for (lt::download_priority_t p : pieces) {
                        guint8 v = static_cast<guint8>(static_cast<std::uint8_t>(p));
                        g_byte_array_append(out, &v, 1);
                }
                return out;
        } catch (...) {
                rv_engine_set_error_from_exception(error, "reading piece priorities");
                return nullptr;
        }
}

gboolean
rv_lt_set_limits(RvEngine *engine, const RvInfoHash *hash, gint64 download_limit, gint64 upload_limit, GError **error)
{
        try {
                const int down = download_limit > 0 ? rv_lt_clamp_int(download_limit) : -1;
                const int up = upload_limit > 0 ? rv_lt_clamp_int(upload_limit) : -1;

                return rv_lt_with_torrent(
                        engine, hash, "setting torrent limits", error,
                        [download_limit, upload_limit](RvLtTorrent &torrent, GError **) {
                                torrent.download_limit = download_limit;
                                torrent.upload_limit = upload_limit;
                                return true;
                        },
                        [down, up](const lt::torrent_handle &h) {
                                h.set_download_limit(down);
                                h.set_upload_limit(up);
                        });
        } catch (...) {
                rv_engine_set_error_from_exception(error, "setting torrent limits");
                return FALSE;
        }
}

gboolean
rv_lt_set_file_priorities(RvEngine *engine, const RvInfoHash *hash, const guint8 *priorities, gsize n, GError **error)
{
        try {
                std::vector<lt::download_priority_t> list;
                list.reserve(n);
                for (gsize i = 0; i < n; i++)
                        list.push_back(lt::download_priority_t(priorities[i]));
                RvLtEngine *self = rv_lt_self(engine);
                const lt::sha1_hash key = rv_engine_hash_from_rv(hash);
                return rv_lt_with_torrent(
                        engine, hash, "setting file priorities", error,
                        [n, list](RvLtTorrent &torrent, GError **err) {
                                if (torrent.num_files >= 0 && n != static_cast<gsize>(torrent.num_files)) {
                                        g_set_error(err, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                                    "%" G_GSIZE_FORMAT " file priorities for a torrent with %d files",
                                                    n, torrent.num_files);
                                        return false;
                                }
                                torrent.file_prios = list;
                                return true;
                        },
                        [list, self, key](const lt::torrent_handle &h) {
                                h.prioritize_files(list);
                                RvLtTorrent *torrent = rv_lt_find(self, key);
                                if (torrent != nullptr)
                                        rv_lt_apply_first_last(*torrent);
                        });
        } catch (...) {
                rv_engine_set_error_from_exception(error, "setting file priorities");
                return FALSE;
        }
}

gboolean
rv_lt_move_storage(RvEngine *engine, const RvInfoHash *hash, const char *save_path, GError **error)
{
        try {
                std::string path = save_path;

                return rv_lt_with_torrent(
                        engine, hash, "moving storage", error,
                        [path](RvLtTorrent &torrent, GError **) {
                                torrent.move_target = path;
                                return true;
                        },
                        [path](const lt::torrent_handle &h) { h.move_storage(path); });
        } catch (...) {
                rv_engine_set_error_from_exception(error, "moving storage");
                return FALSE;
        }
}

gboolean
rv_lt_connect_peer(RvEngine *engine, const RvInfoHash *hash, const char *host_port, GError **error)
{
        lt::tcp::endpoint endpoint;

        try {
                if (!rv_engine_endpoint_parse(host_port, endpoint, error))
                        return FALSE;
        } catch (...) {
                rv_engine_set_error_from_exception(error, "connecting to peer");
                return FALSE;
        }
        return rv_lt_with_torrent(engine, hash, "connecting to peer", error, nullptr,
                                  [endpoint](const lt::torrent_handle &h) { h.connect_peer(endpoint); });
}

/*
 * libtorrent 2.0.8 has no post_file_progress() and no post_trackers():
 * file_progress() and trackers() are blocking round trips to the network
 * thread, so they run on a worker and the answer comes back to the main
 * context as FILE_PROGRESS or TRACKERS, like an alert would
 */
struct RvLtQuery {
        std::shared_ptr<RvLtShared> shared;
        lt::torrent_handle handle;
        lt::sha1_hash key;
        RvEngineEventKind kind = RV_ENGINE_EVENT_FILE_PROGRESS;
        std::vector<std::int64_t> progress;
        std::vector<lt::announce_entry> trackers;
};

void
rv_lt_query_free(gpointer data)
{
        delete static_cast<RvLtQuery *>(data);
}

void
rv_lt_query_file_progress(RvLtQuery *request)
{
        request->handle.file_progress(request->progress, {});
        /* libtorrent 2.0.8 may count a piece twice and report more than a file holds (fixed upstream) */
        std::shared_ptr<const lt::torrent_info> ti = request->handle.torrent_file();
        if (ti && static_cast<int>(request->progress.size()) == ti->num_files()) {
                for (lt::file_index_t i : ti->files().file_range()) {
                        auto &done = request->progress[static_cast<size_t>(static_cast<int>(i))];
                        done = std::min(done, ti->files().file_size(i));
                }
        }
}

void
rv_lt_query_thread_cb(GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
        auto *request = static_cast<RvLtQuery *>(task_data);

        try {
                if (request->kind == RV_ENGINE_EVENT_FILE_PROGRESS)
                        rv_lt_query_file_progress(request);
                else
                        request->trackers = request->handle.trackers();
        } catch (...) {
                g_debug("reading %s failed, ignoring", rv_engine_event_kind_to_string(request->kind));
                request->progress.clear();
                request->trackers.clear();
        }
        request->shared->inflight--;
        g_task_return_boolean(task, TRUE);
}

/* the endpoints' announces of one tracker: whether any worked or runs, the first failure, the scrape counts */
void
rv_lt_tracker_read(const lt::announce_entry &ae, RvEngineTracker *tracker, bool &working, bool &updating,
                   std::string &working_message, std::string &failure)
{
        for (const lt::announce_endpoint &endpoint : ae.endpoints) {
                for (const lt::announce_infohash &ih : endpoint.info_hashes) {
                        updating = updating || ih.updating;
                        if (ih.fails > 0 && failure.empty())
                                failure = !ih.message.empty() ? ih.message : ih.last_error.message();
                        if (ih.fails == 0 && ih.start_sent) {
                                working = true;
                                if (working_message.empty())
                                        working_message = ih.message;
                        }
                        tracker->num_seeds = std::max(tracker->num_seeds, ih.scrape_complete);
                        tracker->num_leeches = std::max(tracker->num_leeches, ih.scrape_incomplete);
                        tracker->num_downloaded = std::max(tracker->num_downloaded, ih.scrape_downloaded);
                }
        }
}

/*
 * One tracker as qBittorrent shows it, from its endpoints (one per listen
 * socket) and their v1/v2 announces: working when any announce went
 * through, else updating while one is under way, else not working when one
 * failed, else not contacted. The counts come from the tracker's answers.
 */
RvEngineTracker *
rv_lt_tracker_new(const lt::announce_entry &ae) noexcept
{
        RvEngineTracker *tracker = rv_engine_tracker_new(ae.url.c_str(), ae.tier);
        std::string working_message;
        std::string failure;
        bool working = false;
        bool updating = false;

        try {
                rv_lt_tracker_read(ae, tracker, working, updating, working_message, failure);
        } catch (...) {
                /* out of memory for a message: the row without it */
                g_debug("reading tracker '%s' failed, ignoring", ae.url.c_str());
        }
        if (working)
                tracker->status = RV_TRACKER_STATUS_WORKING;
        else if (updating)
                tracker->status = RV_TRACKER_STATUS_UPDATING;
        else if (!failure.empty())
                tracker->status = RV_TRACKER_STATUS_NOT_WORKING;
        g_free(tracker->message);
        tracker->message = g_strdup(working ? working_message.c_str() : updating ? "" : failure.c_str());
        return tracker;
}

void
rv_lt_query_done_cb(GObject *source_object, GAsyncResult *result, gpointer user_data)
{
        auto *request = static_cast<RvLtQuery *>(g_task_get_task_data(G_TASK(result)));
        RvEngine *engine = request->shared->engine;
        RvEngineEvent event{};

        try {
                if (engine == nullptr || rv_lt_find(rv_lt_self(engine), request->key) == nullptr)
                        return;
        } catch (...) {
                return;
        }
        event.kind = request->kind;
        rv_engine_hash_to_rv(request->key, &event.hash);
        if (request->kind == RV_ENGINE_EVENT_TRACKERS) {
                event.trackers = g_ptr_array_new_full(static_cast<guint>(request->trackers.size()),
                                                      reinterpret_cast<GDestroyNotify>(rv_engine_tracker_free));
                for (const lt::announce_entry &ae : request->trackers)
                        g_ptr_array_add(event.trackers, rv_lt_tracker_new(ae));
        } else {
                event.file_progress =
                        g_array_sized_new(FALSE, FALSE, sizeof(gint64), static_cast<guint>(request->progress.size()));
                for (std::int64_t done : request->progress) {
                        gint64 value = done;
                        g_array_append_val(event.file_progress, value);
                }
        }
        GArray *progress = event.file_progress;
        GPtrArray *trackers = event.trackers;
        rv_engine_emit(engine, &event);
        if (progress != nullptr)
                g_array_unref(progress);
        if (trackers != nullptr)
                g_ptr_array_unref(trackers);
}

gboolean
rv_lt_request_query(RvEngine *engine, const RvInfoHash *hash, RvEngineEventKind kind, const char *what, GError **error)
{
        try {
                RvLtEngine *self = rv_lt_self(engine);
                const lt::sha1_hash key = rv_engine_hash_from_rv(hash);
                auto op = [self, key, kind](const lt::torrent_handle &h) {
                        auto *request = new RvLtQuery();
                        request->shared = self->shared;
                        request->handle = h;
                        request->key = key;
                        request->kind = kind;
                        self->shared->inflight++;
                        GTask *task = g_task_new(nullptr, nullptr, rv_lt_query_done_cb, nullptr);
                        g_task_set_task_data(task, request, rv_lt_query_free);
                        g_task_run_in_thread(task, rv_lt_query_thread_cb);
                        g_object_unref(task);
                };

                return rv_lt_with_torrent(engine, hash, what, error, nullptr, std::move(op));
        } catch (...) {
                rv_engine_set_error_from_exception(error, what);
                return FALSE;
        }
}

gboolean
rv_lt_request_file_progress(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        return rv_lt_request_query(engine, hash, RV_ENGINE_EVENT_FILE_PROGRESS, "requesting file progress", error);
}

gboolean
rv_lt_request_trackers(RvEngine *engine, const RvInfoHash *hash, GError **error)
{
        return rv_lt_request_query(engine, hash, RV_ENGINE_EVENT_TRACKERS, "requesting trackers", error);
}

guint
rv_lt_save_resume_one(RvLtTorrent &torrent, gboolean only_if_modified)
{
        if (only_if_modified && !torrent.dirty)
                return 0;
        torrent.dirty = false;
        torrent.user_resume_requests++;
        if (torrent.handle.is_valid())
                torrent.handle.save_resume_data(lt::torrent_handle::save_info_dict);
        else
                torrent.deferred.emplace_back(
                        [](const lt::torrent_handle &h) { h.save_resume_data(lt::torrent_handle::save_info_dict); });
        return 1;
}

guint
rv_lt_save_resume(RvEngine *engine, const RvInfoHash *hash, gboolean only_if_modified)
{
        try {
                RvLtTorrent *torrent = rv_lt_find(rv_lt_self(engine), rv_engine_hash_from_rv(hash));
                if (torrent == nullptr)
                        return 0;
                return rv_lt_save_resume_one(*torrent, only_if_modified);
        } catch (...) {
                g_debug("asking for resume data of %s failed, ignoring", hash->hex);
                return 0;
        }
}

guint
rv_lt_save_resume_all(RvEngine *engine, gboolean only_if_modified)
{
        guint asked = 0;

        try {
                for (auto &entry : rv_lt_self(engine)->torrents) {
                        if (!entry.second.removed)
                                asked += rv_lt_save_resume_one(entry.second, only_if_modified);
                }
        } catch (...) {
                g_debug("asking for resume data failed, ignoring");
        }
        return asked;
}

void
rv_lt_pause_session(RvEngine *engine)
{
        try {
                rv_lt_self(engine)->session->pause();
        } catch (...) {
                g_debug("pausing the session failed, ignoring");
        }
}

void
rv_lt_resume_session(RvEngine *engine)
{
        try {
                rv_lt_self(engine)->session->resume();
        } catch (...) {
                g_debug("resuming the session failed, ignoring");
        }
}

void
rv_lt_probe(RvEngine *engine)
{
        try {
                rv_lt_self(engine)->session->post_session_stats();
        } catch (...) {
                g_debug("posting session stats failed, ignoring");
        }
}

void
rv_lt_post_status(RvEngine *engine)
{
        rv_lt_post_updates(rv_lt_self(engine));
}

guint
rv_lt_get_torrent_count(RvEngine *engine)
{
        return rv_lt_self(engine)->count;
}

const RvEngineVTable rv_lt_vtable = {
        "libtorrent",
        rv_lt_free,
        rv_lt_apply_settings,
        rv_lt_get_settings,
        rv_lt_get_listen_port,
        rv_lt_add,
        rv_lt_pause,
        rv_lt_resume,
        rv_lt_remove,
        rv_lt_recheck,
        rv_lt_reannounce,
        rv_lt_set_sequential,
        rv_lt_set_force_start,
        rv_lt_set_super_seeding,
        rv_lt_set_first_last_piece,
        rv_lt_get_piece_priorities,
        rv_lt_set_limits,
        rv_lt_set_file_priorities,
        rv_lt_move_storage,
        rv_lt_connect_peer,
        rv_lt_request_file_progress,
        rv_lt_request_trackers,
        rv_lt_save_resume,
        rv_lt_save_resume_all,
        rv_lt_pause_session,
        rv_lt_resume_session,
        rv_lt_probe,
        rv_lt_post_status,
        rv_lt_get_torrent_count,
        nullptr,
        nullptr,
        nullptr,
        nullptr,
};

} /* namespace */

extern "C" RvEngine *
rv_engine_new_libtorrent(const RvEngineSettings *settings, GError **error)
{
        RvEngine *engine = nullptr;

        try {
                if (settings != nullptr && settings->max_metadata_size <= 0) {
                        g_set_error(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                    "max_metadata_size must be positive, not %" G_GINT64_FORMAT,
                                    settings->max_metadata_size);
                        return nullptr;
                }
                if (settings != nullptr && (settings->download_rate_limit < 0 || settings->upload_rate_limit < 0)) {
                        g_set_error_literal(error, RV_ERROR, RV_ERROR_INVALID_ARGUMENT,
                                            "rate limits must not be negative");
                        return nullptr;
                }
                engine = rv_engine_new_internal(&rv_lt_vtable, settings);
                auto *self = new RvLtEngine();
                engine->impl = self;
                self->engine = engine;
                self->shared = std::make_shared<RvLtShared>();
                self->shared->engine = engine;

                lt::session_params params(rv_lt_settings_pack(&engine->settings, true));
                self->session = std::make_unique<lt::session>(std::move(params));
                rv_lt_peer_classes_setup(*self->session);

                self->alert_source = g_source_new(&rv_lt_alert_source_funcs, sizeof(RvAlertSource));
                reinterpret_cast<RvAlertSource *>(self->alert_source)->engine = engine;
                g_source_set_name(self->alert_source, "rv-engine-alerts");
                g_source_attach(self->alert_source, engine->context);
                GSource *alert_source = self->alert_source;
                /*
                 * runs on a libtorrent thread with its alert lock held: wake the
                 * main loop and nothing else (g_source_set_ready_time() takes the
                 * context lock and is safe from any thread)
                 */
                self->session->set_alert_notify([alert_source] { g_source_set_ready_time(alert_source, 0); });
                g_source_set_ready_time(alert_source, 0);
                rv_lt_status_timer_start(self, engine->settings.status_interval_ms);
                return engine;
        } catch (...) {
                rv_engine_set_error_from_exception(error, "starting libtorrent");
                rv_engine_free(engine);
                return nullptr;
        }
}
