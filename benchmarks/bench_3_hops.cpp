// Workload 3, continued: blocked ping-pong in which every hop carries a fresh channel, under three
// CPU conditions, and the CPU time a receiver spends on a 1 ms wait.
//
// BM_hop_{idle,busy,onecpu}/{oneshot,promise}: two threads pass a counter back and forth, each
// blocked in recv() (std::future::get()) while the other has it. One hop is one message from one
// thread to the other: the sending thread creates a fresh channel (promise + future), sends the
// counter with that channel's sender (promise) inside the message, and waits on its receiver
// (future), through which the other thread answers with the next hop. One benchmark iteration is two
// hops; counter ns_per_hop = real time per hop.
//   idle   : nothing else is made to run.
//   busy   : one CPU-bound spinner thread per online CPU (a plain busy loop at normal priority) runs
//            from before the timed loop until after it, so every wake-up competes with a spinner.
//   onecpu : both ping-pong threads are pinned to one CPU (the first the process may use: CPU 0 on an
//            unrestricted machine), so a receiver that spins or yields delays the very thread it is
//            waiting for. Linux only (sched_setaffinity); elsewhere the benchmark reports an error.
//
// BM_wait_1ms/{oneshot,promise}: a receiver blocks in recv() (std::future::get()) while a partner
// thread sleeps about 1 ms (sleep_for) and then sends. Counter cpu_us_per_wait = the receiving
// thread's CPU time inside recv() (get()), from CLOCK_THREAD_CPUTIME_ID, in microseconds per wait.
// Where that clock does not exist the benchmark reports an error.
//
// sleeps_per_hop: voluntary context switches of the whole process per hop (how often some thread,
// spinners included, went to sleep).
#include "bench_common.hpp"

#include <oneshot/channel.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <time.h>
#include <unistd.h>
#endif
#if defined(__linux__)
#include <sched.h>
#endif

namespace {

/// Values stay small so `v + 1` never overflows.
constexpr int value_mask = 0x3fffffff;

// ---------------------------------------------------------------------------------------------
// The two implementations, through the public API only.

struct oneshot_impl {
    template <class T>
    using tx = oneshot::sender<T>;
    template <class T>
    using rx = oneshot::receiver<T>;
    template <class T>
    static std::pair<tx<T>, rx<T>> make() {
        return oneshot::channel<T>();
    }
    template <class T>
    static void send(tx<T> t, T v) {
        (void)std::move(t).send(std::move(v));
    }
    template <class T>
    static T recv(rx<T>& r) {
        return r.recv().value();
    }
};

struct promise_impl {
    template <class T>
    using tx = std::promise<T>;
    template <class T>
    using rx = std::future<T>;
    template <class T>
    static std::pair<tx<T>, rx<T>> make() {
        std::promise<T> p;
        std::future<T> f = p.get_future();
        return {std::move(p), std::move(f)};
    }
    template <class T>
    static void send(tx<T> t, T v) {
        t.set_value(std::move(v));
    }
    template <class T>
    static T recv(rx<T>& r) {
        return r.get();
    }
};

// ---------------------------------------------------------------------------------------------
// The message of the hop ping-pong: a counter and the sender of the channel for the answer.

/// Holds one sender (promise) in place. A member `oneshot::sender<hop>` inside `hop` itself would
/// need `hop` complete where it is still being defined; this holder only needs the sender type where
/// its member functions are used, when `hop` is complete. No allocation: the sender lives in the
/// message.
template <class Tx>
class sender_slot {
public:
    sender_slot() noexcept = default;
    explicit sender_slot(Tx&& tx) noexcept {
        static_assert(sizeof(Tx) <= sizeof(storage) && alignof(Tx) <= alignof(storage),
                      "sender_slot is too small for this sender type");
        ::new (static_cast<void*>(buf_.bytes)) Tx(std::move(tx));
        full_ = true;
    }
    sender_slot(sender_slot&& other) noexcept {
        if (other.full_) {
            ::new (static_cast<void*>(buf_.bytes)) Tx(std::move(other.get()));
            full_ = true;
            other.reset();
        }
    }
    sender_slot& operator=(sender_slot&&) = delete;
    ~sender_slot() { reset(); }

    /// Moves the sender out; the slot is empty afterwards.
    Tx take() noexcept {
        Tx tx(std::move(get()));
        reset();
        return tx;
    }

private:
    Tx& get() noexcept { return *std::launder(reinterpret_cast<Tx*>(buf_.bytes)); }
    void reset() noexcept {
        if (full_) {
            get().~Tx();
            full_ = false;
        }
    }

    union storage {
        std::max_align_t align;
        unsigned char bytes[4 * sizeof(void*)];
    };
    storage buf_{};
    bool full_ = false;
};

template <class Impl>
struct hop {
    int value = 0;
    sender_slot<typename Impl::template tx<hop>> reply; ///< where to send the next hop
};

// ---------------------------------------------------------------------------------------------
// CPU conditions.

/// Number of online CPUs.
unsigned online_cpus() {
#if defined(_SC_NPROCESSORS_ONLN)
    const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    if (n > 0) return static_cast<unsigned>(n);
#endif
    return std::max(1u, std::thread::hardware_concurrency());
}

/// One CPU-bound thread per online CPU, spinning at normal priority from construction (which returns
/// once all of them run) to destruction.
class cpu_spinners {
public:
    cpu_spinners() {
        const unsigned n = online_cpus();
        threads_.reserve(n);
        for (unsigned i = 0; i < n; ++i)
            threads_.emplace_back([this] { spin(); });
        while (started_.load(std::memory_order_acquire) < n)
            std::this_thread::yield();
    }
    cpu_spinners(const cpu_spinners&) = delete;
    cpu_spinners& operator=(const cpu_spinners&) = delete;
    ~cpu_spinners() {
        stop_.store(true, std::memory_order_relaxed);
        for (std::thread& t : threads_)
            t.join();
    }

private:
    void spin() {
        started_.fetch_add(1, std::memory_order_release);
        std::uint64_t x = 0;
        while (!stop_.load(std::memory_order_relaxed))
            benchmark::DoNotOptimize(++x);
    }

    std::atomic<unsigned> started_{0};
    std::atomic<bool> stop_{false};
    std::vector<std::thread> threads_;
};

/// The first CPU the calling thread may run on, or -1 where threads cannot be pinned.
int first_allowed_cpu() {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set)) return cpu;
#endif
    return -1;
}

/// Pins the calling thread to `cpu` (nothing if cpu < 0) and restores its former affinity when
/// destroyed, on the same thread.
class cpu_pin {
public:
    explicit cpu_pin(int cpu) {
#if defined(__linux__)
        if (cpu < 0 || ::sched_getaffinity(0, sizeof old_, &old_) != 0) return;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        pinned_ = ::sched_setaffinity(0, sizeof one, &one) == 0;
#else
        (void)cpu;
#endif
    }
    cpu_pin(const cpu_pin&) = delete;
    cpu_pin& operator=(const cpu_pin&) = delete;
    ~cpu_pin() {
#if defined(__linux__)
        if (pinned_) (void)::sched_setaffinity(0, sizeof old_, &old_);
#endif
    }
    [[nodiscard]] bool pinned() const noexcept {
        return pinned_;
    }

private:
#if defined(__linux__)
    cpu_set_t old_{};
#endif
    bool pinned_ = false;
};

enum class condition { idle, busy, onecpu };

// ---------------------------------------------------------------------------------------------
// The hop ping-pong.

/// The partner thread: answers every hop through the sender it carries, with a fresh channel of its
/// own for the next one, until the counter is negative.
template <class Impl>
void hop_partner(typename Impl::template rx<hop<Impl>> rx, int cpu) {
    const cpu_pin pin(cpu);
    for (;;) {
        hop<Impl> m = Impl::recv(rx);
        if (m.value < 0) return;
        auto next = Impl::template make<hop<Impl>>();
        rx = std::move(next.second);
        Impl::send(m.reply.take(), hop<Impl>{(m.value + 1) & value_mask,
                                             sender_slot<typename Impl::template tx<hop<Impl>>>(
                                                 std::move(next.first))});
    }
}

template <class Impl, condition C>
void hop_pingpong(benchmark::State& state) {
    using message = hop<Impl>;
    using slot = sender_slot<typename Impl::template tx<message>>;
    const int cpu = C == condition::onecpu ? first_allowed_cpu() : -1;
    if (C == condition::onecpu && cpu < 0) {
        state.SkipWithError("threads cannot be pinned to a CPU on this platform");
        return;
    }
    const cpu_pin pin(cpu); // this thread, restored after the row
    if (C == condition::onecpu && !pin.pinned()) {
        state.SkipWithError("sched_setaffinity failed");
        return;
    }
    std::optional<cpu_spinners> spinners;
    if constexpr (C == condition::busy) spinners.emplace();

    auto first = Impl::template make<message>();
    typename Impl::template tx<message> to_partner = std::move(first.first);
    std::thread partner(hop_partner<Impl>, std::move(first.second), cpu);

    int v = 0;
    const long long switches = bench::voluntary_switches();
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        auto reply = Impl::template make<message>();
        Impl::send(std::move(to_partner), message{v, slot(std::move(reply.first))});
        message m = Impl::recv(reply.second);
        v = m.value;
        to_partner = m.reply.take();
    }
    const auto stop = std::chrono::steady_clock::now();
    const double hops = 2.0 * static_cast<double>(state.iterations());
    const double per = hops > 0 ? hops : 1.0;
    state.counters["ns_per_hop"] =
        std::chrono::duration<double, std::nano>(stop - start).count() / per;
    state.counters["sleeps_per_hop"] =
        static_cast<double>(bench::voluntary_switches() - switches) / per;

    Impl::send(std::move(to_partner), message{-1, slot()});
    partner.join();
    benchmark::DoNotOptimize(v);
}

// ---------------------------------------------------------------------------------------------
// The CPU cost of a 1 ms wait.

#if defined(CLOCK_THREAD_CPUTIME_ID)
/// CPU time of the calling thread, in nanoseconds.
double thread_cpu_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

/// Hands senders to the partner thread (a mutex and a condition variable, the same for both
/// implementations, outside the measured part).
template <class Tx>
class mailbox {
public:
    void put(Tx tx) {
        {
            const std::lock_guard lock(mutex_);
            item_.emplace(std::move(tx));
        }
        cv_.notify_one();
    }
    void close() {
        {
            const std::lock_guard lock(mutex_);
            closed_ = true;
        }
        cv_.notify_one();
    }
    /// The next sender, or nothing once closed.
    std::optional<Tx> take() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return closed_ || item_.has_value(); });
        std::optional<Tx> out;
        if (item_) {
            out.emplace(std::move(*item_));
            item_.reset();
        }
        return out;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::optional<Tx> item_;
    bool closed_ = false;
};

template <class Impl>
void wait_1ms(benchmark::State& state) {
    using tx_t = typename Impl::template tx<int>;
    mailbox<tx_t> box;
    std::thread partner([&box] {
        while (std::optional<tx_t> tx = box.take()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            Impl::send(std::move(*tx), 1);
        }
    });
    double cpu_ns = 0;
    int sum = 0;
    for (auto _ : state) {
        auto ends = Impl::template make<int>();
        box.put(std::move(ends.first));
        const double before = thread_cpu_ns();
        sum += Impl::recv(ends.second);
        cpu_ns += thread_cpu_ns() - before;
    }
    box.close();
    partner.join();
    benchmark::DoNotOptimize(sum);
    const double n = state.iterations() > 0 ? static_cast<double>(state.iterations()) : 1.0;
    state.counters["cpu_us_per_wait"] = cpu_ns / 1e3 / n;
}
#else
template <class Impl>
void wait_1ms(benchmark::State& state) {
    state.SkipWithError("no per-thread CPU clock (CLOCK_THREAD_CPUTIME_ID) on this platform");
}
#endif

[[maybe_unused]] const bool registered = [] {
    benchmark::RegisterBenchmark("BM_hop_idle/oneshot", hop_pingpong<oneshot_impl, condition::idle>)
        ->UseRealTime();
    benchmark::RegisterBenchmark("BM_hop_idle/promise", hop_pingpong<promise_impl, condition::idle>)
        ->UseRealTime();
    benchmark::RegisterBenchmark("BM_hop_busy/oneshot", hop_pingpong<oneshot_impl, condition::busy>)
        ->UseRealTime();
    benchmark::RegisterBenchmark("BM_hop_busy/promise", hop_pingpong<promise_impl, condition::busy>)
        ->UseRealTime();
    benchmark::RegisterBenchmark("BM_hop_onecpu/oneshot",
                                 hop_pingpong<oneshot_impl, condition::onecpu>)
        ->UseRealTime();
    benchmark::RegisterBenchmark("BM_hop_onecpu/promise",
                                 hop_pingpong<promise_impl, condition::onecpu>)
        ->UseRealTime();
    benchmark::RegisterBenchmark("BM_wait_1ms/oneshot", wait_1ms<oneshot_impl>)->UseRealTime();
    benchmark::RegisterBenchmark("BM_wait_1ms/promise", wait_1ms<promise_impl>)->UseRealTime();
    return true;
}();

} // namespace
