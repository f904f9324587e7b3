#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# the same download as rv-bench-leech, with a bare python3-libtorrent session:
# libtorrent defaults plus the same loopback network settings (TCP only), the
# same peer, status sampled the same way; prints one JSON line. Without
# --peer, the peers come from the torrent's tracker.

import argparse
import json
import os
import resource
import time

import libtorrent as lt


def main():
    parser = argparse.ArgumentParser(description='download one torrent with a bare libtorrent session')
    parser.add_argument('--torrent', required=True)
    parser.add_argument('--peer', default=None, help='host:port to connect to (default: ask the tracker)')
    parser.add_argument('--dir', required=True)
    parser.add_argument('--status-ms', type=int, default=1000)
    parser.add_argument('--sample-ms', type=int, default=5)
    parser.add_argument('--timeout', type=int, default=600)
    args = parser.parse_args()

    ses = lt.session({
        'listen_interfaces': '127.0.0.1:0',
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_outgoing_utp': False,
        'enable_incoming_utp': False,
        'alert_mask': int(lt.alert_category.status | lt.alert_category.error | lt.alert_category.storage),
    })
    ti = lt.torrent_info(args.torrent)
    atp = lt.add_torrent_params()
    atp.ti = ti
    atp.save_path = os.path.abspath(args.dir)
    if args.peer:
        host, port = args.peer.rsplit(':', 1)
        atp.peers = [(host, int(port))]
    atp.flags = (atp.flags | lt.torrent_flags.auto_managed) & ~lt.torrent_flags.paused

    added = time.monotonic()
    cpu_added = time.process_time()
    usage_added = resource.getrusage(resource.RUSAGE_SELF)
    ses.async_add_torrent(atp)
    first = None
    finished = None
    next_post = added
    while finished is None:
        now = time.monotonic()
        if now - added > args.timeout:
            raise SystemExit('rv-bench-bare: timed out')
        if now >= next_post:
            # bytes done with the blocks of pieces not yet checked, as revaerd reports them
            ses.post_torrent_updates(int(lt.torrent_handle.query_accurate_download_counters))
            next_post = now + (args.sample_ms if first is None else args.status_ms) / 1000.0
        ses.wait_for_alert(max(1, int((next_post - time.monotonic()) * 1000)))
        for alert in ses.pop_alerts():
            now = time.monotonic()
            if isinstance(alert, lt.state_update_alert):
                if first is None and any(st.total_done > 0 for st in alert.status):
                    first = now
            elif isinstance(alert, lt.torrent_finished_alert):
                finished = now
            elif isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
                raise SystemExit('rv-bench-bare: ' + alert.message())
    cpu = time.process_time() - cpu_added
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # page faults and context switches of the download, as bench/peers reports them for revaerd
    where = {'user': round(usage.ru_utime - usage_added.ru_utime, 2),
             'system': round(usage.ru_stime - usage_added.ru_stime, 2),
             'minflt': usage.ru_minflt - usage_added.ru_minflt, 'majflt': usage.ru_majflt - usage_added.ru_majflt,
             'voluntary': usage.ru_nvcsw - usage_added.ru_nvcsw,
             'nonvoluntary': usage.ru_nivcsw - usage_added.ru_nivcsw}
    if first is None:
        first = finished
    seconds = finished - added
    print(json.dumps({'client': 'bare', 'bytes': ti.total_size(), 'seconds': round(seconds, 4),
                      'first_payload': round(first - added, 4), 'cpu': round(cpu, 3),
                      'mbps': round(ti.total_size() / 1e6 / seconds, 1), 'where': where}), flush=True)


if __name__ == '__main__':
    main()
