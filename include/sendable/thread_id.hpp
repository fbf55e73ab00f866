/// @file thread_id.hpp
/// @brief Process-unique thread ids: never reused, never 0, and cheap to read on the hot path.
///
/// `std::this_thread::get_id()` may hand a dead thread's id to a new thread, which would let a value
/// pinned to the dead thread be used by the new one. sendable therefore numbers threads itself: the
/// first time a thread asks, it takes the next number from a global 64-bit counter (which cannot wrap
/// in the life of any process) and caches it in a constant-initialised `thread_local`.
#pragma once

#include <oneshot/detail/config.hpp>

#include <atomic>
#include <cstdint>

namespace sendable {

/// A thread id as sendable sees it: unique for the life of the process, never reused, never 0.
/// The value 0 means "no thread": values between `pre_send::ready()` and `post_send::unpark()` are
/// pinned to thread 0, so no thread can use them.
using thread_id = std::uint64_t;

namespace detail {

/// The next thread id to hand out. Only uniqueness matters, so relaxed increments suffice.
inline std::atomic<thread_id> next_thread_id{1};

/// The calling thread's *pin key*: its id shifted left by one (bit 0 is the "parked" bit of a pin
/// word, see control_block.hpp), or 0 until the thread first needs its id. Constant-initialised and
/// trivially destructible, so reading it is a single TLS load with no guard and no wrapper call. A pin
/// word is never 0, so comparing a pin word with a not-yet-assigned key always fails and sends the
/// caller to the slow path, which assigns the id: the hot check needs no separate "assigned?" test.
inline constinit thread_local std::uint64_t thread_key = 0;

/// Slow path of current_thread_key(): assigns the calling thread its id. Called once per thread.
inline std::uint64_t assign_thread_key() noexcept {
    const thread_id id = next_thread_id.fetch_add(1, std::memory_order_relaxed);
    thread_key = id << 1;
    return thread_key;
}

/// The calling thread's pin key (`current_thread_id() << 1`), assigning the id on first use.
[[nodiscard]] inline std::uint64_t current_thread_key() noexcept {
    const std::uint64_t key = thread_key;
    if (key == 0) [[unlikely]] {
        return assign_thread_key();
    }
    return key;
}

} // namespace detail

/// The calling thread's sendable id (never 0, never reused). The first call on a thread assigns it.
/// Thread safety: may be called from any thread; lock-free.
[[nodiscard]] inline thread_id current_thread_id() noexcept {
    return detail::current_thread_key() >> 1;
}

} // namespace sendable
