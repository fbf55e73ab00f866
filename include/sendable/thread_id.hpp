/// @file thread_id.hpp
/// @brief Process-unique thread ids: never reused, never 0, and cheap to read on the hot path.
///
/// `std::this_thread::get_id()` may hand a dead thread's id to a new thread, which would let a value
/// pinned to the dead thread be used by the new one. sendable therefore numbers threads itself: the
/// first time a thread asks, it takes the next number from a global counter and caches it in a
/// constant-initialised `thread_local`. Ids stay below 2^49 (about 5.6 * 10^14: no process creates
/// that many threads; one that did would abort rather than reuse an id), which leaves the low 15 bits
/// of a 64-bit pin word for the park state (see control_block.hpp).
#pragma once

#include <oneshot/detail/config.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace sendable {

/// A thread id as sendable sees it: unique for the life of the process, never reused, never 0.
/// The value 0 means "no thread": values between `pre_send::ready()` and `post_send::unpark()` are
/// pinned to thread 0, so no thread can use them.
using thread_id = std::uint64_t;

namespace detail {

/// A pin word holds the thread id above this many bits of park state (see control_block.hpp).
inline constexpr unsigned thread_key_shift = 15;
/// Every thread id is below this bound, so that it fits above the park state of a pin word.
inline constexpr thread_id thread_id_limit = thread_id{1} << (64 - thread_key_shift);

/// The next thread id to hand out.
inline std::atomic<thread_id> next_thread_id{1};

/// The calling thread's *pin key*: its id shifted left by `thread_key_shift` (the low bits of a pin
/// word hold the park state, see control_block.hpp), or 0 until the thread first needs its id.
/// Constant-initialised and trivially destructible, so reading it is a single TLS load with no guard
/// and no wrapper call. A pin word is never 0, so comparing a pin word with a not-yet-assigned key
/// always fails and sends the caller to the slow path, which assigns the id: the hot check needs no
/// separate "assigned?" test.
inline constinit thread_local std::uint64_t thread_key = 0;

/// Slow path of current_thread_key(): assigns the calling thread its id. Called once per thread.
inline std::uint64_t assign_thread_key() noexcept {
    // Relaxed: only uniqueness matters, and every fetch_add returns a distinct value; the id
    // publishes nothing.
    const thread_id id = next_thread_id.fetch_add(1, std::memory_order_relaxed);
    if (id >= thread_id_limit) [[unlikely]] {
        std::fputs("sendable: thread ids exhausted\n", stderr);
        std::abort();
    }
    thread_key = id << thread_key_shift;
    return thread_key;
}

/// The calling thread's pin key (`current_thread_id() << thread_key_shift`), assigning the id on
/// first use.
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
    return detail::current_thread_key() >> detail::thread_key_shift;
}

} // namespace sendable
