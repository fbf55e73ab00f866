// Stress: a million channels across threads, each receiver doing a random one of every receive
// flavour (poll, block, timed, co_await, cancelled co_await, destroyed-while-suspended, drop) while
// another thread randomly sends or drops. Live message counts must balance at the end.
#include "catch.hpp"
#include "support/counted.hpp"
#include "support/detached_task.hpp"

#include <oneshot/channel.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

using test_support::counted;

namespace {
using test_support::detached_task;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__) || ONESHOT_TEST_DELAY
constexpr long channels_per_pair = 40'000;
#else
constexpr long channels_per_pair = 500'000;
#endif
constexpr int pairs = 2;                               // 2 pairs x 500k = a million channels
constexpr auto time_budget = std::chrono::seconds(40); // bounded: stop early rather than overrun

struct tally {
    std::atomic<long> delivered{0};
    std::atomic<long> disconnected{0};
    std::atomic<long> timeouts{0};
    std::atomic<long> cancelled{0};
    std::atomic<long> send_ok{0};
    std::atomic<long> send_failed{0};
    std::atomic<long> wrong{0}; // outcomes that must never happen
};

// An eager coroutine whose frame the caller owns (and may destroy while it is suspended).
struct owned_task {
    struct promise_type {
        owned_task get_return_object() noexcept {
            return owned_task{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
    std::coroutine_handle<promise_type> handle;
};

void record(tally& t, const oneshot::result<counted, oneshot::recv_error>& r, long id) {
    if (r.has_value()) {
        ++t.delivered;
        if (r->value != static_cast<int>(id)) ++t.wrong;
        return;
    }
    switch (r.error()) {
    case oneshot::recv_error::disconnected: ++t.disconnected; break;
    case oneshot::recv_error::timeout: ++t.timeouts; break;
    case oneshot::recv_error::cancelled: ++t.cancelled; break;
    case oneshot::recv_error::empty: ++t.wrong; break;
    }
}

detached_task await_owned(oneshot::receiver<counted> rx, long id, tally& t) {
    auto r = co_await std::move(rx);
    record(t, r, id);
}

#if ONESHOT_HAS_STOP_TOKEN
detached_task await_cancellable(oneshot::receiver<counted> rx, std::stop_token token, long id,
                                tally& t) {
    auto r = co_await std::move(rx).recv_async(std::move(token));
    record(t, r, id);
}
#endif

owned_task await_then_abandoned(oneshot::receiver<counted>& rx, tally& t) {
    auto r = co_await rx;
    (void)r;
    ++t.wrong; // the frame is destroyed before any completion: this line must never run
}

// The sender side's work queue.
struct sender_queue {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<std::pair<long, oneshot::sender<counted>>> items;
    bool closed = false;

    void push(long id, oneshot::sender<counted> tx) {
        {
            std::lock_guard lock(mutex);
            items.emplace_back(id, std::move(tx));
        }
        ready.notify_one();
    }
    std::optional<std::pair<long, oneshot::sender<counted>>> pop() {
        std::unique_lock lock(mutex);
        ready.wait(lock, [this] { return !items.empty() || closed; });
        if (items.empty()) return std::nullopt;
        auto item = std::move(items.front());
        items.pop_front();
        return item;
    }
    void close() {
        {
            std::lock_guard lock(mutex);
            closed = true;
        }
        ready.notify_all();
    }
};

void sender_loop(sender_queue& q, tally& t, unsigned seed) {
    std::minstd_rand rng(seed);
    while (auto item = q.pop()) {
        const auto choice = rng() % 8;
        if (choice == 0) std::this_thread::yield();
        if (choice < 6) {
            auto sent = std::move(item->second).emplace(static_cast<int>(item->first));
            if (sent.has_value())
                ++t.send_ok;
            else
                ++t.send_failed; // the message comes back in the error and is destroyed here
        }                        // else: dropped unsent at the end of this scope
    }
}

long receiver_loop(sender_queue& q, tally& t, unsigned seed,
                   std::chrono::steady_clock::time_point stop_at) {
    std::minstd_rand rng(seed);
    long id = 0;
    for (; id < channels_per_pair; ++id) {
        if ((id & 1023) == 0 && std::chrono::steady_clock::now() > stop_at) break;
        auto [tx, rx] = oneshot::channel<counted>();
        switch (rng() % 8) {
        case 0: // poll, then leave
            q.push(id, std::move(tx));
            if (auto r = rx.try_recv(); r.has_value() || r.error() != oneshot::recv_error::empty)
                record(t, r, id);
            break;
        case 1: // block
            q.push(id, std::move(tx));
            record(t, rx.recv(), id);
            break;
        case 2: { // block with a short timeout; on timeout, block for real
            q.push(id, std::move(tx));
            auto r = rx.recv_for(std::chrono::microseconds(rng() % 50));
            record(t, r, id);
            if (!r.has_value() && r.error() == oneshot::recv_error::timeout)
                record(t, rx.recv(), id);
            break;
        }
        case 3: // await; resumed inline on the sender's thread
            await_owned(std::move(rx), id, t);
            q.push(id, std::move(tx));
            break;
        case 4: { // await with a stop token, stopped racing with the send
#if ONESHOT_HAS_STOP_TOKEN
            std::stop_source source;
            await_cancellable(std::move(rx), source.get_token(), id, t);
            q.push(id, std::move(tx));
            source.request_stop();
#else
            await_owned(std::move(rx), id, t);
            q.push(id, std::move(tx));
#endif
            break;
        }
        case 5: { // destroy the suspended coroutine, then let the sender send or drop
            auto task = await_then_abandoned(rx, t);
            if (task.handle.done()) ++t.wrong; // nothing was sent yet: it must be suspended
            task.handle.destroy();
            q.push(id, std::move(tx));
            record(t, rx.recv(), id); // the message (or disconnection) is still ours
            break;
        }
        default: // just drop the receiver
            q.push(id, std::move(tx));
            break;
        }
    }
    return id;
}

} // namespace

TEST_CASE("stress: random sends, drops and every receive flavour across threads", "[stress]") {
    counted::reset();
    tally t;
    long channels = 0;
    {
        const auto stop_at = std::chrono::steady_clock::now() + time_budget;
        std::vector<sender_queue> queues(pairs);
        std::vector<std::thread> senders;
        std::vector<std::thread> receivers;
        std::vector<long> made(pairs, 0);
        for (int p = 0; p < pairs; ++p) {
            senders.emplace_back([&, p] {
                sender_loop(queues[static_cast<std::size_t>(p)], t,
                            100U + static_cast<unsigned>(p));
            });
            receivers.emplace_back([&, p] {
                made[static_cast<std::size_t>(p)] =
                    receiver_loop(queues[static_cast<std::size_t>(p)], t,
                                  200U + static_cast<unsigned>(p), stop_at);
            });
        }
        for (auto& r : receivers)
            r.join();
        for (auto& q : queues)
            q.close();
        for (auto& s : senders)
            s.join();
        for (long m : made)
            channels += m;
    }
    INFO("channels " << channels << ", delivered " << t.delivered << ", disconnected "
                     << t.disconnected << ", timeouts " << t.timeouts << ", cancelled "
                     << t.cancelled << ", sends ok " << t.send_ok << ", sends failed "
                     << t.send_failed);
    REQUIRE(channels >= 10'000);
    REQUIRE(t.wrong == 0);
    REQUIRE(t.delivered <= t.send_ok);
    REQUIRE(t.delivered > 0);
    REQUIRE(t.disconnected > 0);
    REQUIRE(counted::live == 0);
    REQUIRE(counted::constructed == counted::destroyed);
}
