// Workload 1: a channel's whole life on one thread, against std::promise/std::future.
#include <oneshot/oneshot.hpp>

#include <benchmark/benchmark.h>

#include <future>

static void oneshot_round_trip_int(benchmark::State& state) {
    for (auto _ : state) {
        auto [tx, rx] = oneshot::channel<int>();
        (void)std::move(tx).send(42);
        auto r = rx.try_recv();
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(oneshot_round_trip_int);

static void promise_round_trip_int(benchmark::State& state) {
    for (auto _ : state) {
        std::promise<int> p;
        auto f = p.get_future();
        p.set_value(42);
        int v = f.get();
        benchmark::DoNotOptimize(v);
    }
}
BENCHMARK(promise_round_trip_int);

BENCHMARK_MAIN();
