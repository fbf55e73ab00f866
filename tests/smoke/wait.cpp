// The platform wait of wait.hpp, used directly: wake_one and wake_all wake the waiters of their word
// (also when two words share a bucket of the portable table), a timed wait returns, and the build
// uses the wait that CMake asked for. A lost wake-up hangs a waiter, and ctest's timeout fails it.
#include <oneshot/detail/wait.hpp>
#include <oneshot/oneshot.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#ifndef ONESHOT_EXPECT_PORTABLE_WAIT
#error "the build passes ONESHOT_EXPECT_PORTABLE_WAIT (the value of ONESHOT_TEST_PORTABLE_WAIT)"
#endif
static_assert(ONESHOT_PORTABLE_WAIT == ONESHOT_EXPECT_PORTABLE_WAIT,
              "ONESHOT_TEST_PORTABLE_WAIT did not reach the test's compile definitions");

namespace {
using oneshot::detail::wait_word;

// Blocks (untimed) until the word is no longer 0.
void wait_until_set(const wait_word& w) {
    while (w.load() == 0)
        oneshot::detail::wait_on(w, 0, std::nullopt);
}

int check(bool ok, const char* what) {
    if (!ok) std::fprintf(stderr, "wait check failed: %s\n", what);
    return ok ? 0 : 1;
}

void let_waiters_sleep() {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}
} // namespace

int main() {
    int failures = 0;
    {
        // words[0] and words[256] are 1024 bytes apart: the same bucket of the portable table. A
        // wake_one that woke the bucket's other waiter instead would leave b asleep for ever.
        static wait_word words[257] = {};
        std::thread a([] { wait_until_set(words[0]); });
        std::thread b([] { wait_until_set(words[256]); });
        let_waiters_sleep();
        words[256].store(1);
        oneshot::detail::wake_one(words[256]);
        b.join();
        words[0].store(1);
        oneshot::detail::wake_one(words[0]);
        a.join();
        failures += check(words[0].load() == 1 && words[256].load() == 1, "wake_one");
    }
    {
        wait_word word{0};
        std::vector<std::thread> waiters;
        for (int i = 0; i < 3; ++i)
            waiters.emplace_back([&word] { wait_until_set(word); });
        let_waiters_sleep();
        word.store(1);
        oneshot::detail::wake_all(word);
        for (std::thread& t : waiters)
            t.join();
        failures += check(word.load() == 1, "wake_all");
    }
    {
        // Nobody wakes this word: each timed wait returns by itself.
        const wait_word word{0};
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
        int waits = 0;
        while (std::chrono::steady_clock::now() < until) {
            oneshot::detail::wait_on(word, 0, std::chrono::milliseconds(1));
            ++waits;
        }
        failures += check(waits > 0, "timed wait returns");
    }
    {
        // A receiver that has to sleep in the wait before the message comes.
        auto [tx, rx] = oneshot::channel<int>();
        std::thread sender([tx = std::move(tx)]() mutable {
            let_waiters_sleep();
            (void)std::move(tx).send(42);
        });
        auto r = rx.recv();
        sender.join();
        failures += check(r.has_value() && *r == 42, "blocking recv");
    }
    std::printf("wait (%s): %s\n", ONESHOT_PORTABLE_WAIT ? "portable table" : "platform wait",
                failures == 0 ? "ok" : "FAILED");
    return failures;
}
