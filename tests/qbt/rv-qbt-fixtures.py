#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The torrents the qBittorrent WebAPI client tests add, each seeded on
# 127.0.0.1 by tests/helpers/rv-test-seeder, plus a minimal HTTP tracker that
# answers every announce with the seeder of that info hash. The client under
# test finds its peer through the tracker (a .torrent carries its URL), and a
# magnet carries it as &tr= beside the seeder's x.pe.
#
#   rv-qbt-fixtures.py --seeder PATH --dir DIR
#
# Writes DIR/fixtures.json once every seeder is ready:
#   {"tracker": URL, "torrents": {NAME: {"hash", "name", "size", "files",
#    "torrent" (path of the .torrent with the announce URL), "magnet"}}}
# then runs until SIGTERM or SIGINT, and stops the seeders.
# Standard library only, so any python3 runs it.

import argparse
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse

# name: (bytes, files). Several files make a folder: content_path then is the
# folder, one file is the file itself; the two rules Sonarr's import relies on
TORRENTS = {
    'client-file': (6 * 1024 * 1024, 3),
    'client-magnet': (2 * 1024 * 1024, 1),
    'replay-file': (4 * 1024 * 1024, 2),
    'replay-magnet': (1024 * 1024, 1),
    'bad-input': (1024 * 1024, 2),
}


class Tracker:
    """every announce of a known info hash gets that torrent's seeder"""

    def __init__(self):
        self.peers = {}
        tracker = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query, encoding='latin-1')
                info_hash = query.get('info_hash', [''])[0].encode('latin-1').hex()
                peer = tracker.peers.get(info_hash)
                if url.path != '/announce' or peer is None:
                    body = b'd14:failure reason12:unknown hashe'
                else:
                    compact = socket.inet_aton(peer[0]) + peer[1].to_bytes(2, 'big')
                    body = (b'd8:completei1e10:incompletei0e8:intervali1800e12:min intervali60e5:peers6:'
                            + compact + b'e')
                try:
                    self.send_response(200)
                    self.send_header('Content-Type', 'text/plain')
                    self.send_header('Content-Length', str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass   # a client gone at its stop: nothing to answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}/announce'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def with_announce(blob, url):
    """the metainfo with an announce key first: "announce" sorts before every
    key the seeder writes, and the info dict, hence the info hash, is untouched"""
    if not blob.startswith(b'd') or blob.startswith(b'd8:announce'):
        raise SystemExit('rv-qbt-fixtures: unexpected metainfo from the seeder')
    raw = url.encode()
    return b'd8:announce' + str(len(raw)).encode() + b':' + raw + blob[1:]


def start_seeder(binary, root, name, size, files):
    plain = os.path.join(root, f'{name}.plain.torrent')
    magnet = os.path.join(root, f'{name}.plain.magnet')
    cmd = [binary, '--dir', os.path.join(root, f'seed-{name}'), '--size', str(size), '--files', str(files),
           '--name', name, '--piece-size', str(256 * 1024), '--torrent-out', plain, '--magnet-out', magnet]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith('READY'):
        proc.kill()
        raise SystemExit(f'rv-qbt-fixtures: seeder {name} did not start: {line!r}')
    fields = dict(kv.split('=', 1) for kv in line.split()[1:])
    return proc, int(fields['port']), fields['hash'], plain, magnet


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--seeder', required=True, help='tests/helpers/rv-test-seeder')
    ap.add_argument('--dir', required=True, help='where the payloads, torrents and fixtures.json go')
    args = ap.parse_args()

    tracker = Tracker()
    procs = []

    def stop(*_):
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    out = {'tracker': tracker.url, 'torrents': {}}
    try:
        for name, (size, files) in TORRENTS.items():
            proc, port, info_hash, plain, magnet = start_seeder(args.seeder, args.dir, name, size, files)
            procs.append(proc)
            tracker.peers[info_hash] = ('127.0.0.1', port)
            path = os.path.join(args.dir, f'{name}.torrent')
            with open(plain, 'rb') as f, open(path, 'wb') as g:
                g.write(with_announce(f.read(), tracker.url))
            with open(magnet) as f:
                link = f.read().strip() + '&tr=' + urllib.parse.quote(tracker.url, safe='')
            out['torrents'][name] = {'hash': info_hash, 'name': name, 'size': size, 'files': files,
                                     'torrent': path, 'magnet': link}
    except BaseException:
        stop()
        raise
    tmp = os.path.join(args.dir, 'fixtures.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(out, f, indent=1)
    os.rename(tmp, os.path.join(args.dir, 'fixtures.json'))
    print('READY', flush=True)
    while True:
        signal.pause()


if __name__ == '__main__':
    main()
