#!/usr/bin/env bash
# valgrind memcheck over every Catch2 test binary of a non-sanitizer build.
# - The [stress] test case is skipped: valgrind serialises threads, and the million-channel stress
#   runs under the sanitizers and the delay preset instead.
# - Binaries that count allocations by replacing the global operator new (test_allocation and the
#   sendable allocation counts) are skipped: valgrind replaces the allocator itself, so their counts
#   cannot be observed there. ASan runs them.
set -euo pipefail
build_dir="${1:-build/dev}"
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for bin in "${build_dir}"/tests/test_* "${build_dir}"/tests/sendable/test_*; do
  [ -x "$bin" ] && [ -f "$bin" ] || continue
  case "$(basename "$bin")" in test_allocation | test_stress) continue ;; esac
  echo "--- valgrind ${bin}"
  if valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
       --quiet "$bin" "~[stress]" >"$log" 2>&1; then
    tail -n 2 "$log"
  else
    code=$?
    echo "valgrind or the tests failed (exit ${code}):"
    grep -v -E '^==[0-9]+==    (at|by) ' "$log" | tail -n 80
    status=1
  fi
done
exit $status
