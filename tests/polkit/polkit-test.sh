#!/bin/bash
# polkit decides who may change what: the real polkitd on a private system bus
# that uses Revaer's own bus policy, polkit actions and rules file; revaerd on
# that bus as user "revaer", as revaer.service runs it (polkit tells a caller
# other than root about other users only if it owns the action); callers as
# root, as a member of the group "revaer" (allowed to manage by the rules
# file) and as another user (refused on every change, still able to read).
# Then polkit refusing to check (an action file without the owner annotation)
# and polkit gone: callers are told which, and revaerd warns once for each.
# Running revaerd as "revaer" pins "polkit refuses every non-root caller under
# the shipped unit", which a revaerd running as root, whom polkit always
# answers, did not show.
#
# The whole test runs in a private mount namespace: test users live in
# bind-mounted copies of /etc/passwd and /etc/group, polkit's action and rules
# directories are bind mounts, so nothing on the host changes.
#
# usage: polkit-test.sh REVAERD SEEDER POLICY RULES BUS_CONF_IN REVAER_BUS_CONF REVAERCTL
set -u

. "$(dirname "$0")/../data/tap.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null || [ ! -x /usr/lib/polkit-1/polkitd ]; then
    skip_all "needs root, unshare and /usr/lib/polkit-1/polkitd"
fi
in_private_mounts RV_POLKIT_INNER "$0" "$@"

revaerd="$1"
seeder="$2"
policy="$3"
rules="$4"
bus_conf_in="$5"
revaer_bus_conf="$6"
revaerctl="$7"

T="$(mktemp -d /tmp/rv-polkit-XXXXXX)"
chmod 755 "$T"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    if [ -n "${REVAER_TEST_KEEP:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT


# test users and the service group, in copies of the account files
cp /etc/passwd "$T/passwd"
cp /etc/group "$T/group"
grep -q '^revaer:' "$T/group" || echo "revaer:x:59990:revaer-test-mgr" >>"$T/group"
sed -i 's/^\(revaer:x:[0-9]*:\)\(.*\)$/\1\2,revaer-test-mgr/; s/^\(revaer:x:[0-9]*:\),/\1/' "$T/group"
grep -q '^revaer:' "$T/passwd" || echo "revaer:x:59990:59990:Revaer:/nonexistent:/usr/sbin/nologin" >>"$T/passwd"
echo "revaer-test-mgr:x:59991:59991::/nonexistent:/bin/sh" >>"$T/passwd"
echo "revaer-test-other:x:59992:59992::/nonexistent:/bin/sh" >>"$T/passwd"
echo "revaer-test-mgr:x:59991:" >>"$T/group"
echo "revaer-test-other:x:59992:" >>"$T/group"
mount --bind "$T/passwd" /etc/passwd
mount --bind "$T/group" /etc/group

# polkit with only Revaer's actions and rules
mkdir -p "$T/actions" "$T/rules.d" "$T/no-rules"
cp "$policy" "$T/actions/"
cp "$rules" "$T/rules.d/50-com.revaer.revaer1.rules"
chmod -R a+rX "$T/actions" "$T/rules.d" "$T/no-rules"
mount --bind "$T/actions" /usr/share/polkit-1/actions
mount --bind "$T/rules.d" /etc/polkit-1/rules.d
[ -d /usr/share/polkit-1/rules.d ] && mount --bind "$T/no-rules" /usr/share/polkit-1/rules.d

sed -e "s|@LISTEN@|unix:path=$T/system_bus_socket|" -e "s|@REVAER_CONF@|$revaer_bus_conf|" \
    "$bus_conf_in" >"$T/bus.conf"
dbus-daemon --config-file="$T/bus.conf" --nofork --print-address=3 3>"$T/bus.addr" 2>"$T/bus.log" &
pids+=("$!")
for _ in $(seq 1 50); do [ -s "$T/bus.addr" ] && break; sleep 0.1; done
export DBUS_SYSTEM_BUS_ADDRESS="$(head -n1 "$T/bus.addr")"

polkitd_pid=""
start_polkitd() {
    /usr/lib/polkit-1/polkitd --no-debug >>"$T/polkitd.log" 2>&1 &
    polkitd_pid=$!
    pids+=("$polkitd_pid")
    for _ in $(seq 1 100); do
        busctl --system status org.freedesktop.PolicyKit1 >/dev/null 2>&1 && break
        sleep 0.1
    done
}
stop_polkitd() {
    kill "$polkitd_pid" 2>/dev/null
    wait "$polkitd_pid" 2>/dev/null
    for _ in $(seq 1 100); do
        busctl --system status org.freedesktop.PolicyKit1 >/dev/null 2>&1 || break
        sleep 0.1
    done
}
start_polkitd

# a small torrent with metadata, from the seeder helper
"$seeder" --dir "$T/seed" --size 1048576 --files 3 --name pk --port 0 --torrent-out "$T/pk.torrent" \
    >"$T/seeder.out" 2>&1 &
seeder_pid=$!
pids+=("$seeder_pid")
for _ in $(seq 1 100); do grep -q '^READY' "$T/seeder.out" && break; sleep 0.1; done
hash="$(sed -n 's/^READY .*hash=\([0-9a-f]*\).*/\1/p' "$T/seeder.out")"

# revaerd as its own user, from a copy the user can reach wherever the tree
# is (and revaerctl for the other users)
mkdir -p "$T/bin" "$T/state" "$T/downloads"
cp "$revaerd" "$revaerctl" "$T/bin/"
chown revaer: "$T/state" "$T/downloads"
revaerd="$T/bin/revaerd"
if REVAERD_USER=revaer start_revaerd system "$T"; then
    ok "revaerd owns its name on the system bus"
else
    not_ok "revaerd owns its name on the system bus"
    cat "$T/revaerd.log" | sed 's/^/# /'
    echo "1..$n"
    exit 1
fi

M=/com/revaer/Revaer1
MI=com.revaer.Revaer1.Manager
TI=com.revaer.Revaer1.Torrent
bytes="$(od -An -tu1 -v "$T/pk.torrent" | tr -s ' \n' ' ')"
size="$(stat -c %s "$T/pk.torrent")"

as() {
    local user="$1"
    shift
    if [ "$user" = root ]; then
        "$@"
    else
        runuser -u "$user" -- env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" "$@"
    fi
}

# expect: ok | denied
check() {
    local expect="$1" user="$2" what="$3"
    shift 3
    local out
    out="$(as "$user" "$@" 2>&1)"
    local rc=$?
    if [ "$expect" = ok ] && [ $rc -eq 0 ]; then
        ok "$user may $what"
    elif [ "$expect" = denied ] && [ $rc -ne 0 ] && echo "$out" | grep -qi "access denied\|not authorized\|AccessDenied\|InteractiveAuthorizationRequired\|interactive authentication is required"; then
        ok "$user may not $what ($out)"
    else
        not_ok "$user $what: expected $expect, got rc=$rc: $out"
    fi
}

call="busctl --system call com.revaer.Revaer1"

# root: polkit is skipped
check ok root "add a torrent" $call $M $MI AddTorrent 'aya{sv}' "$size" $bytes 1 paused b true
P="$M/torrent/$hash"
check ok root "pause it" $call "$P" $TI Pause

# a member of the group "revaer" may manage by the rules file
check ok revaer-test-mgr "resume a torrent" $call "$P" $TI Resume
check ok revaer-test-mgr "pause a torrent" $call "$P" $TI Pause
check ok revaer-test-mgr "set selection" $call "$P" $TI SetSelection 'asasb' 1 '*.bin' 0 false
check ok revaer-test-mgr "set a property" busctl --system set-property com.revaer.Revaer1 "$P" $TI Sequential b true
check ok revaer-test-mgr "add a magnet" $call $M $MI AddMagnet 'sa{sv}' \
    "magnet:?xt=urn:btih:1111111111111111111111111111111111111111&dn=m" 0

# anybody else is refused on every change
O=revaer-test-other
check denied $O "add a magnet" $call $M $MI AddMagnet 'sa{sv}' \
    "magnet:?xt=urn:btih:2222222222222222222222222222222222222222&dn=o" 0
check denied $O "add torrent data" $call $M $MI AddTorrent 'aya{sv}' "$size" $bytes 0
check denied $O "add a torrent from a descriptor" /usr/bin/python3 -c "
import dbus, os, sys
bus = dbus.bus.BusConnection(os.environ['DBUS_SYSTEM_BUS_ADDRESS'])
m = dbus.Interface(bus.get_object('com.revaer.Revaer1', '$M'), '$MI')
fd = os.open('$T/pk.torrent', os.O_RDONLY)
try:
    m.AddTorrentFd(dbus.types.UnixFd(fd), dbus.Dictionary({}, signature='sv'))
except dbus.DBusException as e:
    print(e.get_dbus_name(), e.get_dbus_message()); sys.exit(1)
"
check denied $O "pause all" $call $M $MI PauseAll
check denied $O "resume all" $call $M $MI ResumeAll
check denied $O "pause" $call "$P" $TI Pause
check denied $O "resume" $call "$P" $TI Resume
check denied $O "recheck" $call "$P" $TI Recheck
check denied $O "reannounce" $call "$P" $TI Reannounce
check denied $O "set selection" $call "$P" $TI SetSelection 'asasb' 0 0 true
check denied $O "set file priorities" $call "$P" $TI SetFilePriorities 'a(uy)' 1 0 7
check denied $O "move storage" $call "$P" $TI MoveStorage s "$T/elsewhere"
check denied $O "remove" $call "$P" $TI Remove b false
for prop in "Sequential b false" "DownloadLimit x 1000" "UploadLimit x 1000" "Labels as 1 x"; do
    # shellcheck disable=SC2086
    check denied $O "write ${prop%% *}" busctl --system set-property com.revaer.Revaer1 "$P" $TI $prop
done

# ... and may still read
check ok $O "list torrents" $call $M $MI ListTorrents
check ok $O "read a property" busctl --system get-property com.revaer.Revaer1 "$P" $TI State
check ok $O "get managed objects" $call $M org.freedesktop.DBus.ObjectManager GetManagedObjects
check ok $O "list files" $call "$P" $TI ListFiles
check ok $O "introspect" busctl --system introspect com.revaer.Revaer1 "$P"

# nothing the refused user tried changed anything: still two torrents, still there
count="$(busctl --system get-property com.revaer.Revaer1 $M $MI TorrentCount | awk '{print $2}')"
if [ "$count" = 2 ]; then ok "refused calls changed nothing"; else not_ok "torrent count is $count, expected 2"; fi

# check_failure USER WHAT TOLD ARGS...: revaerctl ARGS is denied and says TOLD
check_failure() {
    local user="$1" what="$2" told="$3" out
    shift 3
    if out="$(as "$user" "$T/bin/revaerctl" "$@" </dev/null 2>&1)"; then
        not_ok "$what: the call went through"
    elif echo "$out" | grep -qF "$told"; then
        ok "$what: $out"
    else
        not_ok "$what: expected '$told', got: $out"
    fi
}
# warned_once WHAT: revaerd logged WHAT at warning once, with polkit's words quoted
warned_once() {
    local count
    count="$(grep -c "$1 whether .*: \".*\" (.*); callers other than root are denied" "$T/revaerd.log")"
    if [ "$count" = 1 ]; then
        ok "revaerd warned once: $(grep "$1 whether" "$T/revaerd.log")"
    else
        not_ok "revaerd warned $count times, not once, that $1"
    fi
}
# busctl shows every AccessDenied as "Access denied": this tells that the
# refusals above were polkit's "no", not a failed check
if ! grep -q "polkit refused to check\|polkit did not answer" "$T/revaerd.log"; then
    ok "revaerd logged no polkit failure while polkit answered"
else
    not_ok "revaerd logged a polkit failure while polkit answered"
fi

# polkit refusing to check, as it did with the action file as shipped before
# the owner annotation: every caller but root is denied, told so, and
# revaerd says why once, not once per call
stop_polkitd
sed '/org.freedesktop.policykit.owner/d' "$policy" >"$T/actions/$(basename "$policy")"
start_polkitd
told="authorization is not available (polkit refused to check this caller)"
check_failure revaer-test-mgr "without the owner annotation a member may not pause" "$told" pause "$hash"
check_failure $O "without the owner annotation another user may not list" "$told" list
warned_once "polkit refused to check"
if grep -q '"Only trusted callers' "$T/revaerd.log"; then ok "the warning quotes polkit's reason"; else
    not_ok "the warning quotes polkit's reason"
fi
check ok root "pause while polkit refuses (root needs no polkit)" $call "$P" $TI Pause

# and polkit gone
stop_polkitd
told="authorization is not available (polkit did not answer)"
check_failure revaer-test-mgr "without polkit a member may not pause" "$told" pause "$hash"
check_failure $O "without polkit another user may not list" "$told" list
warned_once "polkit did not answer"

kill "$seeder_pid" 2>/dev/null
echo "1..$n"
if [ $failed -ne 0 ]; then
    echo "# revaerd log:"
    sed 's/^/# /' "$T/revaerd.log" | tail -40
    echo "# polkitd log:"
    sed 's/^/# /' "$T/polkitd.log" | tail -20
fi
exit $failed
