#!/usr/bin/env bash
# valgrind memcheck over every Catch2 test binary of a non-sanitizer build.
# The million-channel stress test runs in its sanitizer/delay-sized form elsewhere; under valgrind
# (which serialises threads) the [stress] tag is skipped and race loops run as built.
set -euo pipefail
build_dir="${1:-build/dev}"
status=0
for bin in "${build_dir}"/tests/test_* "${build_dir}"/tests/sendable/test_*; do
  [ -x "$bin" ] && [ -f "$bin" ] || continue
  echo "--- valgrind ${bin}"
  if ! valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
       --quiet "$bin" "~[stress]" >/tmp/valgrind.$$.log 2>&1; then
    tail -50 /tmp/valgrind.$$.log
    status=1
  else
    tail -2 /tmp/valgrind.$$.log
  fi
done
rm -f /tmp/valgrind.$$.log
exit $status
