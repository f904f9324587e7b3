#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A profile for qbittorrent-nox (Debian's 4.5.2), the reference the qBittorrent
# WebAPI client tests and bench/qbt run against: its Web UI and its peer port
# on 127.0.0.1 only, a user and password of our own, DHT, LSD, PeX, UPnP and
# uTP off, the legal notice accepted (4.5 asks on a terminal otherwise).
#
#   rv_qbt_nox.py --profile DIR --webui-port N --save-path DIR --user U --password P
#
# writes DIR/qBittorrent/config/qBittorrent.conf; then run
#   qbittorrent-nox --profile=DIR --webui-port=N
# Also imported by bench/qbt (write_profile). Standard library only.

import argparse
import base64
import hashlib
import os
import socket

# qBittorrent 4.2 and later keep the Web UI password as PBKDF2-HMAC-SHA512,
# 100,000 iterations, a 16-byte salt and a 64-byte key, written
# "@ByteArray(<salt base64>:<key base64>)" (the old MD5 "WebUI\Password_ha1"
# is gone). Without one, 4.5 accepts admin/adminadmin; 4.6.1 and later make a
# temporary password up at each start, so the tests always write their own.
PBKDF2_ITERATIONS = 100000


def password_pbkdf2(password, salt=None):
    salt = salt if salt is not None else os.urandom(16)
    key = hashlib.pbkdf2_hmac('sha512', password.encode(), salt, PBKDF2_ITERATIONS, 64)
    return '@ByteArray(%s:%s)' % (base64.b64encode(salt).decode(), base64.b64encode(key).decode())


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def write_profile(profile, webui_port, save_path, user, password, peer_port=None):
    """the qBittorrent.conf of a fresh profile; returns its path"""
    config = os.path.join(profile, 'qBittorrent', 'config')
    os.makedirs(config, exist_ok=True)
    os.makedirs(save_path, exist_ok=True)
    peer_port = peer_port or free_port()
    # QSettings' ini format: a backslash separates groups inside a key
    text = f'''[LegalNotice]
Accepted=true

[BitTorrent]
Session\\DefaultSavePath={save_path}
Session\\TempPathEnabled=false
Session\\Port={peer_port}
Session\\Interface=lo
Session\\InterfaceName=lo
Session\\InterfaceAddress=127.0.0.1
Session\\DHTEnabled=false
Session\\LSDEnabled=false
Session\\PeXEnabled=false
Session\\BTProtocol=TCP
Session\\AnonymousModeEnabled=false

[Network]
PortForwardingEnabled=false

[Preferences]
WebUI\\Address=127.0.0.1
WebUI\\Port={webui_port}
WebUI\\Username={user}
WebUI\\Password_PBKDF2="{password_pbkdf2(password)}"
WebUI\\LocalHostAuth=true
WebUI\\UseUPnP=false
General\\Locale=en
'''
    path = os.path.join(config, 'qBittorrent.conf')
    with open(path, 'w') as f:
        f.write(text)
    return path


def main():
    ap = argparse.ArgumentParser(description='write a qbittorrent-nox profile for the tests')
    ap.add_argument('--profile', required=True)
    ap.add_argument('--webui-port', type=int, required=True)
    ap.add_argument('--save-path', required=True)
    ap.add_argument('--user', required=True)
    ap.add_argument('--password', required=True)
    args = ap.parse_args()
    print(write_profile(args.profile, args.webui_port, args.save_path, args.user, args.password))


if __name__ == '__main__':
    main()
