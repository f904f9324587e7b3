#!/usr/bin/env bash
# The main job, end to end on this machine: a seeder on 127.0.0.1 shares a
# generated torrent, revaerd runs on the embedded store, the torrent is added
# over D-Bus and downloaded to completion, and the data is compared with the source.
set -euo pipefail

build="${1:-build}"
build="$(cd "$build" && pwd)"
size_mib="${REVAER_DEMO_MIB:-256}"
work="${REVAER_DEMO_DIR:-/var/tmp/revaer-demo}"
revaerd="$build/src/daemon/revaerd"
seeder="$build/tests/helpers/rv-test-seeder"
revaerctl="$build/src/cli/revaerctl"
# start_revaerd, shared with the shell tests
. "$(dirname "$0")/../tests/data/tap.sh"

rm -rf "$work"
mkdir -p "$work/seed" "$work/state" "$work/downloads"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

# a session bus of our own unless one is already there
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
    dbus-daemon --session --fork --nopidfile --print-address=3 --print-pid=4 3>"$work/bus.addr" 4>"$work/bus.pid"
    export DBUS_SESSION_BUS_ADDRESS="$(head -n1 "$work/bus.addr")"
    pids+=("$(cat "$work/bus.pid")")
fi

echo "demo: generating a ${size_mib} MiB torrent and seeding it on 127.0.0.1"
"$seeder" --dir "$work/seed" --size $((size_mib * 1024 * 1024)) --files 1 --name revaer-demo \
    --port 0 --torrent-out "$work/demo.torrent" --magnet-out "$work/demo.magnet" >"$work/seeder.out" &
pids+=("$!")
for _ in $(seq 1 600); do
    grep -q '^READY' "$work/seeder.out" 2>/dev/null && break
    sleep 0.1
done
grep -q '^READY' "$work/seeder.out" || { echo "demo: the seeder did not start" >&2; exit 1; }
magnet="$(cat "$work/demo.magnet")"

echo "demo: starting revaerd (embedded store in $work/state)"
start_revaerd session "$work" || { echo "demo: revaerd did not start (see $work/revaerd.log)" >&2; exit 1; }

if [ -x "$revaerctl" ]; then
    "$revaerctl" --user add --wait "$magnet"
    hash="$("$revaerctl" --user list --json | sed -n 's/.*"info_hash": *"\([0-9a-f]*\)".*/\1/p' | head -n1)"
else
    path="$(busctl --user call com.revaer.Revaer1 /com/revaer/Revaer1 com.revaer.Revaer1.Manager \
        AddMagnet 'sa{sv}' "$magnet" 0 | awk '{print $2}' | tr -d '"')"
    echo "demo: added $path"
    while :; do
        progress="$(busctl --user get-property com.revaer.Revaer1 "$path" com.revaer.Revaer1.Torrent Progress | awk '{print $2}')"
        state="$(busctl --user get-property com.revaer.Revaer1 "$path" com.revaer.Revaer1.Torrent State | awk '{print $2}' | tr -d '"')"
        rate="$(busctl --user get-property com.revaer.Revaer1 "$path" com.revaer.Revaer1.Torrent DownloadRate | awk '{print $2}')"
        awk -v s="$state" -v p="$progress" -v r="$rate" \
            'BEGIN { printf "\rdemo: %-18s %6.1f %%  %8.1f MB/s ", s, p * 100, r / 1e6 }' </dev/null
        completed="$(busctl --user get-property com.revaer.Revaer1 "$path" com.revaer.Revaer1.Torrent Completed | awk '{print $2}')"
        [ "$completed" = "true" ] && break
        sleep 0.5
    done
    echo
fi

src="$work/seed/revaer-demo"
dst="$work/downloads/revaer-demo"
if cmp -s "$src" "$dst"; then
    echo "demo: done; the data is in $dst and matches the source byte for byte"
else
    echo "demo: the downloaded data at $dst differs from the source" >&2
    exit 1
fi
