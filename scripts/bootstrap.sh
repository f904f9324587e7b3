#!/usr/bin/env bash
# Installs everything Revaer needs to build, run and test on Debian 12, as root.
# Safe to run again: it only installs what is missing.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: run this as root (it installs Debian packages)" >&2
    exit 2
fi

packages=(
    # build
    meson ninja-build pkg-config gcc g++ gettext
    libtorrent-rasterbar-dev libsystemd-dev libglib2.0-dev libjson-glib-dev
    libsoup-3.0-dev libpq-dev libarchive-dev libpolkit-gobject-1-dev
    # run and test: buses, polkit, systemd tools, PostgreSQL, peers and clients
    dbus-daemon dbus-bin systemd polkitd postgresql python3-libtorrent python3-dbus curl procps
    # bench/cluster reads the torrents table while the nodes fail over
    python3-psycopg2
    # the HTTP API's tests: its documented examples, HTTPS with a certificate of their own
    jq openssl
    # the systemd integration tests: a user manager's session bus, the desktop entry, the man pages
    dbus-user-session desktop-file-utils groff-base man-db libglib2.0-bin
    # FsOps: par2 repairs PAR2 sets (run by revaerd); zip, 7z and bsdtar make and read the tests' archives
    par2 zip p7zip-full libarchive-tools
    # lint and coverage
    clang-format clang-tidy cppcheck gcovr lcov
    # the fuzz targets: clang with its runtimes (libFuzzer, ASan, UBSan)
    clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "bootstrap: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# just is not in bookworm; npm's rust-just ships the static binary
if ! command -v just >/dev/null 2>&1; then
    echo "bootstrap: installing just from npm (rust-just)"
    npm install -g --no-audit --no-fund rust-just >/dev/null
    bin="$(npm root -g)/rust-just/node_modules/rust-just-linux-x64/bin/just"
    if [ -x "$bin" ]; then
        ln -sf "$bin" /usr/local/bin/just
    fi
fi
just --version >/dev/null

# the qBittorrent WebAPI client tests (tests/qbt) drive Revaer with a client from
# npm, at the versions tests/qbt/package-lock.json pins. qbittorrent-nox, the
# reference, is not installed here: just test-qbt-nox and bench/qbt need it
# (apt-get install qbittorrent-nox; bench/qbt installs it itself).
qbt_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/qbt"
if ! npm ls --prefix "$qbt_dir" --silent >/dev/null 2>&1 ||
    [ ! -d "$qbt_dir/node_modules/@ctrl/qbittorrent" ]; then
    echo "bootstrap: installing the qBittorrent client tests' npm packages (npm ci in tests/qbt)"
    npm ci --prefix "$qbt_dir" --no-audit --no-fund --loglevel=error >/dev/null
fi
echo "bootstrap: ready"
