// Timeouts and cancellation. A receive that gives up leaves the channel intact: a message sent
// later is still there for the next receive.
#include "tiny_async.hpp"

#include <oneshot/oneshot.hpp>

#include <chrono>
#include <optional>
#include <utility>

#if ONESHOT_HAS_STOP_TOKEN // 1 where the standard library has std::stop_token
#include <stop_token>
#include <thread>

detached await_or_stop(oneshot::receiver<int>& rx, std::stop_token token,
                       std::optional<oneshot::result<int, oneshot::recv_error>>& out) {
    out.emplace(co_await rx.recv_async(std::move(token))); // rx stays with the caller
}
#endif

int main() {
    using namespace std::chrono_literals;
    using oneshot::recv_error;

    // recv_for / recv_until: block at most this long.
    auto [tx, rx] = oneshot::channel<int>();
    auto r = rx.recv_for(20ms);
    if (r || r.error() != recv_error::timeout) return 1;
    r = rx.recv_until(std::chrono::steady_clock::now() + 1ms);
    if (r || r.error() != recv_error::timeout) return 2;
    (void)std::move(tx).send(1);
    r = rx.recv_for(20ms); // the message is there now: no waiting
    if (!r || *r != 1) return 3;

#if ONESHOT_HAS_STOP_TOKEN
    // recv(std::stop_token): another thread gives up on our behalf.
    auto [tx2, rx2] = oneshot::channel<int>();
    std::stop_source stop;
    std::thread watchdog([&stop] {
        std::this_thread::sleep_for(10ms);
        stop.request_stop(); // wakes the blocked recv below
    });
    r = rx2.recv(stop.get_token());
    watchdog.join();
    if (r || r.error() != recv_error::cancelled) return 4;
    (void)std::move(tx2).send(2);
    r = rx2.try_recv(); // the late message was kept
    if (!r || *r != 2) return 5;

    // co_await rx.recv_async(token): a stop request resumes the coroutine with `cancelled`,
    // inline, inside request_stop().
    auto [tx3, rx3] = oneshot::channel<int>();
    std::stop_source stop3;
    std::optional<oneshot::result<int, recv_error>> awaited;
    await_or_stop(rx3, stop3.get_token(), awaited); // suspends
    if (awaited) return 6;
    stop3.request_stop();
    if (!awaited || *awaited || awaited->error() != recv_error::cancelled) return 7;
    (void)std::move(tx3).send(3);
    r = rx3.recv(); // the receiver is still usable
    if (!r || *r != 3) return 8;
#endif
    return 0;
}
