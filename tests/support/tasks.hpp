// Two small coroutine task types for the tests, deliberately different from each other (and
// unknown to oneshot), to show that the receiver's awaiter assumes nothing about the promise:
//
// - `eager_task`: starts running at once, in the caller's thread, up to its first suspension. The
//   task object owns the frame; the frame stays suspended at its final point until the task is
//   destroyed, so a test can `wait()` for completion from any thread and can `destroy()` the
//   frame while it is suspended mid-await. Its promise has an `await_transform` that wraps every
//   awaitable and counts `await_ready`/`await_suspend` calls, so tests can prove "no suspension".
//
// - `lazy_task<T>`: does nothing until awaited (or `start()`ed); resumes its awaiting coroutine
//   by symmetric transfer when it finishes; returns a value; `sync_wait(task)` runs one to
//   completion from a plain thread.
//
// Neither lets an exception escape the frame: it is stored and rethrown to the waiting side.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

namespace test_support {

/// `co_await x` looks for `x.operator co_await()`, then a free `operator co_await(x)`, then uses
/// `x` itself; `await_transform` must do the same by hand.
template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (requires { std::forward<A>(a).operator co_await(); })
        return std::forward<A>(a).operator co_await();
    else if constexpr (requires { operator co_await(std::forward<A>(a)); })
        return operator co_await(std::forward<A>(a));
    else
        return std::forward<A>(a);
}

/// Names an object (possibly an xvalue) as an lvalue, to store a reference to it.
template <class T>
T& as_lvalue(T&& x) noexcept {
    return x;
}

/// Sets `*flag` when destroyed: shows that a coroutine frame's locals were destroyed.
struct frame_probe {
    std::atomic<int>* destroyed;
    explicit frame_probe(std::atomic<int>* d) noexcept : destroyed(d) {}
    frame_probe(const frame_probe&) = delete;
    frame_probe& operator=(const frame_probe&) = delete;
    ~frame_probe() { ++*destroyed; }
};

class eager_task {
public:
    /// Outlives the frame (shared by the frame and the task object).
    struct completion {
        std::mutex mutex;
        std::condition_variable cv;
        bool done = false;
        std::exception_ptr error;
        std::atomic<int> ready_true{0};    // await_ready() returned true
        std::atomic<int> suspend_calls{0}; // await_suspend() was called
        std::atomic<int> declined{0}; // await_suspend() returned false (no suspension after all)
    };

    struct promise_type {
        std::shared_ptr<completion> state = std::make_shared<completion>();

        eager_task get_return_object() {
            return eager_task(std::coroutine_handle<promise_type>::from_promise(*this), state);
        }
        std::suspend_never initial_suspend() noexcept { return {}; }

        struct final_awaiter {
            [[nodiscard]] bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<promise_type> h) const noexcept {
                // Keep the completion alive by a local reference: once `done` is visible, the owner
                // may destroy the frame (and this awaiter with it) at any moment.
                const std::shared_ptr<completion> c = h.promise().state;
                std::lock_guard lock(c->mutex);
                c->done = true;
                c->cv.notify_all();
            }
            void await_resume() const noexcept {}
        };
        final_awaiter final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { state->error = std::current_exception(); }

        /// Every `co_await` in an eager_task goes through a counting wrapper.
        template <class A>
        auto await_transform(A&& a) {
            using inner_type = decltype(get_awaiter(std::forward<A>(a)));
            using stored_type =
                std::conditional_t<std::is_reference_v<inner_type>,
                                   std::remove_reference_t<inner_type>&, inner_type>;
            if constexpr (std::is_reference_v<inner_type>) {
                // An awaiter that is the operand itself: a temporary of the co_await full-expression
                // (it lives in the frame across the suspension) or an lvalue. Refer to it.
                return counting_awaiter<stored_type>{as_lvalue(get_awaiter(std::forward<A>(a))),
                                                     state.get()};
            } else {
                return counting_awaiter<stored_type>{get_awaiter(std::forward<A>(a)), state.get()};
            }
        }
    };

    template <class Awaiter>
    struct counting_awaiter {
        Awaiter inner;
        completion* stats;

        bool await_ready() {
            const bool ready = static_cast<bool>(inner.await_ready());
            if (ready) ++stats->ready_true;
            return ready;
        }
        template <class Promise>
        auto await_suspend(std::coroutine_handle<Promise> h) {
            // Count before: once the inner awaiter has registered the coroutine, another thread may
            // resume it, finish it and destroy the frame (this wrapper included).
            completion* const s = stats;
            ++s->suspend_calls;
            if constexpr (std::is_same_v<decltype(inner.await_suspend(h)), bool>) {
                const bool suspended = inner.await_suspend(h);
                if (!suspended) ++s->declined; // still ours: the coroutine continues on this thread
                return suspended;
            } else {
                return inner.await_suspend(h);
            }
        }
        decltype(auto) await_resume() { return inner.await_resume(); }
    };

    eager_task(eager_task&& other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)), state_(std::move(other.state_)) {}
    eager_task& operator=(eager_task&&) = delete;
    eager_task(const eager_task&) = delete;
    eager_task& operator=(const eager_task&) = delete;

    /// Destroys a finished frame. A frame still suspended mid-way is left alone (leaked, and
    /// reported by LeakSanitizer): destroying it while something may still resume it would turn a
    /// failed test into a crash. Use `destroy()` to destroy a suspended frame on purpose.
    ~eager_task() {
        if (handle_ && done()) handle_.destroy();
    }

    /// True once the body has finished (the frame is parked at its final suspension point).
    [[nodiscard]] bool done() const {
        std::lock_guard lock(state_->mutex);
        return state_->done;
    }

    /// Waits up to `timeout` for the body to finish; returns whether it did. Rethrows an exception
    /// that escaped the body.
    template <class Rep = long, class Period = std::ratio<1>>
    bool wait(std::chrono::duration<Rep, Period> timeout = std::chrono::seconds(20)) {
        std::unique_lock lock(state_->mutex);
        if (!state_->cv.wait_for(lock, timeout, [this] { return state_->done; })) return false;
        if (state_->error) std::rethrow_exception(state_->error);
        return true;
    }

    /// Destroys the frame now, wherever it is suspended (the test's "handle.destroy()").
    void destroy() {
        if (handle_) std::exchange(handle_, nullptr).destroy();
    }

    /// The frame's handle (null after `destroy()`).
    [[nodiscard]] std::coroutine_handle<> handle() const noexcept { return handle_; }

    /// How many awaits found their awaitable ready (no suspension attempted).
    [[nodiscard]] int ready_count() const noexcept { return state_->ready_true.load(); }
    /// How many times the coroutine really suspended: `await_suspend` calls that did not decline.
    [[nodiscard]] int suspensions() const noexcept {
        return state_->suspend_calls.load() - state_->declined.load();
    }
    /// How many times `await_suspend` was called at all.
    [[nodiscard]] int suspend_calls() const noexcept { return state_->suspend_calls.load(); }

private:
    eager_task(std::coroutine_handle<promise_type> h, std::shared_ptr<completion> s) noexcept
        : handle_(h), state_(std::move(s)) {}

    std::coroutine_handle<promise_type> handle_;
    std::shared_ptr<completion> state_;
};

template <class T>
class [[nodiscard]] lazy_task {
    static_assert(!std::is_void_v<T> && !std::is_reference_v<T>, "lazy_task<T>: T is a value type");

public:
    struct promise_type {
        std::optional<T> value;
        std::exception_ptr error;
        std::coroutine_handle<> continuation = std::noop_coroutine();

        lazy_task get_return_object() noexcept {
            return lazy_task(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() noexcept { return {}; }

        struct final_awaiter {
            [[nodiscard]] bool await_ready() const noexcept { return false; }
            std::coroutine_handle<>
            await_suspend(std::coroutine_handle<promise_type> h) const noexcept {
                return h.promise().continuation; // symmetric transfer to whoever awaited us
            }
            void await_resume() const noexcept {}
        };
        final_awaiter final_suspend() noexcept { return {}; }

        template <class U>
            requires std::is_constructible_v<T, U>
        void return_value(U&& v) { value.emplace(std::forward<U>(v)); }
        void unhandled_exception() noexcept { error = std::current_exception(); }
    };

    lazy_task(lazy_task&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    lazy_task& operator=(lazy_task&&) = delete;
    lazy_task(const lazy_task&) = delete;
    lazy_task& operator=(const lazy_task&) = delete;
    /// Destroys the frame: the task must be finished, not started, or suspended with nothing
    /// about to resume it.
    ~lazy_task() {
        if (handle_) handle_.destroy();
    }

    struct awaiter {
        std::coroutine_handle<promise_type> handle;
        [[nodiscard]] bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
            handle.promise().continuation = awaiting;
            return handle; // start the task by symmetric transfer
        }
        T await_resume() const {
            if (handle.promise().error) std::rethrow_exception(handle.promise().error);
            return std::move(*handle.promise().value);
        }
    };
    /// Starts the task; the awaiting coroutine resumes (by symmetric transfer) when it finishes.
    awaiter operator co_await() & noexcept { return awaiter{handle_}; }
    awaiter operator co_await() && noexcept { return awaiter{handle_}; }

    /// Runs the task on the calling thread up to its first suspension, with no continuation.
    void start() { handle_.resume(); }
    /// True once the body has finished. Only meaningful once nothing else may be resuming it.
    [[nodiscard]] bool done() const noexcept { return handle_.done(); }
    /// Destroys the frame now (the test's "handle.destroy()").
    void destroy() {
        if (handle_) std::exchange(handle_, nullptr).destroy();
    }

private:
    explicit lazy_task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
    std::coroutine_handle<promise_type> handle_;
};

/// Runs `task` to completion and returns its value, blocking the calling thread while it is
/// suspended (it may be resumed, and finish, on any other thread). Gives up (returns nothing)
/// after `timeout`; the caller must then keep `task` alive.
template <class T, class Rep = long, class Period = std::ratio<1>>
std::optional<T> sync_wait(lazy_task<T>& task,
                           std::chrono::duration<Rep, Period> timeout = std::chrono::seconds(20)) {
    struct box {
        std::optional<T> value;
    };
    auto b = std::make_shared<box>();
    // A captureless coroutine lambda: everything it uses arrives as a parameter.
    auto driver = [](lazy_task<T>* t, std::shared_ptr<box> out) -> eager_task {
        out->value.emplace(co_await *t);
    };
    eager_task d = driver(&task, b);
    // On a timeout the driver's frame is left alive (see ~eager_task): the task may still finish.
    if (!d.wait(timeout)) return std::nullopt;
    return std::move(b->value);
}

} // namespace test_support
