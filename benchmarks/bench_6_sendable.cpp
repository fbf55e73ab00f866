// Workload 6: sendable::send_rc.
//
// BM_rc_copy: copy + destroy of a reference (count up, count down), against std::shared_ptr (atomic
// counts: bench_main.cpp starts a thread before main) and a raw pointer.
// BM_rc_deref: reading the value through the reference, against std::shared_ptr and a raw pointer.
// BM_rc_migrate: moving a graph of 1,000,000 send_rcs to another thread: park every rc (walking the
// graph through the values park returns), ready(), hand the rcs and the token over a oneshot channel,
// unpark() on the other thread and acknowledge. Counter ns_per_rc = that time / number of rcs; the
// counters park_ns, ready_ns, handoff_ns (send to the other thread's wake-up) and unpark_ns (unpark +
// acknowledgement) split it, also per rc.
// The graph is a ring of 500,000 nodes: each node is held by one rc in a vector and by the previous
// node's `next`, so every value has two rcs. Building and destroying it is not timed.
#include "bench_common.hpp"

#include <oneshot/channel.hpp>
#include <sendable/sendable.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

namespace {

void rc_copy_send_rc(benchmark::State& state) {
    const auto rc = sendable::make_send_rc<int>(42);
    for (auto _ : state) {
        sendable::send_rc<int> copy(rc);
        benchmark::DoNotOptimize(copy);
    }
}

void rc_copy_shared_ptr(benchmark::State& state) {
    const auto sp = std::make_shared<int>(42);
    for (auto _ : state) {
        std::shared_ptr<int> copy(sp);
        benchmark::DoNotOptimize(copy);
    }
}

void rc_copy_raw(benchmark::State& state) {
    const auto owner = std::make_unique<int>(42);
    int* const p = owner.get();
    for (auto _ : state) {
        int* copy = p;
        benchmark::DoNotOptimize(copy);
    }
}

// Each deref loop makes the compiler forget the handle (DoNotOptimize clobbers memory), then reads
// the value through it: the handle load, any check, and the value load are in every iteration.
void rc_deref_send_rc(benchmark::State& state) {
    auto rc = sendable::make_send_rc<int>(42);
    for (auto _ : state) {
        benchmark::DoNotOptimize(rc);
        int v = *rc;
        benchmark::DoNotOptimize(v);
    }
}

void rc_deref_shared_ptr(benchmark::State& state) {
    auto sp = std::make_shared<int>(42);
    for (auto _ : state) {
        benchmark::DoNotOptimize(sp);
        int v = *sp;
        benchmark::DoNotOptimize(v);
    }
}

void rc_deref_raw(benchmark::State& state) {
    const auto owner = std::make_unique<int>(42);
    int* p = owner.get();
    for (auto _ : state) {
        benchmark::DoNotOptimize(p);
        int v = *p;
        benchmark::DoNotOptimize(v);
    }
}

struct node {
    int value;
    sendable::send_rc<node> next;
};

constexpr std::size_t ring_nodes = 500'000;
constexpr std::size_t ring_rcs = 2 * ring_nodes; // one in the vector, one in the previous node

std::vector<sendable::send_rc<node>> build_ring() {
    std::vector<sendable::send_rc<node>> roots;
    roots.reserve(ring_nodes);
    for (std::size_t i = 0; i < ring_nodes; ++i)
        roots.push_back(sendable::make_send_rc<node>(static_cast<int>(i), nullptr));
    for (std::size_t i = 0; i < ring_nodes; ++i)
        roots[i]->next = roots[(i + 1) % ring_nodes];
    return roots;
}

/// Breaks the ring, then frees it (no recursion: each node's `next` is reset while the vector still
/// holds the node it points to). Must run on the thread the ring is pinned to.
void destroy_ring(std::vector<sendable::send_rc<node>>& roots) {
    for (auto& r : roots)
        r->next.reset();
    roots.clear();
}

struct shipment {
    std::vector<sendable::send_rc<node>> roots;
    sendable::post_send token;
};

void rc_migrate(benchmark::State& state) {
    using clock = std::chrono::steady_clock;
    auto per_rc = [](clock::time_point from, clock::time_point to) {
        return std::chrono::duration<double, std::nano>(to - from).count() /
               static_cast<double>(ring_rcs);
    };
    double total = 0, park = 0, ready = 0, handoff = 0, unpark = 0;
    for (auto _ : state) {
        auto roots = build_ring();
        auto [ship_tx, ship_rx] = oneshot::channel<shipment>();
        auto [ack_tx, ack_rx] = oneshot::channel<clock::time_point>();
        std::thread receiver([rx = std::move(ship_rx), ack = std::move(ack_tx)]() mutable {
            shipment s = *rx.recv();
            const auto received = clock::now();
            std::move(s.token).unpark();
            (void)std::move(ack).send(received);
            destroy_ring(s.roots); // after the acknowledgement: not timed
        });

        const auto start = clock::now();
        sendable::pre_send ps;
        for (auto& r : roots) {
            node& n = ps.park(r);
            ps.park(n.next);
        }
        const auto parked = clock::now();
        sendable::post_send token = std::move(ps).ready();
        const auto readied = clock::now();
        (void)std::move(ship_tx).send(shipment{std::move(roots), std::move(token)});
        const auto received = *ack_rx.recv();
        const auto stop = clock::now();

        receiver.join();
        state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
        total += per_rc(start, stop);
        park += per_rc(start, parked);
        ready += per_rc(parked, readied);
        handoff += per_rc(readied, received);
        unpark += per_rc(received, stop);
    }
    using benchmark::Counter;
    state.counters["ns_per_rc"] = Counter(total, Counter::kAvgIterations);
    state.counters["park_ns"] = Counter(park, Counter::kAvgIterations);
    state.counters["ready_ns"] = Counter(ready, Counter::kAvgIterations);
    state.counters["handoff_ns"] = Counter(handoff, Counter::kAvgIterations);
    state.counters["unpark_ns"] = Counter(unpark, Counter::kAvgIterations);
    state.counters["rcs"] = static_cast<double>(ring_rcs);
}

[[maybe_unused]] const bool registered = [] {
    benchmark::RegisterBenchmark("BM_rc_copy/send_rc", rc_copy_send_rc);
    benchmark::RegisterBenchmark("BM_rc_copy/shared_ptr", rc_copy_shared_ptr);
    benchmark::RegisterBenchmark("BM_rc_copy/raw", rc_copy_raw);
    benchmark::RegisterBenchmark("BM_rc_deref/send_rc", rc_deref_send_rc);
    benchmark::RegisterBenchmark("BM_rc_deref/shared_ptr", rc_deref_shared_ptr);
    benchmark::RegisterBenchmark("BM_rc_deref/raw", rc_deref_raw);
    // A fixed, small number of iterations: each one builds and frees a 500,000-node graph.
    benchmark::RegisterBenchmark("BM_rc_migrate/send_rc", rc_migrate)
        ->UseManualTime()
        ->Iterations(3)
        ->Unit(benchmark::kMillisecond);
    return true;
}();

} // namespace
