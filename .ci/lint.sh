#!/usr/bin/env bash
# clang-format (no changes needed) over every C++ file, and clang-tidy (no findings) over the public
# headers.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t headers < <(find include -name '*.hpp' | sort)
mapfile -t sources < <(find include tests examples benchmarks -name '*.hpp' -o -name '*.cpp' | sort)
clang-format --dry-run --Werror "${sources[@]}"
echo "clang-format: ${#sources[@]} files clean"

# clang-tidy sees the headers through one translation unit that includes every one of them, and
# through the smoke test, which instantiates the templates. The generated unit lives inside the
# tree so that .clang-tidy applies to it.
mkdir -p build/lint
tu=build/lint/all_headers.cpp
for h in "${headers[@]}"; do echo "#include <${h#include/}>"; done >"$tu"
clang-tidy --quiet "$tu" -- -std=c++20 -Iinclude -pthread
clang-tidy --quiet tests/smoke/no_exceptions.cpp -- -std=c++20 -Iinclude -Itests -pthread -fno-exceptions -fno-rtti
echo "clang-tidy: clean"
