// Two small helpers for the coroutine examples. oneshot needs neither: a receiver can be awaited
// from any coroutine type, and resume_on accepts any executor.
#pragma once

#include <condition_variable>
#include <coroutine>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

// An eager, fire-and-forget coroutine: it starts at once and frees its frame when it finishes.
struct detached {
    struct promise_type {
        detached get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
};

// One thread that resumes the coroutines handed to it, in order. It is invocable with a
// std::coroutine_handle<>, which makes it a oneshot resumer: rx.recv_async().resume_on(&loop).
class event_loop {
public:
    event_loop() : thread_([this] { run(); }) {}
    ~event_loop() {
        (*this)(nullptr); // a null handle stops the loop once everything before it has run
        thread_.join();
    }
    event_loop(const event_loop&) = delete;
    event_loop& operator=(const event_loop&) = delete;

    void operator()(std::coroutine_handle<> h) {
        std::lock_guard lock(mutex_);
        queue_.push_back(h);
        wake_.notify_one(); // under the lock: the loop cannot run h and be destroyed before this
    }

    // `co_await loop.schedule()` continues the coroutine on the loop's thread.
    auto schedule() {
        struct awaiter {
            event_loop& loop;
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<> h) { loop(h); }
            void await_resume() const noexcept {}
        };
        return awaiter{*this};
    }

    bool on_loop_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

private:
    void run() {
        for (;;) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return !queue_.empty(); });
            const std::coroutine_handle<> h = queue_.front();
            queue_.pop_front();
            lock.unlock();
            if (!h) return;
            h.resume();
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::coroutine_handle<>> queue_;
    std::thread thread_; // declared last: it starts after the members it uses
};
