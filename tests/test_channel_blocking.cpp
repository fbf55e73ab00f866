// oneshot::receiver's blocking receives: recv, recv_for, recv_until, recv(stop_token).
#include "catch.hpp"
#include "support/counted.hpp"
#include "support/stop.hpp"

#include <oneshot/channel.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using oneshot::recv_error;

namespace {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int race_repetitions = 500;
#else
constexpr int race_repetitions = 3000;
#endif

// Runs `f` on a new thread after `delay`, giving the main thread time to block first.
template <class F>
std::thread after(std::chrono::milliseconds delay, F f) {
    return std::thread([delay, f = std::move(f)]() mutable {
        std::this_thread::sleep_for(delay);
        f();
    });
}

#if defined(__linux__)
double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
#endif
} // namespace

TEST_CASE("recv blocks until a send from another thread", "[blocking]") {
    auto [tx, rx] = oneshot::channel<std::string>();
    bool sent = false;
    auto t = after(30ms, [&sent, tx = std::move(tx)]() mutable {
        sent = std::move(tx).send("hello").has_value();
    });
    auto got = rx.recv();
    t.join();
    REQUIRE(sent);
    REQUIRE(got.has_value());
    REQUIRE(*got == "hello");
    REQUIRE(rx.recv().error() == recv_error::disconnected);
}

TEST_CASE("recv blocks until the sender is dropped, then reports disconnected", "[blocking]") {
    auto [tx, rx] = oneshot::channel<int>();
    auto t = after(30ms, [tx = std::move(tx)]() mutable { auto dropped = std::move(tx); });
    auto got = rx.recv();
    t.join();
    REQUIRE(got.error() == recv_error::disconnected);
}

TEST_CASE("recv returns at once when the message is already there", "[blocking]") {
    auto [tx, rx] = oneshot::channel<int>();
    REQUIRE(std::move(tx).send(3).has_value());
    REQUIRE(*rx.recv() == 3);
}

TEST_CASE("send happens-before the receive that returns it", "[blocking]") {
    // Plain, non-atomic data written before send and read after receive: TSan checks the edge.
    for (int i = 0; i < 200; ++i) {
        std::vector<int> payload;
        auto [tx, rx] = oneshot::channel<int>();
        bool sent = false;
        std::thread t([&payload, &sent, tx = std::move(tx)]() mutable {
            payload.assign(64, 7);
            sent = std::move(tx).send(64).has_value();
        });
        auto n = rx.recv();
        REQUIRE(n.has_value());
        REQUIRE(payload.size() == static_cast<std::size_t>(*n));
        REQUIRE(payload[63] == 7);
        t.join();
        REQUIRE(sent);
    }
}

#if defined(__linux__)
TEST_CASE("a blocked receiver uses no CPU while it waits", "[blocking]") {
    auto [tx, rx] = oneshot::channel<int>();
    double cpu = 0;
    int received = 0;
    std::thread receiver_thread([&cpu, &received, rx = std::move(rx)]() mutable {
        const double start = thread_cpu_seconds();
        auto r = rx.recv();
        cpu = thread_cpu_seconds() - start;
        received = r.value_or(-1);
    });
    std::this_thread::sleep_for(300ms);
    REQUIRE(std::move(tx).send(1).has_value());
    receiver_thread.join();
    REQUIRE(received == 1);
    INFO("receiver thread CPU seconds while blocked 300 ms: " << cpu);
    REQUIRE(cpu < 0.05); // a poll loop would burn ~0.3 s
}
#endif

TEST_CASE("recv_for times out when nothing comes, and the channel stays usable",
          "[blocking][timeout]") {
    auto [tx, rx] = oneshot::channel<int>();
    const auto start = std::chrono::steady_clock::now();
    auto got = rx.recv_for(50ms);
    const auto waited = std::chrono::steady_clock::now() - start;
    REQUIRE(got.error() == recv_error::timeout);
    REQUIRE(waited >= 50ms);
    REQUIRE(rx.try_recv().error() == recv_error::empty);
    REQUIRE(std::move(tx).send(5).has_value());
    REQUIRE(*rx.recv_for(0ms) == 5);
}

TEST_CASE("recv_for with zero or negative timeouts polls", "[blocking][timeout]") {
    auto [tx, rx] = oneshot::channel<int>();
    REQUIRE(rx.recv_for(0ms).error() == recv_error::timeout);
    REQUIRE(rx.recv_for(-5ms).error() == recv_error::timeout);
    // A huge timeout is "wait forever": prove it returns when the sender drops.
    auto t = after(20ms, [tx = std::move(tx)]() mutable { auto dropped = std::move(tx); });
    REQUIRE(rx.recv_for(std::chrono::hours::max()).error() == recv_error::disconnected);
    t.join();
}

TEST_CASE("recv_for returns a message that arrives before the timeout", "[blocking][timeout]") {
    auto [tx, rx] = oneshot::channel<int>();
    bool sent = false;
    auto t = after(
        20ms, [&sent, tx = std::move(tx)]() mutable { sent = std::move(tx).send(9).has_value(); });
    auto got = rx.recv_for(10s);
    t.join();
    REQUIRE(sent);
    REQUIRE(*got == 9);
}

TEST_CASE("recv_until accepts steady and system clock deadlines", "[blocking][timeout]") {
    auto [tx, rx] = oneshot::channel<int>();
    REQUIRE(rx.recv_until(std::chrono::steady_clock::now() + 20ms).error() == recv_error::timeout);
    REQUIRE(rx.recv_until(std::chrono::system_clock::now() + 20ms).error() == recv_error::timeout);
    REQUIRE(rx.recv_until(std::chrono::system_clock::now() - 1h).error() == recv_error::timeout);
    REQUIRE(std::move(tx).send(2).has_value());
    REQUIRE(*rx.recv_until(std::chrono::steady_clock::now() + 1s) == 2);
}

TEST_CASE("timeouts racing with a send: never lost, never both", "[blocking][timeout][race]") {
    std::mt19937 rng(12345);
    int timeouts = 0;
    int delivered = 0;
    for (int i = 0; i < race_repetitions; ++i) {
        test_support::counted::reset();
        {
            auto [tx, rx] = oneshot::channel<test_support::counted>();
            const auto timeout = std::chrono::microseconds(rng() % 200);
            const auto send_delay = std::chrono::microseconds(rng() % 200);
            std::atomic<bool> sent{false};
            std::thread t([send_delay, i, &sent, tx = std::move(tx)]() mutable {
                std::this_thread::sleep_for(send_delay);
                sent = std::move(tx).emplace(i).has_value();
            });
            auto got = rx.recv_for(timeout);
            if (got.has_value()) {
                ++delivered;
                REQUIRE(got->value == i);
            } else {
                ++timeouts;
                REQUIRE(got.error() == recv_error::timeout);
                t.join();
                // The send completed after the timeout: the message is still there.
                auto later = rx.try_recv();
                REQUIRE(later.has_value());
                REQUIRE(later->value == i);
            }
            if (t.joinable()) t.join();
            REQUIRE(sent);
        }
        REQUIRE(test_support::counted::live == 0);
    }
    INFO("delivered " << delivered << ", timed out " << timeouts);
    REQUIRE(delivered + timeouts == race_repetitions);
}

namespace {
/// Runs `receive(rx)` on a fresh channel whose sender sends 7 after `net` (a safety net: a receive
/// that should time out but would wait forever returns the message instead of hanging).
template <class Receive>
oneshot::result<int, recv_error> with_net(std::chrono::milliseconds net, Receive receive) {
    auto [tx, rx] = oneshot::channel<int>();
    auto t = after(net, [tx = std::move(tx)]() mutable { (void)std::move(tx).send(7); });
    auto got = receive(rx);
    t.join();
    return got;
}
template <class Rep, class Period>
oneshot::result<int, recv_error> recv_for_with_net(std::chrono::duration<Rep, Period> timeout,
                                                   std::chrono::milliseconds net = 2000ms) {
    return with_net(net, [&](oneshot::receiver<int>& rx) { return rx.recv_for(timeout); });
}
template <class Clock, class Duration>
oneshot::result<int, recv_error>
recv_until_with_net(std::chrono::time_point<Clock, Duration> deadline,
                    std::chrono::milliseconds net = 2000ms) {
    return with_net(net, [&](oneshot::receiver<int>& rx) { return rx.recv_until(deadline); });
}
} // namespace

TEST_CASE("recv_for times out with narrow and unusual duration types", "[blocking][timeout]") {
    // "Wait forever" limits computed in these types used to wrap, so these never timed out.
    REQUIRE(recv_for_with_net(std::chrono::duration<int, std::milli>(20)).error() ==
            recv_error::timeout);
    REQUIRE(recv_for_with_net(std::chrono::duration<int, std::micro>(20'000)).error() ==
            recv_error::timeout);
    REQUIRE(recv_for_with_net(std::chrono::duration<int, std::nano>(20'000'000)).error() ==
            recv_error::timeout);
    REQUIRE(
        recv_for_with_net(std::chrono::duration<long long, std::pico>(20'000'000'000LL)).error() ==
        recv_error::timeout);
    REQUIRE(recv_for_with_net(std::chrono::duration<short, std::milli>(20)).error() ==
            recv_error::timeout);
    REQUIRE(recv_for_with_net(std::chrono::duration<float>(0.02F)).error() == recv_error::timeout);
}

TEST_CASE("recv_for with a NaN, zero, negative or minimal duration only polls",
          "[blocking][timeout]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    REQUIRE(recv_for_with_net(std::chrono::duration<double>(nan)).error() == recv_error::timeout);
    REQUIRE(recv_for_with_net(0ms).error() == recv_error::timeout);
    REQUIRE(recv_for_with_net(-5s).error() == recv_error::timeout);
    REQUIRE(recv_for_with_net(std::chrono::nanoseconds::min()).error() == recv_error::timeout);
    REQUIRE(recv_for_with_net(std::chrono::duration<double>(-HUGE_VAL)).error() ==
            recv_error::timeout);
}

TEST_CASE("recv_for with an unrepresentably long duration waits for the message",
          "[blocking][timeout]") {
    REQUIRE(*recv_for_with_net(std::chrono::hours::max(), 20ms) == 7);
    REQUIRE(*recv_for_with_net(std::chrono::nanoseconds::max(), 20ms) == 7);
    REQUIRE(*recv_for_with_net(std::chrono::duration<double>(HUGE_VAL), 20ms) == 7);
    REQUIRE(*recv_for_with_net(std::chrono::duration<long long, std::ratio<31'556'952'000>>(5),
                               20ms) == 7); // five thousand years
}

TEST_CASE("recv_until with far and past deadlines on any clock", "[blocking][timeout]") {
    using std::chrono::steady_clock;
    using std::chrono::system_clock;
    // Far deadlines wait (they used to overflow and time out at once).
    REQUIRE(*recv_until_with_net(std::chrono::time_point<system_clock, std::chrono::seconds>::max(),
                                 20ms) == 7);
    REQUIRE(*recv_until_with_net(system_clock::time_point::max(), 20ms) == 7);
    REQUIRE(*recv_until_with_net(steady_clock::time_point::max(), 20ms) == 7);
    // Past deadlines only poll (the minimum used to overflow and wait forever).
    REQUIRE(recv_until_with_net(steady_clock::time_point::min()).error() == recv_error::timeout);
    REQUIRE(recv_until_with_net(system_clock::time_point::min()).error() == recv_error::timeout);
    REQUIRE(recv_until_with_net(std::chrono::time_point<system_clock, std::chrono::seconds>::min())
                .error() == recv_error::timeout);
    // An ordinary deadline on another clock still times out.
    REQUIRE(recv_until_with_net(system_clock::now() + 20ms).error() == recv_error::timeout);
}

TEST_CASE("recv_for(0) and recv_until(past) return a message that is already there",
          "[blocking][timeout]") {
    auto [tx, rx] = oneshot::channel<int>();
    REQUIRE(rx.recv_for(0s).error() == recv_error::timeout);
    REQUIRE(std::move(tx).send(3).has_value());
    REQUIRE(*rx.recv_for(0s) == 3);
    REQUIRE(rx.recv_for(0s).error() == recv_error::disconnected);
    auto [tx2, rx2] = oneshot::channel<int>();
    REQUIRE(std::move(tx2).send(4).has_value());
    REQUIRE(*rx2.recv_until(std::chrono::steady_clock::time_point::min()) == 4);
}

TEST_CASE("recv(stop_token) with stop already requested returns cancelled", "[blocking][stop]") {
    auto [tx, rx] = oneshot::channel<int>();
    test_support::stop_source source;
    source.request_stop();
    REQUIRE(rx.recv(source.get_token()).error() == recv_error::cancelled);
    REQUIRE(std::move(tx).send(1).has_value());
    // A message already there wins over a stop request.
    REQUIRE(*rx.recv(source.get_token()) == 1);
}

TEST_CASE("recv(stop_token) is cancelled during the wait; a later receive gets the message",
          "[blocking][stop]") {
    auto [tx, rx] = oneshot::channel<std::string>();
    test_support::stop_source source;
    auto t = after(30ms, [&source] { source.request_stop(); });
    REQUIRE(rx.recv(source.get_token()).error() == recv_error::cancelled);
    t.join();
    REQUIRE_FALSE(rx.is_closed());
    REQUIRE(std::move(tx).send("late").has_value());
    REQUIRE(*rx.recv() == "late");
}

TEST_CASE("recv(stop_token) without a stop behaves like recv", "[blocking][stop]") {
    auto [tx, rx] = oneshot::channel<int>();
    test_support::stop_source source;
    bool sent = false;
    auto t = after(
        20ms, [&sent, tx = std::move(tx)]() mutable { sent = std::move(tx).send(4).has_value(); });
    REQUIRE(*rx.recv(source.get_token()) == 4);
    t.join();
    REQUIRE(sent);
    auto [tx2, rx2] = oneshot::channel<int>();
    auto t2 = after(20ms, [tx2 = std::move(tx2)]() mutable { auto dropped = std::move(tx2); });
    REQUIRE(rx2.recv(test_support::stop_token{}).error() == recv_error::disconnected);
    t2.join();
}

TEST_CASE("recv_for with a stop token reports timeout or cancelled", "[blocking][stop][timeout]") {
    auto [tx, rx] = oneshot::channel<int>();
    test_support::stop_source source;
    REQUIRE(rx.recv_for(20ms, source.get_token()).error() == recv_error::timeout);
    auto t = after(20ms, [&source] { source.request_stop(); });
    REQUIRE(rx.recv_for(10s, source.get_token()).error() == recv_error::cancelled);
    t.join();
    REQUIRE(
        rx.recv_until(std::chrono::steady_clock::now() + 1s, test_support::stop_token{}).error() ==
        recv_error::timeout);
    REQUIRE(std::move(tx).send(8).has_value());
    REQUIRE(*rx.recv_for(1s, source.get_token()) == 8);
}

TEST_CASE("stop requests racing with a send resolve to exactly one outcome",
          "[blocking][stop][race]") {
    int cancelled = 0;
    int delivered = 0;
    for (int i = 0; i < race_repetitions; ++i) {
        test_support::counted::reset();
        {
            auto [tx, rx] = oneshot::channel<test_support::counted>();
            test_support::stop_source source;
            std::atomic<bool> go{false};
            bool sent = false;
            std::thread sender_thread([&go, &sent, i, tx = std::move(tx)]() mutable {
                while (!go)
                    std::this_thread::yield();
                sent = std::move(tx).emplace(i).has_value();
            });
            std::thread stopper([&go, &source] {
                while (!go)
                    std::this_thread::yield();
                source.request_stop();
            });
            go = true;
            auto got = rx.recv(source.get_token());
            sender_thread.join();
            stopper.join();
            REQUIRE(sent);
            if (got.has_value()) {
                ++delivered;
                REQUIRE(got->value == i);
                REQUIRE(rx.try_recv().error() == recv_error::disconnected);
            } else {
                ++cancelled;
                REQUIRE(got.error() == recv_error::cancelled);
                auto later = rx.recv();
                REQUIRE(later.has_value());
                REQUIRE(later->value == i);
            }
        }
        REQUIRE(test_support::counted::live == 0);
    }
    INFO("delivered " << delivered << ", cancelled " << cancelled);
    REQUIRE(delivered + cancelled == race_repetitions);
}

TEST_CASE("blocking receives with every drop order across two threads", "[blocking][race]") {
    std::mt19937 rng(777);
    for (int i = 0; i < race_repetitions; ++i) {
        test_support::counted::reset();
        {
            auto [tx, rx] = oneshot::channel<test_support::counted>();
            const bool send = (rng() % 2) != 0;
            std::thread t([send, tx = std::move(tx)]() mutable {
                if (send) (void)std::move(tx).emplace(1);
            });
            auto got = rx.recv();
            REQUIRE(got.has_value() == send);
            if (!send) REQUIRE(got.error() == recv_error::disconnected);
            t.join();
        }
        REQUIRE(test_support::counted::live == 0);
    }
}
