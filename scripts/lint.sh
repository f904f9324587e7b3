#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Static analysis of Revaer's C sources with cppcheck. cppcheck has to see
# through GLib's macros (G_DEFINE_AUTOPTR_CLEANUP_FUNC, g_autoptr, ...) or it
# gives up on a file at the first one and reports nothing after it: gtk.cfg
# teaches it GLib, tests/lint/revaer.cfg what gtk.cfg lacks.
#   scripts/lint.sh              the whole tree
#   scripts/lint.sh FILE...      those files only (the lint test's planted defects)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
targets=("$@")
ignore=()
if [ "${#targets[@]}" -eq 0 ]; then
    # the planted defects of tests/lint/ are found on purpose, by that test
    targets=(src tests bench)
    ignore=(-i tests/lint/planted)
fi
includes=()
for d in src/*/; do
    includes+=(-I "${d%/}")
done
# varFuncNullUB: GLib's NULL-terminated varargs (g_build_filename, g_strjoin,
# g_subprocess_new) take NULL by design, checked by G_GNUC_NULL_TERMINATED.
# assertWithSideEffect in tests: GLib's g_assert_* are never compiled out in tests.
exec cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
    --library=gtk --library=tests/lint/revaer.cfg \
    --suppress=missingIncludeSystem --suppress=varFuncNullUB \
    --suppress='assertWithSideEffect:tests/*' \
    "${ignore[@]}" "${includes[@]}" "${targets[@]}"
