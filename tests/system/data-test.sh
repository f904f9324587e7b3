#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The files around the service: the journal catalog has an entry for every
# MESSAGE_ID and compiles; the desktop entry validates; the man pages have no
# warnings and document every option of revaerd and every key it reads; the
# example revaerd.conf lists every key.
#
# env: REVAER_SOURCE_ROOT, REVAERD
set -u

S="$REVAER_SOURCE_ROOT"
. "$(dirname "$0")/../data/tap.sh"

T="$(mktemp -d /tmp/rv-data-XXXXXX)"
trap 'rm -rf "$T"' EXIT

catalog="$S/data/revaer.catalog.in"
ids="$(sed -n 's/^#define RV_MESSAGE_[A-Z_]* "\([0-9a-f]\{32\}\)"$/\1/p' "$S/src/base/rv-messages.h")"
if [ "$(echo "$ids" | wc -w)" -ge 6 ]; then ok "rv-messages.h defines $(echo "$ids" | wc -w) MESSAGE_IDs"; else
    not_ok "rv-messages.h defines MESSAGE_IDs"
fi
for id in $ids; do
    if grep -qx -- "-- $id" "$catalog"; then ok "catalog explains $id"; else not_ok "catalog explains $id"; fi
done
# and nothing else: an entry for an id the daemon does not send is stale
for id in $(sed -n 's/^-- \([0-9a-f]*\)$/\1/p' "$catalog"); do
    if echo "$ids" | grep -qx "$id"; then ok "catalog entry $id is sent by the daemon"; else
        not_ok "catalog entry $id is not in rv-messages.h"
    fi
done

if command -v journalctl >/dev/null; then
    mkdir -p "$T/root/usr/lib/systemd/catalog"
    cp "$catalog" "$T/root/usr/lib/systemd/catalog/revaer.catalog"
    if journalctl --root="$T/root" --update-catalog >"$T/catalog.log" 2>&1 && [ ! -s "$T/catalog.log" ]; then
        ok "journalctl --update-catalog compiles the catalog"
    else
        not_ok "journalctl --update-catalog compiles the catalog"
        diag <"$T/catalog.log"
    fi
    listed="$(journalctl --root="$T/root" --list-catalog 2>/dev/null)"
    for id in $ids; do
        if echo "$listed" | grep -q "^$id revaer: ."; then ok "journalctl --list-catalog has $id"; else
            not_ok "journalctl --list-catalog has $id"
        fi
    done
else
    skip "journalctl --update-catalog compiles the catalog" journalctl
fi

desktop="$S/data/revaer-magnet.desktop"
if command -v desktop-file-validate >/dev/null; then
    out="$(desktop-file-validate "$desktop" 2>&1)"
    if [ -z "$out" ]; then ok "desktop-file-validate is quiet"; else
        not_ok "desktop-file-validate has remarks"
        echo "$out" | diag
    fi
else
    skip "desktop-file-validate is quiet" desktop-file-validate
fi
if grep -qx 'MimeType=x-scheme-handler/magnet;application/x-bittorrent;' "$desktop" &&
    grep -q '^Exec=revaerctl add %u$' "$desktop"; then
    ok "desktop entry hands magnet links and .torrent files to revaerctl add"
else
    not_ok "desktop entry hands magnet links and .torrent files to revaerctl add"
fi

for page in "$S/docs/man/revaerd.8" "$S/docs/man/revaerd.conf.5"; do
    name="$(basename "$page")"
    if command -v groff >/dev/null; then
        out="$(groff -man -z -ww "$page" 2>&1)"
        if [ -z "$out" ]; then ok "$name has no groff warnings"; else
            not_ok "$name has groff warnings"
            echo "$out" | diag
        fi
    else
        skip "$name has no groff warnings" groff
    fi
    if command -v man >/dev/null; then
        out="$(man --warnings -l "$page" 2>&1 >/dev/null)"
        if [ -z "$out" ]; then ok "man --warnings is quiet on $name"; else
            not_ok "man --warnings on $name"
            echo "$out" | diag
        fi
    else
        skip "man --warnings is quiet on $name" man
    fi
done

# every option of revaerd --help is in revaerd(8); roff writes dashes as \-
for opt in $("$REVAERD" --help | grep -o -- '^  \(-., \)\?--[a-z-]*' | sed 's/.*--/--/' | grep -vx -- '--help'); do
    roff="$(echo "$opt" | sed 's/-/\\\\-/g')"
    if grep -q -- "$roff" "$S/docs/man/revaerd.8"; then ok "revaerd(8) documents $opt"; else
        not_ok "revaerd(8) documents $opt"
    fi
done

# every key the parser knows, from its list of "group:key" strings
keys="$(sed -n '/rv_known_keys\[\] = {/,/};/p' "$S/src/config/rv-bootstrap.c" |
    grep -o '"[a-z]*:[a-z-]*"' | tr -d '"' | sort -u)"
if [ "$(echo "$keys" | wc -w)" -ge 20 ]; then ok "rv-bootstrap.c knows $(echo "$keys" | wc -w) keys"; else
    not_ok "rv-bootstrap.c key list not found"
fi
for gk in $keys; do
    group="${gk%%:*}"
    k="${gk#*:}"
    roff="$(echo "$k" | sed 's/-/\\\\-/g')"
    # the key inside its group's section of the man page
    if sed -n "/^\\.SH \"\\[$group\\]\"/,/^\\.SH /p" "$S/docs/man/revaerd.conf.5" | grep -q -- "$roff="; then
        ok "revaerd.conf(5) documents [$group] $k"
    else
        not_ok "revaerd.conf(5) documents [$group] $k"
    fi
    if sed -n "/^\\[$group\\]/,/^\\[/p" "$S/data/revaerd.conf" | grep -q "^#$k="; then
        ok "example revaerd.conf lists [$group] $k"
    else
        not_ok "example revaerd.conf lists [$group] $k"
    fi
done

echo "1..$n"
exit $failed
