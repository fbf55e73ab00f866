// Coroutine -> coroutine on different executors: the producer runs on loop `a`, the consumer on
// loop `b`. resume_on(&b) makes the consumer resume on b's thread instead of inline inside the
// producer's send() on a's thread.
#include "tiny_async.hpp"

#include <oneshot/oneshot.hpp>

#include <string>
#include <utility>

detached produce(event_loop& home, oneshot::sender<std::string> tx) {
    co_await home.schedule();
    (void)std::move(tx).send("ping"); // posts the consumer to its loop and returns at once
}

detached consume(event_loop& home, oneshot::receiver<std::string> rx, oneshot::sender<bool> done) {
    co_await home.schedule();
    auto r = co_await std::move(rx).recv_async().resume_on(&home);
    const bool ok = r && *r == "ping" && home.on_loop_thread();
    (void)std::move(done).send(ok);
}

int main() {
    event_loop a;
    event_loop b;
    auto [tx, rx] = oneshot::channel<std::string>();
    auto [done_tx, done_rx] = oneshot::channel<bool>();

    consume(b, std::move(rx), std::move(done_tx));
    produce(a, std::move(tx));

    auto ok = done_rx.recv(); // main is a third party: it blocks until the consumer reports
    return ok && *ok ? 0 : 1;
}
