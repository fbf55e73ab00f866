// Shared helpers of the oneshot benchmark binary (oneshot_bench).
//
// Naming: every benchmark is registered as "BM_<workload>/<impl>" (e.g. "BM_roundtrip_int/oneshot",
// "BM_roundtrip_int/promise", "BM_roundtrip_int/floor"); bench_main.cpp pairs them by these names
// in the comparison table printed by `--oneshot_table`.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

namespace bench {

/// Heap allocations made by the calling thread since it started, counted by the replacement global
/// operator new in bench_main.cpp (every form: plain, array, nothrow, aligned).
struct alloc_counts {
    std::uint64_t allocs = 0; ///< calls to operator new
    std::uint64_t bytes = 0;  ///< bytes requested from operator new
    std::uint64_t chunk = 0;  ///< estimated glibc chunk bytes: max(32, (n + 8) rounded up to 16)
};

/// The calling thread's counts so far.
alloc_counts thread_alloc_counts() noexcept;

/// Voluntary context switches of the whole process so far: how often a thread gave up its CPU, e.g.
/// to sleep in a futex wait. 0 where getrusage() is not available.
long long voluntary_switches() noexcept;

/// Reports the allocations made on the calling thread between its construction and `report()` as
/// per-iteration counters: allocs_per_op, bytes_per_op, chunk_bytes_per_op.
class alloc_meter {
public:
    alloc_meter() noexcept : start_(thread_alloc_counts()) {}

    void report(benchmark::State& state) const {
        const alloc_counts end = thread_alloc_counts();
        const double n = state.iterations() > 0 ? static_cast<double>(state.iterations()) : 1.0;
        state.counters["allocs_per_op"] = static_cast<double>(end.allocs - start_.allocs) / n;
        state.counters["bytes_per_op"] = static_cast<double>(end.bytes - start_.bytes) / n;
        state.counters["chunk_bytes_per_op"] = static_cast<double>(end.chunk - start_.chunk) / n;
    }

private:
    alloc_counts start_;
};

/// Reports the process's voluntary context switches between construction and `report()`, per
/// `ops` operations, as the counter sleeps_per_op (how many times some thread went to sleep).
class sleep_meter {
public:
    sleep_meter() noexcept : start_(voluntary_switches()) {}

    void report(benchmark::State& state, double ops) const {
        const double n = ops > 0 ? ops : 1.0;
        state.counters["sleeps_per_op"] = static_cast<double>(voluntary_switches() - start_) / n;
    }

private:
    long long start_;
};

} // namespace bench
