#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# After `meson install` on a live system (no DESTDIR, as root): create the
# service user and its directories, compile the journal catalog, index the
# desktop entry's MIME types, and let a running systemd see the new units.
# Packages do the same in their scripts; into a DESTDIR nothing is run.
# usage: meson-post-install.sh SYSUSERS_CONF TMPFILES_CONF APPLICATIONS_DIR
set -eu

if [ -n "${DESTDIR:-}" ] || [ "$(id -u)" -ne 0 ]; then
    exit 0
fi
sysusers="$1"
tmpfiles="$2"
applications="$3"

if command -v systemd-sysusers >/dev/null; then
    systemd-sysusers "$sysusers" || echo "revaer: systemd-sysusers $sysusers failed, ignoring" >&2
fi
if command -v systemd-tmpfiles >/dev/null; then
    systemd-tmpfiles --create "$tmpfiles" || echo "revaer: systemd-tmpfiles --create $tmpfiles failed, ignoring" >&2
fi
if command -v journalctl >/dev/null; then
    journalctl --update-catalog || echo "revaer: journalctl --update-catalog failed, ignoring" >&2
fi
# the desktop entry as a handler of magnet links and .torrent files
if command -v update-desktop-database >/dev/null; then
    update-desktop-database -q "$applications" || echo "revaer: update-desktop-database failed, ignoring" >&2
fi
# only where systemd is the running init
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl daemon-reload || echo "revaer: systemctl daemon-reload failed, ignoring" >&2
fi
