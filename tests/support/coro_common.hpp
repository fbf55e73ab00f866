// Shared pieces of the coroutine test files: what a test coroutine records when it resumes, the
// coroutines that await a receiver in each spelling, and the repetition counts.
#pragma once

#include "executors.hpp"
#include "tasks.hpp"

#include <oneshot/channel.hpp>

#include <atomic>
#include <optional>
#include <thread>
#include <tuple>
#include <utility>

/// Repetitions of the racing tests: thousands everywhere, fewer under the sanitizers (TSan slows
/// every atomic step and thread switch by an order of magnitude).
#if defined(__SANITIZE_THREAD__)
#define CORO_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CORO_TEST_TSAN 1
#endif
#endif
#ifndef CORO_TEST_TSAN
#define CORO_TEST_TSAN 0
#endif

#ifndef CORO_TEST_RACE_REPS
#if CORO_TEST_TSAN
#define CORO_TEST_RACE_REPS 2000
#else
#define CORO_TEST_RACE_REPS 5000
#endif
#endif

namespace test_support {

inline constexpr int race_reps = CORO_TEST_RACE_REPS;

/// Opens a channel into two existing variables (lambdas cannot capture structured bindings
/// portably).
template <class T>
void open(oneshot::sender<T>& tx, oneshot::receiver<T>& rx) {
    std::tie(tx, rx) = oneshot::channel<T>();
}

/// What a test coroutine saw when its `co_await` on a receiver returned. Written by the coroutine
/// (on whatever thread resumed it), read by the test after the task is known to be finished.
template <class T>
struct record {
    std::optional<oneshot::result<T, oneshot::recv_error>> result;
    std::thread::id thread{};
    bool resumed = false;

    /// Optional probes, sampled at the moment of resumption.
    const std::atomic<bool>* watch = nullptr; // e.g. "the sender's call has returned"
    bool watched = false;
    const event_loop* loop = nullptr;
    bool in_loop = false;
    const thread_pool* pool = nullptr;
    bool in_pool = false;

    /// Counts destructions of the awaiting frame's locals (see `frame_probe`).
    std::atomic<int> frame_destroyed{0};

    template <class R>
    void note(R&& r) {
        thread = std::this_thread::get_id();
        if (watch != nullptr) watched = watch->load();
        if (loop != nullptr) in_loop = loop->running_in_this_thread();
        if (pool != nullptr) in_pool = pool->running_in_this_thread();
        result.emplace(std::forward<R>(r));
        resumed = true;
    }

    [[nodiscard]] bool got_value() const { return result.has_value() && result->has_value(); }
    [[nodiscard]] bool got_error(oneshot::recv_error e) const {
        return result.has_value() && !result->has_value() && result->error() == e;
    }
};

/// `co_await aw` for any prepared awaitable (`rx.recv_async(...)`, `.resume_on(...)`, ...).
template <class Awaitable, class T>
eager_task await_into(Awaitable aw, record<T>* out) {
    frame_probe probe(&out->frame_destroyed);
    out->note(co_await std::move(aw));
}

/// `co_await rx` on an lvalue: the awaiter borrows the receiver, which stays with the caller.
template <class T>
eager_task await_lvalue(oneshot::receiver<T>* rx, record<T>* out) {
    frame_probe probe(&out->frame_destroyed);
    out->note(co_await *rx);
}

/// `co_await std::move(rx)`: the awaiter (so the frame) owns the receiver.
template <class T>
eager_task await_rvalue(oneshot::receiver<T> rx, record<T>* out) {
    frame_probe probe(&out->frame_destroyed);
    out->note(co_await std::move(rx));
}

/// The same, in the lazy task type.
template <class T>
lazy_task<int> lazy_await_rvalue(oneshot::receiver<T> rx, record<T>* out) {
    frame_probe probe(&out->frame_destroyed);
    out->note(co_await std::move(rx));
    co_return 1;
}

} // namespace test_support
