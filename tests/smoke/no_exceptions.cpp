// Built with -fno-exceptions -fno-rtti: the channel, the awaiter and the result type all work.
#include "support/detached_task.hpp"
#include <oneshot/oneshot.hpp>

#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

namespace {
using test_support::detached_task;
detached_task await_into(oneshot::receiver<std::unique_ptr<int>> rx, int& out) {
    auto r = co_await std::move(rx);
    out = r.has_value() ? **r : -1;
}

int check(bool ok, const char* what) {
    if (!ok) std::fprintf(stderr, "smoke check failed: %s\n", what);
    return ok ? 0 : 1;
}
} // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "bad-access") == 0) {
        oneshot::result<int, oneshot::recv_error> r(oneshot::unexpect, oneshot::recv_error::empty);
        return r.value(); // prints the message and aborts
    }
    int failures = 0;
    {
        auto [tx, rx] = oneshot::channel<int>();
        std::thread t([tx = std::move(tx)]() mutable { (void)std::move(tx).send(5); });
        auto r = rx.recv();
        t.join();
        failures += check(r.has_value() && *r == 5, "thread to thread");
    }
    {
        auto [tx, rx] = oneshot::channel<std::unique_ptr<int>>();
        int out = 0;
        await_into(std::move(rx), out);
        std::thread t(
            [tx = std::move(tx)]() mutable { (void)std::move(tx).send(std::make_unique<int>(6)); });
        t.join();
        failures += check(out == 6, "thread to coroutine");
    }
    {
        auto [tx, rx] = oneshot::channel<void>();
        { auto dropped = std::move(rx); }
        failures += check(!std::move(tx).send().has_value(), "send to a dropped receiver fails");
    }
    {
        auto rc = sendable::make_send_rc<int>(7);
        failures += check(*rc == 7 && rc.use_count() == 1, "send_rc on its own thread");
    }
    std::puts(failures == 0 ? "smoke: ok" : "smoke: FAILED");
    return failures;
}
