// Workload 1: a channel's whole life on one thread (create, send, receive, destroy both ends) for
// int, a 40-character std::string and a 1 KiB trivially copyable struct, against
// std::promise + get_future + set_value + get.
//
// Workload 2: the floor of workload 1 -- what a one-allocation channel cannot go below:
//   - operator new and operator delete of a block of the channel's block size (measured once, before
//     the loop, as the bytes one oneshot::channel<T>() requests; counter block_bytes);
//   - ONE seq_cst read-modify-write on a 32-bit word in that block: the minimum a handoff between
//     two threads needs (the side that comes second must learn that the other has been there);
//   - the message copied into the block and moved out again (for int: one store and one load).
// Only the public API is used, so the floor follows the library's block size, whatever its layout.
#include "bench_common.hpp"

#include <oneshot/channel.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstddef>
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

/// The bytes and allocations one `oneshot::channel<T>()` asks of operator new (counted by the
/// replacement in bench_main.cpp): the floor allocates a block of exactly that size.
template <class T>
bench::alloc_counts channel_allocation() {
    const bench::alloc_counts before = bench::thread_alloc_counts();
    {
        auto ends = oneshot::channel<T>();
        benchmark::DoNotOptimize(ends);
    }
    const bench::alloc_counts after = bench::thread_alloc_counts();
    return {after.allocs - before.allocs, after.bytes - before.bytes, after.chunk - before.chunk};
}

template <class T>
void floor_roundtrip(benchmark::State& state) {
    using word = std::atomic<std::uint32_t>;
    // The block: the state word first, then the message at its alignment.
    constexpr std::size_t message_offset =
        (sizeof(word) + alignof(T) - 1) / alignof(T) * alignof(T);
    constexpr bool over_aligned = alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__;
    const bench::alloc_counts channel = channel_allocation<T>();
    const std::size_t size = static_cast<std::size_t>(channel.bytes);
    if (channel.allocs != 1 || size < message_offset + sizeof(T)) {
        state.SkipWithError("a channel does not make one allocation that can hold the message");
        return;
    }
    T proto = prototype<T>();
    const bench::alloc_meter meter;
    for (auto _ : state) {
        benchmark::DoNotOptimize(proto);
        void* block = over_aligned ? ::operator new (size, std::align_val_t{alignof(T)})
                                   : ::operator new(size);
        benchmark::DoNotOptimize(block);
        auto* bytes = static_cast<unsigned char*>(block);
        word* state_word = ::new (block) word(3);
        T* slot = ::new (static_cast<void*>(bytes + message_offset)) T(proto); // the message in
        // The one read-modify-write a handoff needs: publish the message / learn the other side.
        const std::uint32_t before = state_word->fetch_or(4, std::memory_order_seq_cst);
        benchmark::DoNotOptimize(before);
        T v(std::move(*slot)); // the message out
        slot->~T();
        state_word->~word();
        if constexpr (over_aligned)
            ::operator delete (block, std::align_val_t{alignof(T)});
        else
            ::operator delete(block);
        benchmark::DoNotOptimize(v);
    }
    meter.report(state);
    state.counters["block_bytes"] = static_cast<double>(size);
}

template <class T>
void register_roundtrip(const char* workload) {
    const std::string base = std::string("BM_roundtrip_") + workload;
    benchmark::RegisterBenchmark((base + "/oneshot").c_str(), oneshot_roundtrip<T>);
    benchmark::RegisterBenchmark((base + "/promise").c_str(), promise_roundtrip<T>);
    benchmark::RegisterBenchmark((base + "/floor").c_str(), floor_roundtrip<T>);
}

/// Polling an empty channel with `recv_for(0)`, against `try_recv`: the state is checked before any
/// clock or wait machinery, so a zero timeout costs a clock read more than `try_recv`, not a spin.
void poll_recv_for_zero(benchmark::State& state) {
    auto [tx, rx] = oneshot::channel<int>();
    for (auto _ : state) {
        auto r = rx.recv_for(std::chrono::nanoseconds(0));
        benchmark::DoNotOptimize(r);
    }
}
void poll_try_recv(benchmark::State& state) {
    auto [tx, rx] = oneshot::channel<int>();
    for (auto _ : state) {
        auto r = rx.try_recv();
        benchmark::DoNotOptimize(r);
    }
}

[[maybe_unused]] const bool registered = [] {
    benchmark::RegisterBenchmark("BM_poll_empty/recv_for_0", poll_recv_for_zero);
    benchmark::RegisterBenchmark("BM_poll_empty/try_recv", poll_try_recv);
    register_roundtrip<int>("int");
    register_roundtrip<std::string>("string40");
    register_roundtrip<kib>("1kib");
    return true;
}();

} // namespace
