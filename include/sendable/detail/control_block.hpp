/// @file control_block.hpp
/// @brief The type-erased header of every send_rc allocation, and the pin checks shared by send_rc,
/// pre_send and post_send. Internal: nothing here is public API.
///
/// Layout (24 bytes on every 64-bit and 32-bit target, alignment 8):
/// - `pin` (atomic, 8 bytes): `(thread_id << 1) | parked`. Thread 0 with the parked bit (pin 1) means
///   "in transit": `ready()` was called and `unpark()` was not. A pin word is never 0.
/// - `park` (8 bytes): `(session << 6) | (marks_in_use << 2) | mark`, where `session` is the id of the
///   pre_send that parked the value (0: none), `mark` (2 bits) is the mark that pre_send gives the rcs
///   it parks, and `marks_in_use` (4 bits) is a superset of the marks carried by live rcs.
/// - `strong` (4 bytes): the plain, non-atomic reference count.
/// - `parked` (4 bytes): how many distinct rcs of this value the current pre_send has parked.
///
/// Only `pin` is ever read by a thread that does not own the value, and it is read before anything
/// else, so a violating thread never races with the owner on the other fields. Relaxed order is
/// enough for `pin`: handing a graph to another thread is itself synchronised by whatever carries the
/// post_send token (a channel, a mutex, a thread start), and that synchronisation orders every write
/// of the old thread before every read of the new one.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>

#include <sendable/thread_id.hpp>
#include <sendable/violation.hpp>

namespace sendable::detail {

/// Pin word bit 0: the value is parked by a pre_send (or in transit when the thread part is 0).
inline constexpr std::uint64_t pin_parked_bit = 1;
/// The pin word of a value in transit: thread 0, parked.
inline constexpr std::uint64_t pin_in_transit = pin_parked_bit;

/// Low bits of a send_rc's word that hold the rc's park mark (control blocks are 8-aligned).
inline constexpr std::uintptr_t mark_mask = 3;
/// Number of distinct park marks.
inline constexpr unsigned mark_count = 4;

/// The header of every send_rc allocation; the value follows it (see rc_block in send_rc.hpp).
struct control_block {
    explicit control_block(std::uint64_t owner_key) noexcept : pin(owner_key) {}
    control_block(const control_block&) = delete;
    control_block& operator=(const control_block&) = delete;

    std::atomic<std::uint64_t> pin;
    /// New values: no session, mark 0 in use (the first rc carries mark 0), current mark 0.
    std::uint64_t park = std::uint64_t{1} << 2;
    std::uint32_t strong = 1;
    std::uint32_t parked = 0;

    [[nodiscard]] std::uint64_t session() const noexcept { return park >> 6; }
    [[nodiscard]] unsigned marks_in_use() const noexcept {
        return static_cast<unsigned>((park >> 2) & 0xFU);
    }
    [[nodiscard]] unsigned mark() const noexcept { return static_cast<unsigned>(park & 3U); }
    void set_park(std::uint64_t session_id, unsigned in_use, unsigned current_mark) noexcept {
        park = (session_id << 6) | (std::uint64_t{in_use & 0xFU} << 2) | (current_mark & 3U);
    }
};

static_assert(alignof(control_block) >= 4, "two low bits of a control block address carry a mark");

/// Thread id encoded in a pin word.
[[nodiscard]] constexpr thread_id pin_thread(std::uint64_t pin) noexcept {
    return pin >> 1;
}

/// Builds the violation for a failed pin check of `pin` by the thread with key `me`.
[[nodiscard]] inline violation pin_violation(std::uint64_t pin, std::uint64_t me,
                                             const char* operation) noexcept {
    violation v;
    v.operation = operation;
    v.pinned_thread = pin_thread(pin);
    v.current_thread = pin_thread(me);
    if (pin == pin_in_transit) {
        v.kind = violation_kind::in_transit;
    } else if (pin == (me | pin_parked_bit)) {
        v.kind = violation_kind::parked;
    } else {
        v.kind = violation_kind::wrong_thread;
    }
    return v;
}

/// Slow path of a pin check that failed against the cached key. Returns if the value is in fact
/// usable (the thread's id had not been assigned yet); otherwise reports and does not return.
inline void check_pin_slow(const std::atomic<std::uint64_t>& pin, const char* operation) {
    const std::uint64_t me = current_thread_key();
    const std::uint64_t word = pin.load(std::memory_order_relaxed);
    if (word != me) {
        report(pin_violation(word, me, operation));
    }
}

/// The hot pin check: one relaxed load, one TLS load, one compare.
inline void check_pin(const std::atomic<std::uint64_t>& pin, const char* operation) {
    if (pin.load(std::memory_order_relaxed) != thread_key) [[unlikely]] {
        check_pin_slow(pin, operation);
    }
}

/// Pin check inside a destructor. Returns false when a violation was reported and the handler
/// returned: the caller must then leak and not touch the value.
[[nodiscard]] inline bool check_pin_in_destructor(const std::atomic<std::uint64_t>& pin,
                                                  const char* operation) noexcept {
    if (pin.load(std::memory_order_relaxed) == thread_key) [[likely]] {
        return true;
    }
    const std::uint64_t me = current_thread_key();
    const std::uint64_t word = pin.load(std::memory_order_relaxed);
    if (word == me) {
        return true;
    }
    report_in_destructor(pin_violation(word, me, operation));
    return false;
}

/// Reports a violation of kind `kind` for `operation` with explicit thread ids.
[[noreturn]] inline void report_kind(violation_kind kind, const char* operation, thread_id pinned,
                                     std::size_t count = 0) {
    violation v;
    v.kind = kind;
    v.operation = operation;
    v.pinned_thread = pinned;
    v.current_thread = current_thread_id();
    v.count = count;
    report(v);
}

/// Increments a reference count; aborts (never wraps) if it would overflow.
inline void increment_strong(control_block& block) noexcept {
    if (block.strong == std::numeric_limits<std::uint32_t>::max()) [[unlikely]] {
        std::fputs("sendable: send_rc reference count overflow\n", stderr);
        std::abort();
    }
    ++block.strong;
}

} // namespace sendable::detail
