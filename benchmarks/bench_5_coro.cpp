// Workload 5: coroutines.
//
// BM_coro_ready: a channel's life (create, send, receive) inside a coroutine, receiving with
// `co_await rx` on a channel that already holds the message (no suspension), against the same loop
// receiving with `try_recv()`. The whole benchmark loop runs inside one eager coroutine, so the
// coroutine frame is allocated once per run, not per iteration.
//
// BM_coro_resume: cross-thread resumption. A coroutine C relays a token between two threads A (the
// benchmark thread) and B, each blocked in recv() on a fresh channel. Every send to C resumes it
// inline on the sending thread, while it was suspended on the other one:
//   A wakes -> sends to C -> C resumes on A, sends to B, suspends -> B wakes -> sends to C -> C
//   resumes on B, sends to A, suspends -> A wakes.
// One iteration is that round trip (real time); compare BM_pingpong/oneshot, the same two thread
// wake-ups without the coroutine.
#include "bench_common.hpp"

#include <oneshot/channel.hpp>

#include <benchmark/benchmark.h>

#include <coroutine>
#include <exception>
#include <thread>
#include <utility>

namespace {

/// A minimal eager, detached coroutine type: starts at once, frees its frame when it finishes.
struct detached {
    struct promise_type {
        detached get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
};

detached await_ready_loop(benchmark::State& state) {
    int value = 42;
    for (auto _ : state) {
        benchmark::DoNotOptimize(value);
        auto [tx, rx] = oneshot::channel<int>();
        bool sent = std::move(tx).send(value).has_value();
        benchmark::DoNotOptimize(sent);
        auto r = co_await rx;
        benchmark::DoNotOptimize(r);
    }
}

detached try_recv_loop(benchmark::State& state) {
    int value = 42;
    for (auto _ : state) {
        benchmark::DoNotOptimize(value);
        auto [tx, rx] = oneshot::channel<int>();
        bool sent = std::move(tx).send(value).has_value();
        benchmark::DoNotOptimize(sent);
        auto r = rx.try_recv();
        benchmark::DoNotOptimize(r);
    }
    co_return;
}

void coro_ready_await(benchmark::State& state) {
    await_ready_loop(state);
}
void coro_ready_try_recv(benchmark::State& state) {
    try_recv_loop(state);
}

constexpr int value_mask = 0x3fffffff;

/// Sends through the sender held in `slot`, moved out first (the slot may be refilled by another
/// thread as soon as the message is there).
void send_from(oneshot::sender<int>& slot, int v) {
    oneshot::sender<int> tx = std::move(slot);
    (void)std::move(tx).send(v);
}

/// Senders handed between A, B and C. Each is written before the send that lets its user proceed,
/// so every access is ordered by a channel.
struct relay_slots {
    oneshot::sender<int> to_a;     // A's reply channel (written by A, used by C on B's thread)
    oneshot::sender<int> to_b;     // B's next channel (written by B, used by C on A's thread)
    oneshot::sender<int> c_from_a; // C's channel fed by A (written by C, used by A)
    oneshot::sender<int> c_from_b; // C's channel fed by B (written by C, used by B)
};

detached relay(relay_slots& s) {
    auto [first_tx, first_rx] = oneshot::channel<int>();
    s.c_from_a = std::move(first_tx);
    oneshot::receiver<int> from_a = std::move(first_rx);
    for (;;) {
        int v = (co_await from_a).value(); // resumed inline on A's thread
        if (v < 0) {
            send_from(s.to_b, -1);
            co_return;
        }
        auto [tx_b, rx_b] = oneshot::channel<int>();
        s.c_from_b = std::move(tx_b);
        send_from(s.to_b, v);
        v = (co_await rx_b).value(); // resumed inline on B's thread
        auto [tx_a, rx_a] = oneshot::channel<int>();
        s.c_from_a = std::move(tx_a);
        from_a = std::move(rx_a);
        send_from(s.to_a, (v + 1) & value_mask);
    }
}

void coro_resume(benchmark::State& state) {
    relay_slots s;
    auto [b_tx, b_rx] = oneshot::channel<int>();
    s.to_b = std::move(b_tx);
    std::thread b([&s, rx = std::move(b_rx)]() mutable {
        for (;;) {
            const int v = rx.recv().value();
            if (v < 0) return;
            auto [tx, next_rx] = oneshot::channel<int>();
            s.to_b = std::move(tx);
            rx = std::move(next_rx);
            send_from(s.c_from_b, v); // resumes C here
        }
    });
    relay(s); // C suspends at once, waiting for A
    int v = 0;
    const bench::sleep_meter sleeps;
    for (auto _ : state) {
        auto [tx, rx] = oneshot::channel<int>();
        s.to_a = std::move(tx);
        send_from(s.c_from_a, v); // resumes C here
        v = rx.recv().value();
    }
    sleeps.report(state, static_cast<double>(state.iterations()));
    send_from(s.c_from_a, -1); // C forwards the stop to B and finishes
    b.join();
    benchmark::DoNotOptimize(v);
}

[[maybe_unused]] const bool registered = [] {
    benchmark::RegisterBenchmark("BM_coro_ready/oneshot", coro_ready_await);
    benchmark::RegisterBenchmark("BM_coro_ready/try_recv", coro_ready_try_recv);
    benchmark::RegisterBenchmark("BM_coro_resume/oneshot", coro_resume)->UseRealTime();
    return true;
}();

} // namespace
