#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# a bare python3-libtorrent session holding many torrents, driven by
# bench/peers over stdin/stdout, one JSON line per command, so that its RSS and
# CPU can be read from /proc apart from the benchmark's own:
#
#   add FIRST COUNT   add torrents FIRST .. FIRST+COUNT-1 of DIR, one sync add_torrent each
#   add_async FIRST COUNT  the same with async_add_torrent, until every add_torrent_alert is in
#   count             how many torrents the session has
#   list              get_torrent_status for all, decoded into python values
#   quit
#
# the session has libtorrent's defaults plus the loopback network settings
# the other clients of the benchmark get (TCP only, DHT/LSD/UPnP/NAT-PMP off)

import argparse
import json
import os
import sys
import time

import libtorrent as lt

# torrent_handle::query_name, which the python binding does not name
QUERY_NAME = 64


def main():
    parser = argparse.ArgumentParser(description='a bare libtorrent session with many torrents')
    parser.add_argument('--torrents', required=True, help='directory of NNNNNNN.torrent files')
    parser.add_argument('--count', type=int, required=True, help='how many there are')
    parser.add_argument('--save-path', required=True)
    args = parser.parse_args()

    ses = lt.session({
        'listen_interfaces': '127.0.0.1:0',
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_outgoing_utp': False,
        'enable_incoming_utp': False,
        'alert_mask': int(lt.alert_category.error | lt.alert_category.status),
        # add_async waits for one add_torrent_alert per torrent: none may be dropped
        'alert_queue_size': 1000000,
    })
    # the metainfo is in memory before the clock starts, as it is for the daemons' clients
    data = []
    for i in range(args.count):
        with open(os.path.join(args.torrents, f'{i:07d}.torrent'), 'rb') as f:
            data.append(f.read())
    save_path = os.path.abspath(args.save_path)

    def reply(obj):
        sys.stdout.write(json.dumps(obj) + '\n')
        sys.stdout.flush()

    reply({'ready': True, 'pid': os.getpid()})
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == 'add':
            first, count = int(words[1]), int(words[2])
            t0 = time.monotonic()
            for i in range(first, first + count):
                atp = lt.add_torrent_params()
                atp.ti = lt.torrent_info(data[i])
                atp.save_path = save_path
                atp.flags = (atp.flags | lt.torrent_flags.paused) & ~lt.torrent_flags.auto_managed
                ses.add_torrent(atp)
            reply({'seconds': time.monotonic() - t0})
        elif words[0] == 'add_async':
            first, count = int(words[1]), int(words[2])
            t0 = time.monotonic()
            for i in range(first, first + count):
                atp = lt.add_torrent_params()
                atp.ti = lt.torrent_info(data[i])
                atp.save_path = save_path
                atp.flags = (atp.flags | lt.torrent_flags.paused) & ~lt.torrent_flags.auto_managed
                ses.async_add_torrent(atp)
            added = failed = 0
            while added + failed < count:
                ses.wait_for_alert(1000)
                for alert in ses.pop_alerts():
                    if isinstance(alert, lt.add_torrent_alert):
                        if alert.error.value():
                            failed += 1
                        else:
                            added += 1
            reply({'seconds': time.monotonic() - t0, 'failed': failed})
        elif words[0] == 'count':
            reply({'count': len(ses.get_torrents())})
        elif words[0] == 'list':
            t0 = time.monotonic()
            rows = [(str(st.info_hashes.v1), st.name, str(st.state), st.is_finished, st.progress, st.total_wanted,
                     st.total_wanted_done, st.download_payload_rate, st.upload_payload_rate, -1, [])
                    for st in ses.get_torrent_status(lambda st: True, QUERY_NAME)]
            reply({'seconds': time.monotonic() - t0, 'count': len(rows)})
        elif words[0] == 'quit':
            break
        if words[0] != 'add_async':
            ses.pop_alerts()
    reply({'bye': True})


if __name__ == '__main__':
    main()
