// Awaiting a receiver allocates nothing: not the awaiter, not the stop-token
// registration, not the scheduler hook (stored in the awaiter, i.e. in the frame). This binary
// replaces the global operator new to count allocations made by the calling thread; everything
// measured here happens on the test thread.
#include "catch.hpp"

#include "support/coro_common.hpp"
#include "support/counting_new.hpp"
#include "support/tasks.hpp"

#include <oneshot/channel.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

#include "support/stop.hpp"

namespace {
long allocations_now() {
    return static_cast<long>(test_support::thread_allocations);
}
} // namespace

namespace {

using test_support::eager_task;

/// What the awaiting coroutine measured: allocations by this thread when its body started (after
/// the frame existed) and right after the co_await returned.
struct window {
    long at_start = -1;
    long after_resume = -1;
    bool got_value = false;
    bool cancelled = false;
};

template <class Awaitable>
eager_task measure(Awaitable aw, window* w) {
    w->at_start = allocations_now();
    auto r = co_await std::move(aw);
    w->after_resume = allocations_now();
    w->got_value = r.has_value();
    w->cancelled = !r.has_value() && r.error() == oneshot::recv_error::cancelled;
}

/// A scheduler invocable with a coroutine handle that only stores it.
struct handle_slot {
    std::coroutine_handle<>* slot;
    void operator()(std::coroutine_handle<> h) const noexcept { *slot = h; }
};

/// A `post(f)` executor with room for exactly one callable, in place.
class one_slot_executor {
public:
    template <class F>
    void post(F f) noexcept {
        static_assert(sizeof(F) <= sizeof(buffer_) && alignof(F) <= alignof(std::max_align_t));
        static_assert(std::is_nothrow_move_constructible_v<F>);
        ::new (static_cast<void*>(buffer_)) F(std::move(f));
        run_ = [](void* p) {
            F& g = *static_cast<F*>(p);
            g();
            g.~F();
        };
    }
    [[nodiscard]] bool has_pending() const noexcept { return run_ != nullptr; }
    void run_pending() { std::exchange(run_, nullptr)(buffer_); }

private:
    alignas(std::max_align_t) unsigned char buffer_[64];
    void (*run_)(void*) = nullptr;
};

} // namespace

TEST_CASE("awaiting allocates nothing: inline resumption", "[coroutine][allocation]") {
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    test_support::open(tx, rx);
    window w;
    eager_task t = measure(rx.recv_async(), &w); // the frame is allocated here; then it suspends
    const long suspended = allocations_now();
    const bool sent = std::move(tx).send(1).has_value(); // resumes inline, here
    const long after_send = allocations_now();
    REQUIRE(t.done());
    CHECK(sent);
    CHECK(w.got_value);
    CHECK(suspended == w.at_start); // await_ready + await_suspend: nothing
    CHECK(after_send == suspended); // send + resumption + await_resume: nothing
    CHECK(w.after_resume == w.at_start);
}

TEST_CASE("awaiting allocates nothing: scheduler hook invocable with a handle",
          "[coroutine][allocation]") {
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    test_support::open(tx, rx);
    std::coroutine_handle<> pending;
    window w;
    eager_task t = measure(std::move(rx).recv_async().resume_on(handle_slot{&pending}), &w);
    const long suspended = allocations_now();
    const bool sent = std::move(tx).send(2).has_value(); // hands the handle to the scheduler
    const bool was_scheduled = static_cast<bool>(pending);
    if (was_scheduled) pending.resume();
    const long after = allocations_now();
    REQUIRE(was_scheduled);
    REQUIRE(t.done());
    CHECK(sent);
    CHECK(w.got_value);
    CHECK(suspended == w.at_start);
    CHECK(after == suspended);
}

TEST_CASE("awaiting allocates nothing: pointer to a post(f) executor", "[coroutine][allocation]") {
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    test_support::open(tx, rx);
    one_slot_executor ex;
    window w;
    eager_task t = measure(rx.recv_async().resume_on(&ex), &w);
    const long suspended = allocations_now();
    const bool sent = std::move(tx).send(3).has_value();
    const bool was_scheduled = ex.has_pending();
    if (was_scheduled) ex.run_pending();
    const long after = allocations_now();
    REQUIRE(was_scheduled);
    REQUIRE(t.done());
    CHECK(sent);
    CHECK(w.got_value);
    CHECK(suspended == w.at_start);
    CHECK(after == suspended);
}

TEST_CASE("awaiting allocates nothing: stop-token registration and cancellation",
          "[coroutine][allocation][cancel]") {
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    test_support::open(tx, rx);
    test_support::stop_source src; // allocates its shared state, before anything is measured
    one_slot_executor ex;
    window w;
    eager_task t = measure(rx.recv_async(src.get_token()).resume_on(&ex), &w);
    const long suspended = allocations_now();
    src.request_stop(); // the callback hands the coroutine to the executor
    const bool was_scheduled = ex.has_pending();
    if (was_scheduled) ex.run_pending();
    const long after = allocations_now();
    REQUIRE(was_scheduled);
    REQUIRE(t.done());
    CHECK(w.cancelled);
    CHECK(suspended == w.at_start);
    CHECK(after == suspended);
    // The message sent after the cancellation is still there, and taking it allocates nothing.
    const long before_send = allocations_now();
    const bool sent = std::move(tx).send(4).has_value();
    auto r = rx.try_recv();
    const long after_recv = allocations_now();
    CHECK(sent);
    REQUIRE(r.has_value());
    CHECK(r.value() == 4);
    CHECK(after_recv == before_send);
}
