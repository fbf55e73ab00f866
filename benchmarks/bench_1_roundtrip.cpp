// Workload 1: a channel's whole life on one thread (create, send, receive, destroy both ends) for
// int, a 40-character std::string and a 1 KiB trivially copyable struct, against
// std::promise + get_future + set_value + get.
//
// Workload 2: the floor of workload 1 -- what a one-allocation channel cannot go below: operator
// new/delete of the channel's block size plus the seq_cst atomic operations the channel does on this
// path (counted from detail/block.hpp and channel.hpp):
//   send     : sender_finish -> one compare_exchange (fast path: receiver alive, not waiting)
//   try_recv : one load (is `done` set?) + one fetch_and (receiver_leave_after_take)
// plus writing the message into the block and moving it out again (for int: one store and load).
#include "bench_common.hpp"

#include <oneshot/channel.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <future>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

namespace {

/// The 1 KiB trivially copyable message.
struct kib {
    unsigned char bytes[1024];
};
static_assert(std::is_trivially_copyable_v<kib> && sizeof(kib) == 1024);

/// The message sent in every iteration (copied into the channel, as `send(const T&)` does).
template <class T>
T prototype() {
    if constexpr (std::is_same_v<T, int>) {
        return 42;
    } else if constexpr (std::is_same_v<T, std::string>) {
        return std::string(40, 'x'); // beyond the small-string buffer: one allocation per copy
    } else {
        kib k;
        std::memset(k.bytes, 0x5a, sizeof k.bytes);
        return k;
    }
}

template <class T>
void oneshot_roundtrip(benchmark::State& state) {
    T proto = prototype<T>();
    const bench::alloc_meter meter;
    for (auto _ : state) {
        benchmark::DoNotOptimize(proto);
        auto [tx, rx] = oneshot::channel<T>();
        bool sent = std::move(tx).send(proto).has_value();
        benchmark::DoNotOptimize(sent);
        auto r = rx.try_recv();
        benchmark::DoNotOptimize(r);
    }
    meter.report(state);
}

template <class T>
void promise_roundtrip(benchmark::State& state) {
    T proto = prototype<T>();
    const bench::alloc_meter meter;
    for (auto _ : state) {
        benchmark::DoNotOptimize(proto);
        std::promise<T> p;
        std::future<T> f = p.get_future();
        p.set_value(proto);
        T v = f.get();
        benchmark::DoNotOptimize(v);
    }
    meter.report(state);
}

/// The same layout as oneshot::detail::block<T, std_sync>: waiter pointer, state word, message slot
/// (the library's own), with the same member initialisers (so the same stores at creation).
template <class T>
struct floor_block {
    void* waiter = nullptr;
    std::atomic<std::uint32_t> state{3};
    oneshot::detail::message_slot<T> slot;
};

template <class T>
void floor_roundtrip(benchmark::State& state) {
    static_assert(sizeof(floor_block<T>) ==
                      sizeof(oneshot::detail::block<T, oneshot::detail::std_sync>),
                  "the floor must allocate exactly the channel's block size");
    constexpr std::uint32_t sender = 1, receiver = 2, done = 4, message = 8, waiting = 16,
                            cancel = 32;
    T proto = prototype<T>();
    const bench::alloc_meter meter;
    for (auto _ : state) {
        benchmark::DoNotOptimize(proto);
        // channel(): one allocation. Default-initialised: the slot's storage is left unwritten
        // (oneshot's `new Block()` value-initialises, which zero-fills the slot first).
        auto* b = new floor_block<T>;
        benchmark::DoNotOptimize(b);
        // send: write the message, then one CAS publishes it.
        b->slot.construct(proto);
        std::uint32_t expected = sender | receiver;
        bool published = b->state.compare_exchange_strong(expected, receiver | done | message,
                                                          std::memory_order_seq_cst);
        benchmark::DoNotOptimize(published);
        // try_recv: one load, move the message out, one fetch_and, free.
        std::uint32_t seen = b->state.load(std::memory_order_seq_cst);
        benchmark::DoNotOptimize(seen);
        T v(std::move(b->slot.get()));
        b->slot.destroy();
        std::uint32_t before =
            b->state.fetch_and(~(receiver | message | waiting | cancel), std::memory_order_seq_cst);
        benchmark::DoNotOptimize(before);
        delete b;
        benchmark::DoNotOptimize(v);
    }
    meter.report(state);
}

template <class T>
void register_roundtrip(const char* workload) {
    const std::string base = std::string("BM_roundtrip_") + workload;
    benchmark::RegisterBenchmark((base + "/oneshot").c_str(), oneshot_roundtrip<T>);
    benchmark::RegisterBenchmark((base + "/promise").c_str(), promise_roundtrip<T>);
    benchmark::RegisterBenchmark((base + "/floor").c_str(), floor_roundtrip<T>);
}

[[maybe_unused]] const bool registered = [] {
    register_roundtrip<int>("int");
    register_roundtrip<std::string>("string40");
    register_roundtrip<kib>("1kib");
    return true;
}();

} // namespace
