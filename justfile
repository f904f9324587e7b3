# Revaer's tasks. `bash scripts/bootstrap.sh` installs what they need.

build_dir := "build"
asan_dir := "build-asan"
cov_dir := "build-coverage"

# configure (once) and compile
build:
    @[ -f {{build_dir}}/build.ninja ] || meson setup {{build_dir}}
    ninja -C {{build_dir}}

# every test suite (unit, integration, pg, system)
test: build
    meson test -C {{build_dir}} --print-errorlogs

# one suite: just suite unit
suite name: build
    meson test -C {{build_dir}} --print-errorlogs --suite {{name}}

# the qBittorrent WebAPI client tests (tests/qbt) against qbittorrent-nox, the reference (apt-get install qbittorrent-nox; npm ci in tests/qbt)
test-qbt-nox: build
    QBT_TARGET=nox RV_TEST_SEEDER={{build_dir}}/tests/helpers/rv-test-seeder tests/qbt/qbt-test.sh

# the tests again under AddressSanitizer and UndefinedBehaviorSanitizer
test-sanitize:
    @[ -f {{asan_dir}}/build.ninja ] || meson setup {{asan_dir}} -Db_sanitize=address,undefined -Db_lundef=false
    ninja -C {{asan_dir}}
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        LSAN_OPTIONS=suppressions={{justfile_directory()}}/tests/lsan.supp \
        meson test -C {{asan_dir}} --print-errorlogs --timeout-multiplier 3

# what CI runs
ci: fmt-check lint check-source test test-sanitize fuzz-ci

# one libFuzzer target for a while: just fuzz torrent 600 (targets: ls tests/fuzz/fuzz-*.c)
fuzz target seconds="600":
    scripts/fuzz.sh {{target}} {{seconds}}

# every libFuzzer target for a bounded time each, as CI runs them
fuzz-ci seconds="60":
    scripts/fuzz.sh {{seconds}}

# format the C sources in place
fmt:
    git ls-files '*.c' '*.h' '*.cpp' '*.hpp' | xargs clang-format -i

# fail when a file is not formatted
fmt-check:
    git ls-files '*.c' '*.h' '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

# static analysis (cppcheck, taught GLib's macros: see scripts/lint.sh)
lint:
    scripts/lint.sh

# what the sources must not contain: g_error, bare g_assert, goto, long functions, D-Bus names outside src/base
check-source:
    python3 scripts/check-source.py

# line coverage of the unit and integration suites
coverage:
    @[ -f {{cov_dir}}/build.ninja ] || meson setup {{cov_dir}} -Db_coverage=true
    ninja -C {{cov_dir}}
    meson test -C {{cov_dir}} --print-errorlogs
    ninja -C {{cov_dir}} coverage-text
    tail -n 5 {{cov_dir}}/meson-logs/coverage.txt

# benchmarks that print figures (see bench/)
bench: build
    bench/throughput --build-dir {{build_dir}}

# Revaer beside transmission-daemon and bare libtorrent in one run, with ratios (bench/README.md): just bench-peers --torrents 2000
bench-peers *args: build
    bench/peers --build-dir {{build_dir}} {{args}}

# Revaer's qBittorrent WebAPI beside qbittorrent-nox, 10,000 torrents, list and sync with ratios (bench/README.md): just bench-qbt --skip-revaer
bench-qbt *args: build
    bench/qbt --build-dir {{build_dir}} {{args}}

# failover of three nodes on one throwaway PostgreSQL (root): takeover times over kill -9s with 1,000 torrents, command latency (bench/README.md): just bench-cluster --kills 20
bench-cluster *args: build
    bench/cluster --build-dir {{build_dir}} {{args}}

# the daemon in the foreground on the session bus with state under ./run-state
run: build
    mkdir -p run-state
    {{build_dir}}/src/daemon/revaerd --bus session --state-dir "$PWD/run-state" --verbose

# the main job: a local seeder, the daemon on the embedded store, one torrent to completion
demo: build
    scripts/demo.sh {{build_dir}}
