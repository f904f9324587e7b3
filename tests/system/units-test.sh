#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The systemd files as `meson install` puts them, without a running systemd:
# every file is there, `systemd-analyze verify` has nothing to say about the
# system and user units, `systemd-analyze security` rates revaer.service at
# most 2.0, the names that tie units, socket and bus activation together
# agree, and sysusers.d and tmpfiles.d create the user and its directories
# in a scratch root.
#
# env: REVAER_BUILD_ROOT (the build tree), REVAERD
set -eu

. "$(dirname "$0")/../data/tap.sh"

for tool in meson systemd-analyze systemd-sysusers systemd-tmpfiles; do
    command -v "$tool" >/dev/null || skip_all "$tool is not installed"
done

T="$(mktemp -d /tmp/rv-units-XXXXXX)"
trap 'rm -rf "$T"' EXIT
D="$T/dest"

if ! meson install -C "$REVAER_BUILD_ROOT" --no-rebuild --quiet --destdir "$D" >"$T/install.log" 2>&1; then
    echo "Bail out! meson install --destdir failed"
    diag <"$T/install.log"
    exit 1
fi
ok "meson install --destdir"

prefix="$(meson introspect --buildoptions "$REVAER_BUILD_ROOT" |
    /usr/bin/python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')"

# where the files went: the unit directories depend on the prefix
find_one() {
    # prints the one installed file whose path ends in $1
    find "$D" -path "*$1" -type f | head -n1
}
system_service="$(find_one /lib/systemd/system/revaer.service)"
system_socket="$(find_one /lib/systemd/system/revaer.socket)"
user_service="$(find_one /lib/systemd/user/revaer.service)"
user_socket="$(find_one /lib/systemd/user/revaer.socket)"
sysusers="$(find_one /lib/sysusers.d/revaer.conf)"
tmpfiles="$(find_one /lib/tmpfiles.d/revaer.conf)"
for f in system_service system_socket user_service user_socket sysusers tmpfiles; do
    if [ -n "${!f}" ]; then ok "installed $f: ${!f#"$D"}"; else not_ok "installed $f"; fi
done
for f in lib/systemd/catalog/revaer.catalog share/applications/revaer-magnet.desktop \
    share/man/man8/revaerd.8 share/man/man5/revaerd.conf.5 share/doc/revaer/downloads.conf.example \
    share/doc/revaer/revaerd.conf.example share/dbus-1/system-services/com.revaer.Revaer1.service \
    share/dbus-1/services/com.revaer.Revaer1.service; do
    check "installed $prefix/$f" test -f "$D$prefix/$f"
done
if [ -z "$system_service" ] || [ -z "$system_socket" ] || [ -z "$user_service" ] || [ -z "$user_socket" ]; then
    echo "1..$n"
    exit 1
fi

# ExecStart= names the daemon at the path it was installed to
for unit in "$system_service" "$user_service"; do
    exe="$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")"
    if [ -x "$D$exe" ] && cmp -s "$D$exe" "$REVAERD"; then
        ok "ExecStart of ${unit#"$D"} is the installed revaerd ($exe)"
    else
        not_ok "ExecStart of ${unit#"$D"} is '$exe', not the installed revaerd"
    fi
done

# verify wants an executable on this machine's path: the same units with
# ExecStart pointing into the DESTDIR
mkdir -p "$T/system" "$T/user" "$T/xdg"
chmod 700 "$T/xdg"
sed "s|^ExecStart=|ExecStart=$D|" "$system_service" >"$T/system/revaer.service"
cp "$system_socket" "$T/system/revaer.socket"
sed "s|^ExecStart=|ExecStart=$D|" "$user_service" >"$T/user/revaer.service"
cp "$user_socket" "$T/user/revaer.socket"

verify() {
    # verify what out-file args...: ok when it succeeds and prints nothing
    local what="$1" log="$2"
    shift 2
    if "$@" >"$log" 2>&1 && [ ! -s "$log" ]; then
        ok "$what"
    else
        not_ok "$what"
        diag <"$log"
    fi
}
# Documentation=man: pages are looked up among the installed ones
man=no
if command -v man >/dev/null; then man=yes; fi
export MANPATH="$D$prefix/share/man:/usr/share/man"
verify "systemd-analyze verify --man=$man: system units" "$T/verify-system.log" \
    systemd-analyze verify --man=$man "$T/system/revaer.service" "$T/system/revaer.socket"
# a user manager needs a runtime directory
verify "systemd-analyze verify --user --man=$man: user units" "$T/verify-user.log" \
    env XDG_RUNTIME_DIR="$T/xdg" HOME="$T/xdg" \
    systemd-analyze verify --user --man=$man "$T/user/revaer.service" "$T/user/revaer.socket"

# the exposure, on systemd-analyze's 0-100 scale (2.0 shown is 20)
rc=0
systemd-analyze security --offline=yes --threshold=20 --no-pager "$T/system/revaer.service" \
    >"$T/security.log" 2>&1 || rc=$?
exposure="$(sed -n 's/.*Overall exposure level for revaer.service: \([0-9.]*\).*/\1/p' "$T/security.log")"
if [ "$rc" -eq 0 ] && [ -n "$exposure" ]; then
    ok "systemd-analyze security: exposure $exposure (at most 2.0)"
else
    not_ok "systemd-analyze security: exposure '${exposure:-?}' is above 2.0 (rc $rc)"
    grep -v '^✓' "$T/security.log" | diag
fi
grep '✗' "$T/security.log" | diag || true

# what ties the pieces together
key() { sed -n "s/^$2=//p" "$1" | tail -n1; }
sys_dbus="$D$prefix/share/dbus-1/system-services/com.revaer.Revaer1.service"
ses_dbus="$D$prefix/share/dbus-1/services/com.revaer.Revaer1.service"
check "system bus activation names revaer.service" [ "$(key "$sys_dbus" SystemdService)" = revaer.service ]
check "system bus activation runs as the unit's user" \
    [ "$(key "$sys_dbus" User)" = "$(key "$system_service" User)" ]
check "system unit owns the activated bus name" [ "$(key "$system_service" BusName)" = "$(key "$sys_dbus" Name)" ]
check "session bus activation names revaer.service" [ "$(key "$ses_dbus" SystemdService)" = revaer.service ]
check "user unit owns the activated bus name" [ "$(key "$user_service" BusName)" = "$(key "$ses_dbus" Name)" ]
check "user unit serves the session bus" grep -q '^ExecStart=.* --bus session' "$user_service"
check "system unit is Type=notify, restarted on failure, with a watchdog" [ "$(key "$system_service" Type)/$(key \
    "$system_service" Restart)/$(key "$system_service" WatchdogSec)" = notify/on-failure/20s ]
check "socket passes its fd as 'http'" [ "$(key "$system_socket" FileDescriptorName)" = http ]
check "socket listens on 127.0.0.1:7070" [ "$(key "$system_socket" ListenStream)" = 127.0.0.1:7070 ]
check "user socket passes its fd as 'http'" [ "$(key "$user_socket" FileDescriptorName)" = http ]
check "unit user comes from sysusers.d" grep -q "^u $(key "$system_service" User) " "$sysusers"

# sysusers.d and tmpfiles.d in a scratch root: the user, then its directories
R="$T/root"
mkdir -p "$R/etc"
if systemd-sysusers --root="$R" "$sysusers" >"$T/sysusers.log" 2>&1 && grep -q '^revaer:' "$R/etc/passwd" &&
    grep -q '^revaer:' "$R/etc/group"; then
    ok "systemd-sysusers creates user and group revaer"
else
    not_ok "systemd-sysusers creates user and group revaer"
    diag <"$T/sysusers.log"
fi
uid="$(awk -F: '$1 == "revaer" { print $3 }' "$R/etc/passwd")"
if systemd-tmpfiles --root="$R" --create "$tmpfiles" >"$T/tmpfiles.log" 2>&1; then
    ok "systemd-tmpfiles --create"
else
    not_ok "systemd-tmpfiles --create"
    diag <"$T/tmpfiles.log"
fi
# the modes agree with the unit's StateDirectoryMode= and CacheDirectoryMode=
for d in var/lib/revaer:"$(key "$system_service" StateDirectoryMode)" \
    var/cache/revaer:"$(key "$system_service" CacheDirectoryMode)" var/lib/revaer/downloads:0750; do
    path="${d%%:*}"
    mode="${d#*:}"
    got="$(stat -c '%u 0%a' "$R/$path" 2>/dev/null || echo missing)"
    check "tmpfiles makes /$path owned by revaer, mode $mode" [ "$got" = "$uid $mode" ]
done
check "tmpfiles makes /etc/revaer/revaerd.conf.d" test -d "$R/etc/revaer/revaerd.conf.d"

echo "1..$n"
exit $failed
