// Included by each macro-robustness translation unit after its third-party headers: the standard
// headers oneshot uses, then the function-like and object-like macros that real headers define
// (windows.h without NOMINMAX, Qt without QT_NO_KEYWORDS, macOS AssertMacros.h, X11, curses), then
// oneshot, then code that instantiates a channel, its awaiters and send_rc. The standard headers
// come first because with macros like min(a, b) defined some standard libraries would not compile
// themselves, and that is not what this test checks.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <climits>
#include <concepts>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>
#include <version>
#if __has_include(<stop_token>)
#include <stop_token>
#endif
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

// windows.h (without NOMINMAX / WIN32_LEAN_AND_MEAN): minwindef.h, winbase.h, winnt.h, wingdi.h,
// objbase.h, rpcndr.h.
#define min(a, b) (((a) < (b)) ? (a) : (b))
#define max(a, b) (((a) > (b)) ? (a) : (b))
#define Yield()
#define interface struct
#define small char
#define ERROR 0
#define DELETE (0x00010000L)
#define IN
#define OUT
#define OPTIONAL
#define near
#define far
// Qt without QT_NO_KEYWORDS.
#define emit
#define signals public
#define slots
#define foreach(variable, container) for (variable : container)
// macOS AssertMacros.h (before __ASSERT_MACROS_DEFINE_VERSIONS_WITHOUT_UNDERSCORES defaulted to 0).
#define check(assertion) ((void)(assertion))
#define verify(assertion) ((void)(assertion))
#define require(assertion, exceptionLabel)                                                         \
    do {                                                                                           \
        if (!(assertion)) goto exceptionLabel;                                                     \
    } while (0)
// X11 (X.h, Xlib.h).
#define None 0L
#define Success 0
#define Always 2
#define Bool int
#define Status int
#define True 1
#define False 0
// curses.h.
#define timeout(delay) wtimeout(stdscr, delay)
// Build systems and GNU mode.
#define DEBUG 1
#ifndef unix
#define unix 1
#endif
#ifndef linux
#define linux 1
#endif

#include <oneshot/oneshot.hpp>

namespace hostile_macros_test {
// A minimal eager coroutine type, enough to co_await a receiver.
struct task {
    struct promise_type {
        task get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
};

task await_value(oneshot::receiver<int> rx, int& out) {
    auto r = co_await std::move(rx);
    out = r ? *r : -1;
}

task await_on(oneshot::receiver<int> rx, int& out) {
    auto r = co_await rx.recv_async().resume_on(oneshot::inline_scheduler{});
    out = r ? *r : -1;
}

// The awaiter types themselves, named.
using plain_awaiter = decltype(std::declval<oneshot::receiver<int>&>().operator co_await());
static_assert(std::is_same_v<plain_awaiter, oneshot::recv_awaiter<int, ONESHOT_DEFAULT_PLATFORM,
                                                                  oneshot::inline_scheduler>>);
} // namespace hostile_macros_test

// Runs every check; returns the number that failed.
inline int run_checks() {
    using namespace hostile_macros_test;
    int failures = 0;
    {
        auto [tx, rx] = oneshot::channel<int>();
        std::thread t([tx = std::move(tx)]() mutable { (void)std::move(tx).send(1); });
        auto r = rx.recv();
        t.join();
        failures += (r && *r == 1) ? 0 : 1;
    }
    {
        auto [tx, rx] = oneshot::channel<int>();
        int out = 0;
        await_value(std::move(rx), out);
        (void)std::move(tx).send(2);
        failures += out == 2 ? 0 : 1;
    }
    {
        auto [tx, rx] = oneshot::channel<int>();
        int out = 0;
        await_on(std::move(rx), out);
        (void)std::move(tx).send(3);
        failures += out == 3 ? 0 : 1;
    }
    {
        auto [tx, rx] = oneshot::channel<void>();
        (void)std::move(tx).send();
        failures += rx.try_recv().has_value() ? 0 : 1;
        auto r = rx.recv_for(std::chrono::milliseconds(1));
        failures += !r && r.error() == oneshot::recv_error::disconnected ? 0 : 1;
    }
    {
        auto rc = sendable::make_send_rc<int>(4);
        auto copy = rc;
        failures += (*copy == 4 && rc.use_count() == 2) ? 0 : 1;
    }
    std::printf("macros: %s\n", failures == 0 ? "ok" : "FAILED");
    return failures;
}
