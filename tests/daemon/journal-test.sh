#!/bin/bash
# Structured entries reach a real journal: systemd-journald runs in a private
# mount namespace (tmpfs on /run and /var/log, so the host's journal and /run
# are untouched), revaerd logs there, and journalctl -o json shows the
# MESSAGE_ID and REVAER_TORRENT fields of a torrent's entries.
#
# usage: journal-test.sh REVAERD
set -u

. "$(dirname "$0")/../data/tap.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null || [ ! -x /lib/systemd/systemd-journald ]; then
    skip_all "needs root, unshare and systemd-journald"
fi
in_private_mounts RV_JOURNAL_INNER "$0" "$@"

revaerd="$1"
T="$(mktemp -d /tmp/rv-journal-XXXXXX)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT


mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/log
mkdir -p /run/systemd/journal /var/log/journal
/lib/systemd/systemd-journald >"$T/journald.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done

dbus-daemon --session --nofork --print-address=3 3>"$T/bus.addr" 2>/dev/null &
pids+=("$!")
for _ in $(seq 1 50); do [ -s "$T/bus.addr" ] && break; sleep 0.05; done
export DBUS_SESSION_BUS_ADDRESS="$(head -n1 "$T/bus.addr")"

# stderr is not a terminal and the journal's socket is there: entries go to the journal
start_revaerd session "$T"

hash=6666666666666666666666666666666666666666
busctl --user call com.revaer.Revaer1 /com/revaer/Revaer1 com.revaer.Revaer1.Manager AddMagnet 'sa{sv}' \
    "magnet:?xt=urn:btih:$hash&dn=journal-test" 1 paused b true >/dev/null
busctl --user call com.revaer.Revaer1 "/com/revaer/Revaer1/torrent/$hash" com.revaer.Revaer1.Torrent \
    Remove b false >/dev/null
sleep 0.5
journalctl --flush >/dev/null 2>&1

out="$(journalctl --no-pager -o json "REVAER_TORRENT=$hash")"
if echo "$out" | grep -q '"MESSAGE_ID" *: *"937a8b7848994d1aab8e85dd4a6a4a89"'; then
    ok "the added entry carries its MESSAGE_ID"
else
    not_ok "no added entry with MESSAGE_ID for $hash: $out"
fi
if echo "$out" | grep -q '"MESSAGE_ID" *: *"1ec2777f2105494ab4329fc1b17aeccb"'; then
    ok "the removed entry carries its MESSAGE_ID"
else
    not_ok "no removed entry for $hash"
fi
if echo "$out" | grep -q '"REVAER_TORRENT_NAME" *: *"journal-test"'; then
    ok "entries name the torrent"
else
    not_ok "no REVAER_TORRENT_NAME field"
fi
if echo "$out" | grep -q '"SYSLOG_IDENTIFIER" *: *"revaerd"'; then
    ok "entries are identified as revaerd"
else
    not_ok "no SYSLOG_IDENTIFIER=revaerd"
fi
if journalctl --no-pager -t revaerd -o json MESSAGE_ID=adf39034e0654e6faaecc4771ecffa61 | grep -q '"ready:'; then
    ok "the start is recorded"
else
    not_ok "no start entry"
fi
if [ ! -s "$T/revaerd.log" ]; then
    ok "nothing went to stderr while the journal was there"
else
    not_ok "stderr got: $(head -c 300 "$T/revaerd.log")"
fi

echo "1..$n"
exit $failed
