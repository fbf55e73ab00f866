// The smallest coroutine type: starts at once and frees its own frame when it finishes.
#pragma once

#include <coroutine>
#include <exception>

namespace test_support {

struct detached_task {
    struct promise_type {
        detached_task get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
};

} // namespace test_support
