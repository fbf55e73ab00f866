/// @file control_block.hpp
/// @brief The type-erased header of every send_rc allocation, and the pin checks shared by send_rc,
/// pre_send and post_send. Internal: nothing here is public API.
///
/// Layout (24 bytes on every 64-bit and 32-bit target, alignment 8):
/// - `pin` (atomic, 8 bytes): `(thread_id << 15) | park state`. A value pinned to a thread, and so
///   usable there, has park state 0: its pin word is that thread's pin key. Park state: bit 0 is set
///   while the value is parked or in transit; while it is parked, bits 1-2 hold the park mark of the
///   migration and bits 3-14 the tag of the pre_send that parked it. Thread 0 with bit 0 (pin 1)
///   means "in transit": `ready()` was called and `unpark()` was not. A pin word is never 0.
/// - `strong` (4 bytes): the plain, non-atomic reference count.
/// - `marked` (12 bytes): how many live rcs carry each of the park marks 1, 2 and 3
///   (`marked[m - 1]`); the other `strong - (sum)` rcs carry mark 0.
///
/// Park marks. Every rc carries a two-bit mark in the low bits of its word. Mark 0 is "home": new
/// rcs and copies carry it. A pre_send parking a value picks a mark M in 1..3 that no live rc
/// carries (`marked[M - 1] == 0`), stores it in the pin word and re-marks each rc it parks with M, so
/// "is this rc parked?" is a two-bit compare, `marked[M - 1]` counts the rcs parked so far and "is
/// every rc parked?" is `marked[M - 1] == strong`. The counts are exact at all times: a copy adds a
/// mark-0 rc (nothing to count), destroying an rc of mark m > 0 decrements `marked[m - 1]`, and
/// parking moves an rc from its old mark's count to M's. So whether a migration succeeds, is refused
/// or is abandoned, nothing has to be cleaned up: a mark is free again as soon as its last rc is
/// re-parked or destroyed. Only three live rcs that each keep a different non-home mark (left by
/// three abandoned migrations that each parked some of the rcs) exhaust the marks.
///
/// Only `pin` is ever read by a thread that does not own the value, and it is read before anything
/// else, so a violating thread never races with the owner on the other fields. Relaxed order is
/// enough for `pin`: handing a graph to another thread is itself synchronised by whatever carries the
/// post_send token (a channel, a mutex, a thread start), and that synchronisation orders every write
/// of the old thread before every read of the new one.
#pragma once

#include <array>
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
/// Position of the park mark in the pin word of a parked value.
inline constexpr unsigned pin_mark_shift = 1;
/// Position of the pre_send's tag in the pin word of a parked value.
inline constexpr unsigned pin_tag_shift = 3;
/// Number of distinct pre_send tags: a thread can have at most `pin_tag_count - 1` pre_sends that
/// hold parked values at the same time (tag 0 means "none").
inline constexpr std::uint32_t pin_tag_count = std::uint32_t{1}
                                               << (thread_key_shift - pin_tag_shift);
/// The park mark bits of a pin word.
inline constexpr std::uint64_t pin_mark_mask = std::uint64_t{3} << pin_mark_shift;
/// The park state bits of a pin word (all 0 in a pin key).
inline constexpr std::uint64_t pin_state_mask = (std::uint64_t{1} << thread_key_shift) - 1;

/// Low bits of a send_rc's word that hold the rc's park mark (control blocks are 8-aligned).
inline constexpr std::uintptr_t mark_mask = 3;
/// Number of distinct park marks.
inline constexpr unsigned mark_count = 4;

/// Number of park marks other than the home mark 0.
inline constexpr unsigned away_mark_count = mark_count - 1;

/// The header of every send_rc allocation; the value follows it (see rc_block in send_rc.hpp).
struct control_block {
    explicit control_block(std::uint64_t owner_key) noexcept : pin(owner_key) {}
    control_block(const control_block&) = delete;
    control_block& operator=(const control_block&) = delete;

    std::atomic<std::uint64_t> pin;
    std::uint32_t strong = 1;
    /// How many live rcs carry each of the marks 1..3. A new value's single rc carries mark 0.
    std::array<std::uint32_t, away_mark_count> marked{};
};

static_assert(alignof(control_block) >= 4, "two low bits of a control block address carry a mark");

/// Thread id encoded in a pin word.
[[nodiscard]] constexpr thread_id pin_thread(std::uint64_t pin) noexcept {
    return pin >> thread_key_shift;
}

/// The pin word of a value parked with mark `mark` by the pre_send with tag `tag` on the thread
/// whose pin key is `owner_key`.
[[nodiscard]] constexpr std::uint64_t parked_pin(std::uint64_t owner_key, std::uint32_t tag,
                                                 unsigned mark) noexcept {
    return owner_key | (std::uint64_t{tag} << pin_tag_shift) |
           (std::uint64_t{mark} << pin_mark_shift) | pin_parked_bit;
}

/// The park mark in the pin word of a parked value.
[[nodiscard]] constexpr unsigned pin_mark(std::uint64_t pin) noexcept {
    return static_cast<unsigned>((pin & pin_mark_mask) >> pin_mark_shift);
}

/// True if `pin` is the pin word of a value parked (by any pre_send) on the thread with pin key `me`.
[[nodiscard]] constexpr bool parked_by_thread(std::uint64_t pin, std::uint64_t me) noexcept {
    return (pin & ~pin_state_mask) == me && (pin & pin_parked_bit) != 0;
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
    } else if (parked_by_thread(pin, me)) {
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
    // Relaxed: a word equal to `me` was stored by this thread (or ordered before it by the hand-off
    // that brought the value here); any other word only leads to a report, never to an access.
    const std::uint64_t word = pin.load(std::memory_order_relaxed);
    if (word != me) {
        report(pin_violation(word, me, operation));
    }
}

/// The hot pin check: one relaxed load, one TLS load, one compare.
inline void check_pin(const std::atomic<std::uint64_t>& pin, const char* operation) {
    // Relaxed: as in check_pin_slow, only a word this thread may rely on lets the access proceed.
    if (pin.load(std::memory_order_relaxed) != thread_key) [[unlikely]] {
        check_pin_slow(pin, operation);
    }
}

/// Pin check inside a destructor. Returns false when a violation was reported and the handler
/// returned: the caller must then leak and not touch the value.
[[nodiscard]] inline bool check_pin_in_destructor(const std::atomic<std::uint64_t>& pin,
                                                  const char* operation) noexcept {
    // Relaxed, both loads: as in check_pin_slow.
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
    if (block.strong == (std::numeric_limits<std::uint32_t>::max)()) [[unlikely]] {
        std::fputs("sendable: send_rc reference count overflow\n", stderr);
        std::abort();
    }
    ++block.strong;
}

/// Accounts for the end of an rc that carried `mark`, when other rcs of the (unparked) value remain.
inline void forget_mark(control_block& block, std::uintptr_t mark) noexcept {
    if (mark != 0) {
        --block.marked[mark - 1];
    }
}

} // namespace sendable::detail
