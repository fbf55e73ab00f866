// Misuse of the channel that cannot be reported as an error value must stop the process with a
// clear message. Run by the sendable tests' expect_death.cmake, which checks that the process
// aborts and that stderr carries the expected message.
#include <oneshot/oneshot.hpp>

#include <coroutine>
#include <cstring>
#include <utility>

namespace {

/// Starts at once; the frame is destroyed by hand.
struct manual_task {
    struct promise_type {
        manual_task get_return_object() noexcept {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept {}
    };
    std::coroutine_handle<promise_type> handle;
};

manual_task await_borrowed(oneshot::receiver<int>& rx) {
    auto r = co_await rx;
    (void)r;
}

int run(const char* mode) {
    if (std::strcmp(mode, "none") == 0) {
        auto [tx, rx] = oneshot::channel<int>();
        manual_task t = await_borrowed(rx);
        (void)std::move(tx).send(1); // resumes the coroutine: no misuse
        const bool done = t.handle.done();
        t.handle.destroy();
        return done ? 0 : 1; // exits normally (the harness must notice)
    }
    if (std::strcmp(mode, "receiver_moved_then_resumed") == 0) {
        auto [tx, rx] = oneshot::channel<int>();
        manual_task t = await_borrowed(rx);
        oneshot::receiver<int> elsewhere = std::move(rx); // while the await is suspended
        (void)std::move(tx).send(1);                      // resumes: reported
        t.handle.destroy();
        return 0;
    }
    if (std::strcmp(mode, "receiver_moved_then_destroyed") == 0) {
        auto [tx, rx] = oneshot::channel<int>();
        manual_task t = await_borrowed(rx);
        oneshot::receiver<int> elsewhere = std::move(rx); // while the await is suspended
        t.handle.destroy();                               // withdraws: reported
        return 0;
    }
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    return argc == 2 ? run(argv[1]) : 2;
}
