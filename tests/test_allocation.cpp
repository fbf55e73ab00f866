// Exactly one heap allocation per channel, and none for sending, receiving, waiting or awaiting.
// This binary replaces the global operator new/delete to count allocations.
#include "catch.hpp"
#include "support/detached_task.hpp"

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
std::atomic<long> allocations{0};
std::atomic<std::size_t> last_size{0};
} // namespace

// GCC cannot see that these replace the global pair and warns that free() meets operator new.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t size) {
    ++allocations;
    last_size = size;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
    return ::operator new(size);
}
void* operator new(std::size_t size, std::align_val_t align) {
    ++allocations;
    last_size = size;
    const auto a = static_cast<std::size_t>(align);
    if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
    return ::operator new(size, align);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    ++allocations;
    last_size = size;
    return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
    return ::operator new(size, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}

namespace {
detached_task await_into(oneshot::receiver<int>& rx, int& out) {
    auto r = co_await rx;
    out = r.value_or(-1);
}
} // namespace

TEST_CASE("a channel costs exactly one allocation of the shared state", "[allocation]") {
    const long before = allocations;
    auto [tx, rx] = oneshot::channel<int>();
    REQUIRE(allocations - before == 1);
    REQUIRE(last_size == sizeof(oneshot::detail::block<int, oneshot::detail::std_sync>));
    REQUIRE(last_size <= 24);
    const long after_create = allocations;
    REQUIRE(std::move(tx).send(1).has_value());
    REQUIRE(*rx.try_recv() == 1);
    REQUIRE(allocations == after_create);
}

TEST_CASE("blocking, timed and cancellable receives allocate nothing", "[allocation]") {
    auto [tx, rx] = oneshot::channel<int>();
    const long before = allocations;
    REQUIRE(rx.recv_for(std::chrono::milliseconds(5)).error() == oneshot::recv_error::timeout);
    REQUIRE(allocations == before);
#if ONESHOT_HAS_STOP_TOKEN
    std::stop_source source; // allocates its shared state: done before counting below
    const long with_source = allocations;
    REQUIRE(rx.recv_for(std::chrono::milliseconds(5), source.get_token()).error() ==
            oneshot::recv_error::timeout);
    REQUIRE(allocations == with_source);
#endif
    const long before_send = allocations;
    REQUIRE(std::move(tx).send(2).has_value());
    REQUIRE(*rx.recv() == 2);
    REQUIRE(allocations == before_send);
}

TEST_CASE("awaiting a receiver allocates nothing beyond the coroutine frame", "[allocation]") {
    auto [tx, rx] = oneshot::channel<int>();
    int out = 0;
    await_into(rx, out); // allocates the frame, suspends
    const long after_frame = allocations;
    REQUIRE(std::move(tx).send(3).has_value()); // resumes inline
    REQUIRE(out == 3);
    REQUIRE(allocations == after_frame);
}
