#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write RAR archives with stored (uncompressed) entries, for the FsOps tests.

Debian has no program that creates RAR archives (rar is non-free and not in
Debian 12), so the tests make theirs with this: the RAR 4 format ("RAR 2.9",
what unrar and libarchive call RAR v4) and RAR 5, each as one volume or as
several. Only the store method is written: compression is not what the tests
exercise, reading volumes, names and checksums is. 7-Zip (p7zip-full) reads
what this writes, which the tests check too.

usage: make-rar.py [--rar5] [--volume-size BYTES] [--old-naming] OUT.rar ROOT
    adds every file under ROOT (paths relative to ROOT); with --volume-size,
    writes OUT.part1.rar, OUT.part2.rar, ... (or OUT.rar, OUT.r00, OUT.r01,
    ... with --old-naming, RAR 4 only) of at most about BYTES of data each
"""

import argparse
import os
import struct
import sys
import time
import zlib


def crc32(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def dos_time(mtime):
    t = time.localtime(mtime)
    year = max(t.tm_year, 1980)
    return ((year - 1980) << 25) | (t.tm_mon << 21) | (t.tm_mday << 16) | (
        t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2)


def collect(root):
    entries = []
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(base, name)
            rel = os.path.relpath(path, root)
            with open(path, "rb") as f:
                data = f.read()
            st = os.stat(path)
            entries.append((rel, data, st.st_mode, st.st_mtime))
    return entries


# RAR 4: 7-byte marker, a main header per volume, file headers each followed by their data


def rar4_block(head_type, flags, body):
    size = 7 + len(body)
    head = struct.pack("<BHH", head_type, flags, size) + body
    return struct.pack("<H", crc32(head) & 0xFFFF) + head


def rar4_main(volume, first, new_numbering):
    flags = 0
    if volume:
        flags |= 0x0001
        if first:
            flags |= 0x0100
        if new_numbering:
            flags |= 0x0010
    return rar4_block(0x73, flags, b"\0" * 6)


def rar4_file(name, part, total_size, mode, mtime, crc, split_before, split_after):
    flags = 0x8000
    if split_before:
        flags |= 0x0001
    if split_after:
        flags |= 0x0002
    raw = name.encode("utf-8")
    large = len(part) > 0xFFFFFFFF or total_size > 0xFFFFFFFF
    if large:
        flags |= 0x0100
    body = struct.pack("<IIBIIBBHI", len(part) & 0xFFFFFFFF, total_size & 0xFFFFFFFF, 3, crc,
                       dos_time(mtime), 29, 0x30, len(raw), mode & 0xFFFF | 0x8000)
    if large:
        body += struct.pack("<II", len(part) >> 32, total_size >> 32)
    return rar4_block(0x74, flags, body + raw)


def rar4_end(next_volume):
    return rar4_block(0x7B, 0x0001 if next_volume else 0, b"")


# RAR 5: an 8-byte marker, headers of CRC32, size and fields in variable-length integers


def vint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def rar5_block(head_type, flags, fields, extra=b"", data_size=None):
    body = vint(head_type) + vint(flags)
    if flags & 0x0001:
        body += vint(len(extra))
    if flags & 0x0002:
        body += vint(data_size)
    body += fields + extra
    head = vint(len(body)) + body
    return struct.pack("<I", crc32(head)) + head


def rar5_main(volume, number):
    flags = 0
    fields = b""
    if volume:
        flags |= 0x0001
        if number > 0:
            flags |= 0x0002
            fields = vint(number)
    return rar5_block(1, 0, vint(flags) + fields)


def rar5_file(name, part, total_size, mode, mtime, crc, split_before, split_after):
    flags = 0x0002
    if split_before:
        flags |= 0x0008
    if split_after:
        flags |= 0x0010
    raw = name.encode("utf-8")
    # file flags: mtime present (0x2), CRC32 present (0x4)
    fields = vint(0x0006) + vint(total_size) + vint(mode & 0o7777) + struct.pack("<I", int(mtime))
    fields += struct.pack("<I", crc)
    # compression: version 0, method 0 (store), host OS 1 (Unix)
    fields += vint(0) + vint(1) + vint(len(raw)) + raw
    return rar5_block(2, flags, fields, data_size=len(part))


def rar5_end(next_volume):
    return rar5_block(5, 0, vint(0x0001 if next_volume else 0))


def volume_names(out, count, old_naming):
    if count == 1:
        return [out]
    stem = out[:-4] if out.endswith(".rar") else out
    if old_naming:
        return [stem + ".rar"] + ["%s.r%02d" % (stem, i) for i in range(count - 1)]
    digits = max(1, len(str(count)))
    return ["%s.part%0*d.rar" % (stem, digits, i + 1) for i in range(count)]


def split_entries(entries, volume_size):
    """[[(name, part, total, mode, mtime, whole_crc, before, after)], ...] per volume"""
    volumes = [[]]
    room = volume_size
    for name, data, mode, mtime in entries:
        offset = 0
        while True:
            take = len(data) - offset if volume_size is None else min(len(data) - offset, max(room, 1))
            part = data[offset:offset + take]
            last = offset + take >= len(data)
            volumes[-1].append((name, part, len(data), mode, mtime, crc32(data), offset > 0, not last))
            offset += take
            if volume_size is not None:
                room -= take
            if last:
                break
            volumes.append([])
            room = volume_size
        if volume_size is not None and room <= 0:
            volumes.append([])
            room = volume_size
    if len(volumes) > 1 and not volumes[-1]:
        volumes.pop()
    return volumes


def write(out, root, rar5, volume_size, old_naming):
    volumes = split_entries(collect(root), volume_size)
    names = volume_names(out, len(volumes), old_naming)
    multi = len(volumes) > 1
    for index, (path, parts) in enumerate(zip(names, volumes)):
        last_volume = index == len(volumes) - 1
        with open(path, "wb") as f:
            if rar5:
                f.write(b"Rar!\x1a\x07\x01\x00")
                f.write(rar5_main(multi, index))
            else:
                f.write(b"Rar!\x1a\x07\x00")
                f.write(rar4_main(multi, index == 0, not old_naming))
            for name, part, total, mode, mtime, whole_crc, before, after in parts:
                # a part that goes on in the next volume carries the CRC of its own bytes
                crc = crc32(part) if after else whole_crc
                if rar5:
                    f.write(rar5_file(name, part, total, mode, mtime, crc, before, after))
                else:
                    f.write(rar4_file(name, part, total, mode, mtime, crc, before, after))
                f.write(part)
            f.write(rar5_end(not last_volume) if rar5 else rar4_end(not last_volume))
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rar5", action="store_true", help="write RAR 5 instead of RAR 4")
    parser.add_argument("--volume-size", type=int, default=None, help="split into volumes of this much data")
    parser.add_argument("--old-naming", action="store_true", help="name volumes .rar, .r00, .r01, ... (RAR 4)")
    parser.add_argument("out")
    parser.add_argument("root")
    args = parser.parse_args()
    if args.old_naming and args.rar5:
        parser.error("--old-naming is for RAR 4 only")
    for name in write(args.out, args.root, args.rar5, args.volume_size, args.old_naming):
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
