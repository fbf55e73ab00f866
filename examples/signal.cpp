// channel<void> as a one-time signal: "it happened" (send), or "it will never happen" (the sender
// is destroyed unsent). Everything written before the send is visible after the receive.
#include "tiny_async.hpp"

#include <oneshot/oneshot.hpp>

#include <thread>
#include <utility>

detached when_ready(oneshot::receiver<void> ready, int& runs) {
    // Bind the result first: g++ 12 miscompiles co_await inside an if/while/switch condition.
    const oneshot::result<void, oneshot::recv_error> r = co_await std::move(ready);
    if (r) ++runs;
}

int main() {
    // A thread signals that its setup is done.
    auto [ready_tx, ready_rx] = oneshot::channel<void>();
    int config = 0;
    std::thread worker([&config, tx = std::move(ready_tx)]() mutable {
        config = 42;                // written before the send...
        (void)std::move(tx).send(); // ...so the receiver sees it
    });
    const bool signalled = ready_rx.recv().has_value();
    const bool saw_config = config == 42;
    worker.join();

    // Destroying the sender unsent is a signal too: it will never happen.
    auto [never_tx, never_rx] = oneshot::channel<void>();
    { auto dropped = std::move(never_tx); }
    const auto never = never_rx.recv();
    const bool disconnected = !never && never.error() == oneshot::recv_error::disconnected;

    // A coroutine waits for the signal; send() resumes it inline, here.
    auto [go_tx, go_rx] = oneshot::channel<void>();
    int runs = 0;
    when_ready(std::move(go_rx), runs); // suspends
    const bool waited = runs == 0;
    (void)std::move(go_tx).send(); // runs the coroutine to its end before returning

    return signalled && saw_config && disconnected && waited && runs == 1 ? 0 : 1;
}
