# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What the benchmarks that compare Revaer with other clients share: the
# children and temp dirs of a run, undone on exit, free loopback ports, and the
# generated torrents every client is fed (bench/peers, bench/qbt). Needs
# /usr/bin/python3 for python3-libtorrent.

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import libtorrent as lt


def log(msg):
    print(f'# {msg}', flush=True)


def now():
    return time.monotonic()


class Reaper:
    """every child and temporary directory of the run, undone in reverse on exit"""

    def __init__(self):
        self.procs = []
        self.dirs = []
        # a child dies with the benchmark even when the benchmark is killed outright
        self.prefix = ['setpriv', '--pdeathsig', 'TERM', '--'] if shutil.which('setpriv') else []

    def spawn(self, cmd, **kw):
        proc = subprocess.Popen(self.prefix + list(cmd), start_new_session=True, **kw)
        self.procs.append(proc)
        return proc

    def mkdtemp(self, prefix):
        path = tempfile.mkdtemp(prefix=prefix)
        self.dirs.append(path)
        return path

    @staticmethod
    def stop(proc, timeout=120):
        """SIGTERM and wait: the seconds it took to exit"""
        if proc.poll() is not None:
            return 0.0
        t0 = now()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return now() - t0

    def close(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for path in reversed(self.dirs):
            shutil.rmtree(path, ignore_errors=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def make_tiny_torrents(directory, count):
    """count paused-to-be torrents of one 16 KiB file each, made once for all three clients"""
    os.makedirs(directory)
    data = []
    for i in range(count):
        fs = lt.file_storage()
        fs.add_file(f'peers-bench-{i:07d}', 16384)
        ct = lt.create_torrent(fs, 16384, lt.create_torrent.v1_only)
        ct.set_hash(0, hashlib.sha1(b'peers-bench %d' % i).digest())
        blob = lt.bencode(ct.generate())
        with open(os.path.join(directory, f'{i:07d}.torrent'), 'wb') as f:
            f.write(blob)
        data.append(blob)
    return data
