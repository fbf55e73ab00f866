// Two small executors for the coroutine tests, written for the tests only:
//
// - `thread_pool`: N worker threads draining a shared queue. It is a `post(f)` executor: the
//   oneshot awaiter hands it a nullary callable.
// - `event_loop`: a single-thread, manually driven loop (whoever calls `run_one`, `drain` or `run`
//   is the loop thread). It is invocable with `std::coroutine_handle<>`: the awaiter hands it the
//   handle directly. `execute_ref` wraps a loop into an `execute(f)` executor, so all three
//   scheduler shapes the awaiter accepts are exercised.
//
// Both record which threads are theirs, so tests can check where a coroutine resumed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace test_support {

class thread_pool {
public:
    explicit thread_pool(std::size_t threads = 2) {
        workers_.reserve(threads);
        for (std::size_t i = 0; i < threads; ++i)
            workers_.emplace_back([this] { work(); });
    }
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    /// Drains the queue, then joins the workers.
    ~thread_pool() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        ready_.notify_all();
        for (auto& w : workers_)
            w.join();
    }

    /// Queues `f` to run on one of the workers.
    template <class F>
    void post(F&& f) {
        {
            std::lock_guard lock(mutex_);
            queue_.emplace_back(std::forward<F>(f));
            ++posted_;
        }
        ready_.notify_one();
    }

    /// True when called from one of this pool's workers.
    [[nodiscard]] bool running_in_this_thread() const noexcept { return current_ == this; }

    /// How many callables were ever posted.
    [[nodiscard]] long posted() const {
        std::lock_guard lock(mutex_);
        return posted_;
    }

    /// Blocks until the queue is empty and no worker is running a callable.
    void wait_idle() {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [this] { return queue_.empty() && busy_ == 0; });
    }

private:
    void work() {
        current_ = this;
        std::unique_lock lock(mutex_);
        for (;;) {
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return; // stopping, and nothing left
            std::function<void()> f = std::move(queue_.front());
            queue_.pop_front();
            ++busy_;
            lock.unlock();
            f();
            f = nullptr; // destroy the callable outside the lock too
            lock.lock();
            --busy_;
            if (queue_.empty() && busy_ == 0) idle_.notify_all();
        }
    }

    static inline thread_local const thread_pool* current_ = nullptr;

    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::condition_variable idle_;
    std::deque<std::function<void()>> queue_;
    std::vector<std::thread> workers_;
    long posted_ = 0;
    int busy_ = 0;
    bool stopping_ = false;
};

class event_loop {
public:
    event_loop() = default;
    event_loop(const event_loop&) = delete;
    event_loop& operator=(const event_loop&) = delete;

    /// Queues the coroutine to be resumed by the loop thread (the awaiter's scheduler hook).
    void operator()(std::coroutine_handle<> h) {
        push([h] { h.resume(); });
    }

    /// Queues any callable.
    void push(std::function<void()> f) {
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(f));
            ++queued_;
        }
        ready_.notify_all();
    }

    /// Runs one queued callable if there is one; returns whether it did.
    bool run_one() {
        std::function<void()> f;
        {
            std::lock_guard lock(mutex_);
            if (queue_.empty()) return false;
            f = std::move(queue_.front());
            queue_.pop_front();
        }
        run_here(f);
        return true;
    }

    /// Runs callables until the queue is empty; returns how many ran.
    int drain() {
        int n = 0;
        while (run_one())
            ++n;
        return n;
    }

    /// Waits for one callable (up to `timeout`) and runs it; returns whether one ran.
    template <class Rep, class Period>
    bool run_one_for(std::chrono::duration<Rep, Period> timeout) {
        std::function<void()> f;
        {
            std::unique_lock lock(mutex_);
            if (!ready_.wait_for(lock, timeout, [this] { return !queue_.empty(); })) return false;
            f = std::move(queue_.front());
            queue_.pop_front();
        }
        run_here(f);
        return true;
    }

    /// Runs callables on the calling thread until `stop()` is called and the queue is empty.
    void run() {
        std::unique_lock lock(mutex_);
        for (;;) {
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            std::function<void()> f = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            run_here(f);
            f = nullptr;
            lock.lock();
        }
    }

    /// Makes `run()` return once the queue is empty.
    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        ready_.notify_all();
    }

    /// Discards every queued callable without running it; returns how many there were.
    std::size_t clear() {
        std::deque<std::function<void()>> dropped;
        {
            std::lock_guard lock(mutex_);
            dropped.swap(queue_);
        }
        return dropped.size();
    }

    /// How many callables are queued right now.
    [[nodiscard]] std::size_t pending() const {
        std::lock_guard lock(mutex_);
        return queue_.size();
    }
    /// How many callables were ever queued.
    [[nodiscard]] long queued() const {
        std::lock_guard lock(mutex_);
        return queued_;
    }

    /// True while the calling thread is running one of this loop's callables.
    [[nodiscard]] bool running_in_this_thread() const noexcept { return current_ == this; }

private:
    void run_here(std::function<void()>& f) {
        const event_loop* previous = std::exchange(current_, this);
        f();
        current_ = previous;
    }

    static inline thread_local const event_loop* current_ = nullptr;

    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> queue_;
    long queued_ = 0;
    bool stopping_ = false;
};

/// An `execute(f)` executor over an event loop (neither invocable nor `post`-able itself).
struct execute_ref {
    event_loop* loop;
    template <class F>
    void execute(F f) const {
        loop->push(std::function<void()>(std::move(f)));
    }
};

/// `co_await switch_to(ex)`: continue the coroutine on executor `ex` (a `thread_pool`, an
/// `event_loop`, or anything with `post(f)` or invocable with a coroutine handle).
template <class Executor>
struct switch_to {
    Executor* ex;
    explicit switch_to(Executor& e) noexcept : ex(&e) {}
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) const {
        if constexpr (requires(Executor & e) { e.post(std::function<void()>{}); })
            ex->post([h] { h.resume(); });
        else
            (*ex)(h);
    }
    void await_resume() const noexcept {}
};

/// A copyable `post(f)` executor over a thread pool (a scheduler passed by value).
struct post_ref {
    thread_pool* pool;
    template <class F>
    void post(F f) const {
        pool->post(std::move(f));
    }
};

/// A thread running `loop.run()` until destroyed.
class loop_thread {
public:
    explicit loop_thread(event_loop& loop) : loop_(loop), thread_([this] { loop_.run(); }) {}
    loop_thread(const loop_thread&) = delete;
    loop_thread& operator=(const loop_thread&) = delete;
    ~loop_thread() {
        loop_.stop();
        thread_.join();
    }
    [[nodiscard]] std::thread::id id() const noexcept { return thread_.get_id(); }

private:
    event_loop& loop_;
    std::thread thread_;
};

} // namespace test_support
