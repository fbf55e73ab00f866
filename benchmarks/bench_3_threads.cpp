// Workload 3: cross-thread ping-pong latency. Two threads, each blocking in recv() on a fresh channel
// for the other's reply; one iteration is one round trip (real time). Baseline: the same with
// std::promise / std::future. The "_1ms" variant makes the partner sleep 1 ms before replying and
// reports the CPU time of the whole process per round trip: it shows that the receiver's bounded spin
// does not burn CPU when the wait is long.
//
// Workload 4: request/reply throughput. Two client threads submit requests to one worker over a
// mutex + condition variable queue, each request carrying the sender (or promise) for its reply;
// clients block in recv() (future::get()). items_per_second counts requests of both clients.
//
// sleeps_per_op: voluntary context switches of the process per round trip (per request for workload
// 4), i.e. how often some thread went to sleep; a receive that catches its reply while spinning
// costs none.
#include "bench_common.hpp"

#include <oneshot/channel.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace {

/// Values stay small so `v + 1` never overflows.
constexpr int value_mask = 0x3fffffff;

/// The oneshot side: a channel<int>; a blocking receive.
struct oneshot_impl {
    using tx_t = oneshot::sender<int>;
    using rx_t = oneshot::receiver<int>;
    static std::pair<tx_t, rx_t> make() { return oneshot::channel<int>(); }
    /// Sends through the sender held in `slot` (moved out first, so that the other thread may refill
    /// the slot as soon as the message is there).
    static void send(tx_t& slot, int v) {
        tx_t tx = std::move(slot);
        (void)std::move(tx).send(v);
    }
    static int recv(rx_t& rx) { return rx.recv().value(); }
};

/// The baseline: std::promise<int> / std::future<int>.
struct promise_impl {
    using tx_t = std::promise<int>;
    using rx_t = std::future<int>;
    static std::pair<tx_t, rx_t> make() {
        std::promise<int> p;
        std::future<int> f = p.get_future();
        return {std::move(p), std::move(f)};
    }
    static void send(tx_t& slot, int v) {
        tx_t p = std::move(slot);
        p.set_value(v);
    }
    static int recv(rx_t& rx) { return rx.get(); }
};

/// Ping-pong. The benchmark thread (A) and a partner thread (B) each receive on a channel they
/// created themselves and hand its sender to the other through a plain slot, written before the
/// message that lets the other side read it (so every slot access is ordered by a channel).
template <class Impl, int PartnerDelayUs>
void pingpong(benchmark::State& state) {
    struct slots {
        typename Impl::tx_t to_b; // B's next request channel (written by B, used by A)
        typename Impl::tx_t to_a; // A's reply channel for this round (written by A, used by B)
    } s;
    auto [first_tx, first_rx] = Impl::make();
    s.to_b = std::move(first_tx);
    std::thread partner([&s, rx = std::move(first_rx)]() mutable {
        for (;;) {
            const int v = Impl::recv(rx);
            if (v < 0) return;
            auto [next_tx, next_rx] = Impl::make();
            s.to_b = std::move(next_tx);
            rx = std::move(next_rx);
            if constexpr (PartnerDelayUs > 0)
                std::this_thread::sleep_for(std::chrono::microseconds(PartnerDelayUs));
            Impl::send(s.to_a, (v + 1) & value_mask);
        }
    });
    int v = 0;
    const bench::sleep_meter sleeps;
    for (auto _ : state) {
        auto [reply_tx, reply_rx] = Impl::make();
        s.to_a = std::move(reply_tx);
        Impl::send(s.to_b, v);
        v = Impl::recv(reply_rx);
    }
    sleeps.report(state, static_cast<double>(state.iterations()));
    Impl::send(s.to_b, -1);
    partner.join();
    benchmark::DoNotOptimize(v);
}

/// A worker that answers requests from a mutex + condition variable queue.
template <class Impl>
class server {
public:
    struct request {
        int value;
        typename Impl::tx_t reply;
    };

    server() : thread_([this] { run(); }) {}
    server(const server&) = delete;
    server& operator=(const server&) = delete;
    ~server() {
        {
            const std::lock_guard lock(mutex_);
            stop_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }

    void submit(request r) {
        {
            const std::lock_guard lock(mutex_);
            queue_.push_back(std::move(r));
        }
        cv_.notify_one();
    }

private:
    void run() {
        std::vector<request> batch;
        for (;;) {
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
                if (queue_.empty()) return; // stop requested and nothing left
                batch.swap(queue_);
            }
            for (request& r : batch)
                Impl::send(r.reply, (r.value + 1) & value_mask);
            batch.clear();
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<request> queue_;
    bool stop_ = false;
    std::thread thread_; // last: starts after everything above is initialised
};

template <class Impl>
server<Impl>* current_server = nullptr;

/// Runs on every client thread. Thread 0 creates the worker before the loop and destroys it after:
/// the benchmark library puts a barrier at the start and the end of every thread's loop.
template <class Impl>
void reqrep(benchmark::State& state) {
    if (state.thread_index() == 0) current_server<Impl> = new server<Impl>();
    int v = state.thread_index();
    const bench::sleep_meter sleeps;
    for (auto _ : state) {
        auto [tx, rx] = Impl::make();
        current_server<Impl>->submit({v, std::move(tx)});
        v = Impl::recv(rx);
    }
    state.SetItemsProcessed(state.iterations());
    // Counters are summed over the client threads: thread 0 alone reports the process-wide count.
    if (state.thread_index() == 0)
        sleeps.report(state, static_cast<double>(state.iterations()) * state.threads());
    benchmark::DoNotOptimize(v);
    if (state.thread_index() == 0) {
        delete current_server<Impl>;
        current_server<Impl> = nullptr;
    }
}

[[maybe_unused]] const bool registered = [] {
    benchmark::RegisterBenchmark("BM_pingpong/oneshot", pingpong<oneshot_impl, 0>)->UseRealTime();
    benchmark::RegisterBenchmark("BM_pingpong/promise", pingpong<promise_impl, 0>)->UseRealTime();
    benchmark::RegisterBenchmark("BM_pingpong_1ms/oneshot", pingpong<oneshot_impl, 1000>)
        ->UseRealTime()
        ->MeasureProcessCPUTime();
    benchmark::RegisterBenchmark("BM_pingpong_1ms/promise", pingpong<promise_impl, 1000>)
        ->UseRealTime()
        ->MeasureProcessCPUTime();
    benchmark::RegisterBenchmark("BM_reqrep/oneshot", reqrep<oneshot_impl>)
        ->Threads(2)
        ->UseRealTime();
    benchmark::RegisterBenchmark("BM_reqrep/promise", reqrep<promise_impl>)
        ->Threads(2)
        ->UseRealTime();
    return true;
}();

} // namespace
