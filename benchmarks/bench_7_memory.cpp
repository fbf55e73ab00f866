// Workload 7: heap memory per channel. A channel<int>'s whole life (create, send, receive, destroy)
// against std::promise<int> + get_future + set_value + get, with the allocations counted by the
// replacement operator new of bench_main.cpp: allocs_per_op (calls to operator new), bytes_per_op
// (bytes requested) and chunk_bytes_per_op (the same requests as glibc malloc chunks).
#include "bench_common.hpp"

#include <oneshot/channel.hpp>

#include <benchmark/benchmark.h>

#include <future>
#include <utility>

namespace {

void memory_oneshot(benchmark::State& state) {
    int value = 7;
    const bench::alloc_meter meter;
    for (auto _ : state) {
        benchmark::DoNotOptimize(value);
        auto [tx, rx] = oneshot::channel<int>();
        bool sent = std::move(tx).send(value).has_value();
        benchmark::DoNotOptimize(sent);
        auto r = rx.try_recv();
        benchmark::DoNotOptimize(r);
    }
    meter.report(state);
}

void memory_promise(benchmark::State& state) {
    int value = 7;
    const bench::alloc_meter meter;
    for (auto _ : state) {
        benchmark::DoNotOptimize(value);
        std::promise<int> p;
        std::future<int> f = p.get_future();
        p.set_value(value);
        int v = f.get();
        benchmark::DoNotOptimize(v);
    }
    meter.report(state);
}

[[maybe_unused]] const bool registered = [] {
    benchmark::RegisterBenchmark("BM_memory/oneshot", memory_oneshot);
    benchmark::RegisterBenchmark("BM_memory/promise", memory_promise);
    return true;
}();

} // namespace
