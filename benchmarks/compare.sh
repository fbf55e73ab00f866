#!/usr/bin/env bash
# Runs the benchmark report (the target the `bench` workflow runs, oneshot_bench_report) for two
# checkouts of oneshot, one after the other, and prints a before/after table.
#
#   benchmarks/compare.sh [options] BEFORE_DIR [AFTER_DIR]
#   benchmarks/compare.sh [options] --before-ref REF [AFTER_DIR]
#
# AFTER_DIR defaults to the checkout this script belongs to. The two checkouts are meant to differ in
# include/ only, so both must hold the same benchmarks/ (the script stops if they do not). With
# --before-ref, BEFORE is a temporary git worktree of REF (a commit, branch or tag of AFTER_DIR's
# repository) whose benchmarks/ is replaced by AFTER_DIR's; the worktree is removed at the end.
#
# Options:
#   --build-root DIR   build directories DIR/before and DIR/after, reports and tables also there
#                      (default: ${TMPDIR:-/tmp}/oneshot-compare)
#   --repetitions N    repetitions of each benchmark (default 9, as the bench workflow)
#   --min-time S       minimum seconds per repetition (default 0.2, as the bench workflow)
#   --filter REGEX     run only the benchmarks matching REGEX (--benchmark_filter)
#   --jobs N           parallel build jobs (default: CMake's default)
#
# Both checkouts are built first; then the two reports run back to back, BEFORE first, on an otherwise
# quiet machine. Each report runs its repetitions in random order. Every value in the tables is a
# cost: lower is better.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit "${1:-2}"
}

script_dir=$(cd "$(dirname "$0")" && pwd)
build_root=${TMPDIR:-/tmp}/oneshot-compare
repetitions=9
min_time=0.2
filter=
jobs=()
before_ref=
positional=()
while [[ $# -gt 0 ]]; do
    case $1 in
    --build-root) build_root=$2; shift 2 ;;
    --repetitions) repetitions=$2; shift 2 ;;
    --min-time) min_time=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --jobs) jobs=(-j "$2"); shift 2 ;;
    --before-ref) before_ref=$2; shift 2 ;;
    -h | --help) usage 0 ;;
    -*) echo "compare.sh: unknown option $1" >&2; usage ;;
    *) positional+=("$1"); shift ;;
    esac
done

if [[ -n $before_ref ]]; then
    [[ ${#positional[@]} -le 1 ]] || usage
    after=${positional[0]:-$script_dir/..}
else
    [[ ${#positional[@]} -ge 1 && ${#positional[@]} -le 2 ]] || usage
    before=${positional[0]}
    after=${positional[1]:-$script_dir/..}
fi
after=$(cd "$after" && pwd)
mkdir -p "$build_root"
build_root=$(cd "$build_root" && pwd)

worktree=
cleanup() {
    if [[ -n $worktree ]]; then
        git -C "$after" worktree remove --force "$worktree" || true
    fi
}
trap cleanup EXIT

if [[ -n $before_ref ]]; then
    worktree=$build_root/before-src
    if [[ -e $worktree ]]; then
        echo "compare.sh: $worktree exists (left by an interrupted run?); remove it first" >&2
        worktree=
        exit 1
    fi
    git -C "$after" worktree add --detach "$worktree" "$before_ref"
    rm -rf "$worktree/benchmarks"
    cp -R "$after/benchmarks" "$worktree/benchmarks"
    before=$worktree
fi
before=$(cd "$before" && pwd)

for dir in "$before" "$after"; do
    if [[ ! -f $dir/CMakePresets.json || ! -d $dir/benchmarks ]]; then
        echo "compare.sh: $dir is not a oneshot checkout" >&2
        exit 1
    fi
done
if ! diff -rq "$before/benchmarks" "$after/benchmarks" >/dev/null; then
    echo "compare.sh: $before/benchmarks and $after/benchmarks differ; the comparison needs the" >&2
    echo "same benchmarks on both sides, e.g.:" >&2
    echo "  rm -rf '$before/benchmarks' && cp -R '$after/benchmarks' '$before/'" >&2
    exit 1
fi

bench_args="--oneshot_table_out=TSV"
[[ -n $filter ]] && bench_args+=";--benchmark_filter=$filter"

# Configure and build both first, so that no compilation runs while a report measures.
for side in before after; do
    if [[ $side == before ]]; then src=$before; else src=$after; fi
    build=$build_root/$side
    echo "== $side: $src -> $build"
    # A build directory left by a run on another checkout cannot be reused: start it afresh.
    if [[ -f $build/CMakeCache.txt ]] &&
        ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$src" "$build/CMakeCache.txt"; then
        rm -rf "$build"
    fi
    (cd "$src" && cmake --preset release -B "$build" \
        -DONESHOT_BUILD_TESTS=OFF -DONESHOT_BUILD_EXAMPLES=OFF \
        -DONESHOT_BENCH_REPETITIONS="$repetitions" -DONESHOT_BENCH_MIN_TIME="$min_time" \
        -DONESHOT_BENCH_ARGS="${bench_args/TSV/$build/table.tsv}" >"$build_root/$side-configure.log")
    cmake --build "$build" --target oneshot_bench ${jobs[@]+"${jobs[@]}"}
done

for side in before after; do
    build=$build_root/$side
    rm -f "$build/table.tsv"
    echo "== running the $side report (log: $build/report.txt)"
    cmake --build "$build" --target oneshot_bench_report 2>&1 | tee "$build/report.txt"
    if [[ ! -s $build/table.tsv ]]; then
        echo "compare.sh: the $side report wrote no table" >&2
        exit 1
    fi
done

# The oneshot column of both runs side by side, and each run's ratio to its baseline.
{
    echo
    echo "oneshot before/after: $before (before) vs $after (after)"
    echo "medians of $repetitions repetitions, minimum ${min_time} s each; every value is a cost: LOWER IS BETTER."
    echo "before, after: the oneshot value of each run; after/before below 1: the change made it cheaper."
    echo "ratio before, ratio after: oneshot / baseline within each run (the baseline is measured in both)."
    awk -F'\t' '
        function show(v) { return v == "" ? "n/a" : v }
        NR == FNR {
            if (FNR > 1) { key = $1 FS $2 FS $3 FS $5; value[key] = $4; ratio[key] = $7 }
            next
        }
        FNR == 1 {
            line = sprintf("%-130s", ""); gsub(/ /, "-", line)
            print line
            printf "%-2s %-47s %-7s %9s %9s %12s  %-16s %12s %12s\n", "#", "workload", "unit", \
                "before", "after", "after/before", "baseline", "ratio before", "ratio after"
            print line
            next
        }
        {
            key = $1 FS $2 FS $3 FS $5
            b = (key in value) ? value[key] : ""
            change = (b != "" && $4 != "" && b + 0 != 0) ? sprintf("%.3f", $4 / b) : ""
            printf "%-2s %-47s %-7s %9s %9s %12s  %-16s %12s %12s\n", $1, $2, $3, show(b), \
                show($4), change, $5, show((key in ratio) ? ratio[key] : ""), show($7)
        }
        END { print line }
    ' "$build_root/before/table.tsv" "$build_root/after/table.tsv"
} | tee "$build_root/compare.txt"
echo "(also in $build_root/compare.txt)"
