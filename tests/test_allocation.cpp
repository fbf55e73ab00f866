// Exactly one heap allocation per channel, and none for sending, receiving, waiting or awaiting.
// This binary replaces the global operator new/delete to count test_support::thread_allocations (support/counting_new.hpp).
#include "catch.hpp"
#include "support/counting_new.hpp"
#include "support/detached_task.hpp"
#include "support/stop.hpp"

#include <oneshot/channel.hpp>

#include <atomic>
#include <coroutine>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>
#include <thread>

namespace {
using test_support::detached_task;
} // namespace

namespace {
detached_task await_into(oneshot::receiver<int>& rx, int& out) {
    auto r = co_await rx;
    out = r.value_or(-1);
}
} // namespace

TEST_CASE("a channel costs exactly one allocation of the shared state", "[allocation]") {
    const std::size_t before = test_support::thread_allocations;
    auto [tx, rx] = oneshot::channel<int>();
    REQUIRE(test_support::thread_allocations - before == 1);
    REQUIRE(test_support::last_allocation_size ==
            sizeof(oneshot::detail::block<int, oneshot::default_platform>));
    REQUIRE(test_support::last_allocation_size <= 24);
    const std::size_t after_create = test_support::thread_allocations;
    REQUIRE(std::move(tx).send(1).has_value());
    REQUIRE(*rx.try_recv() == 1);
    REQUIRE(test_support::thread_allocations == after_create);
}

TEST_CASE("blocking, timed and cancellable receives allocate nothing", "[allocation]") {
    auto [tx, rx] = oneshot::channel<int>();
    const std::size_t before = test_support::thread_allocations;
    REQUIRE(rx.recv_for(std::chrono::milliseconds(5)).error() == oneshot::recv_error::timeout);
    REQUIRE(test_support::thread_allocations == before);
    test_support::stop_source source; // may allocate its shared state: done before counting
    const std::size_t with_source = test_support::thread_allocations;
    REQUIRE(rx.recv_for(std::chrono::milliseconds(5), source.get_token()).error() ==
            oneshot::recv_error::timeout);
    REQUIRE(test_support::thread_allocations == with_source);
    const std::size_t before_send = test_support::thread_allocations;
    REQUIRE(std::move(tx).send(2).has_value());
    REQUIRE(*rx.recv() == 2);
    REQUIRE(test_support::thread_allocations == before_send);
}

TEST_CASE("awaiting a receiver allocates nothing beyond the coroutine frame", "[allocation]") {
    auto [tx, rx] = oneshot::channel<int>();
    int out = 0;
    await_into(rx, out); // allocates the frame, suspends
    const std::size_t after_frame = test_support::thread_allocations;
    REQUIRE(std::move(tx).send(3).has_value()); // resumes inline
    REQUIRE(out == 3);
    REQUIRE(test_support::thread_allocations == after_frame);
}
