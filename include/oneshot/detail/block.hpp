/// @file block.hpp
/// @brief The channel's single allocation and the state protocol that governs it.
///
/// The protocol is the one in shared/PROTOCOL.md, checked exhaustively there and by this project's
/// own checker (tests/checker) on this very code. One 32-bit state word holds six bits:
///
/// | bit      | meaning                                         | set by               | cleared by |
/// |----------|-------------------------------------------------|----------------------|------------|
/// | sender   | the sender still references the block           | creation             | the sender when finished |
/// | receiver | the receiver still references the block         | creation             | the receiver (after taking the message, or on drop) |
/// | done     | the sender finished: sent, or dropped unsent    | sender               | never |
/// | message  | a message is in the slot, not yet taken         | sender (with done)   | the receiver, in the RMW that drops `receiver` |
/// | waiting  | the receiver registered a waiter                | receiver (CAS)       | receiver/canceller by CAS; owned by the sender once `done` is set |
/// | cancel   | a stop was requested and not yet handled        | stop callback        | receiver |
///
/// Last one out: whoever's read-modify-write leaves neither `sender` nor `receiver` set destroys a
/// message still marked `message` and frees the block. Nobody touches the block after an RMW of
/// theirs that let the other side free it. No step spins waiting for the other side.
#pragma once

#include <oneshot/detail/config.hpp>
#include <oneshot/detail/sync.hpp>

#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace oneshot::detail {

namespace bits {
inline constexpr std::uint32_t sender = 1U << 0;
inline constexpr std::uint32_t receiver = 1U << 1;
inline constexpr std::uint32_t done = 1U << 2;
inline constexpr std::uint32_t message = 1U << 3;
inline constexpr std::uint32_t waiting = 1U << 4;
inline constexpr std::uint32_t cancel = 1U << 5;
} // namespace bits

/// A registered coroutine waiter. It lives inside the awaiter (so inside the suspended coroutine's
/// frame, stable while suspended); the block's waiter slot points at it while `waiting` is set.
/// A null waiter slot means a blocked thread, woken through the state word.
struct waiter {
    /// Resumes the coroutine (inline or through its scheduler). Called exactly once, by whoever
    /// took the `waiting` bit away: the sender (message or disconnection) or the stop callback.
    void (*wake)(waiter* self) noexcept = nullptr;
};

/// Uninitialised storage for one message.
template <class T>
class message_slot {
public:
    template <class... Args>
    void construct(Args&&... args) {
        ::new (static_cast<void*>(storage_)) T(std::forward<Args>(args)...);
    }
    [[nodiscard]] T& get() noexcept { return *std::launder(reinterpret_cast<T*>(storage_)); }
    void destroy() noexcept { std::destroy_at(&get()); }

private:
    alignas(T) unsigned char storage_[sizeof(T)];
};

/// `channel<void>` carries no data.
template <>
class message_slot<void> {
public:
    void construct() noexcept {}
    void destroy() noexcept {}
};

/// The shared state: one heap allocation per channel.
template <class T, class Sync>
struct block {
    /// Valid while the `waiting` bit is set: the coroutine waiter, or null for a blocked thread.
    /// Written by the receiver before the CAS that sets `waiting` (which publishes it); read by
    /// whoever clears `waiting` afterwards.
    waiter* waiter_slot = nullptr;
    typename Sync::state_word state{bits::sender | bits::receiver};
    message_slot<T> slot;
    ONESHOT_NO_UNIQUE_ADDRESS typename Sync::slot_tracker tracker;
};

/// Frees the block. A message still marked in `final_state` is destroyed first.
template <class T, class Sync>
void free_block(block<T, Sync>* b, std::uint32_t final_state) noexcept {
    if (final_state & bits::message) {
        b->tracker.write();
        b->slot.destroy();
    }
    Sync::dispose(b);
}

enum class send_outcome { delivered, receiver_gone };

/// The sender's last step: publish `done` (with `message` when a message was written) and drop
/// the sender's reference. On `receiver_gone` the block belongs to the caller alone, with the
/// message (if any) still in the slot: the caller takes it back and frees the block.
template <class T, class Sync>
[[nodiscard]] send_outcome sender_finish(block<T, Sync>* b, bool with_message) noexcept {
    const std::uint32_t published = bits::done | (with_message ? bits::message : 0U);
    std::uint32_t expected = bits::sender | bits::receiver;
    // Fast path: the receiver is alive and not waiting. One RMW publishes and leaves; the slot
    // write above it is ordered before by seq_cst, and the receiver frees the block later.
    if (Sync::compare_exchange(b->state, expected, bits::receiver | published))
        return send_outcome::delivered;

    // Receiver gone, waiting, or a stale bit: publish but keep `sender`, so the block stays alive
    // while we wake the waiter.
    const std::uint32_t before = Sync::fetch_or(b->state, published);
    if (!(before & bits::receiver)) return send_outcome::receiver_gone; // nobody else references it

    if (before & bits::waiting) {
        // `done` is now set, so the waiting bit (and the waiter slot) is ours: the receiver cannot
        // withdraw it any more (its CAS expects `done` clear) and nobody else writes the slot.
        b->tracker.read();
        waiter* w = b->waiter_slot;
        if (w != nullptr)
            w->wake(
                w); // resumes the coroutine; it may drop the receiver, but not free (we hold `sender`)
        else
            Sync::wake_all(b->state); // a thread blocked on the state word; the block is alive
    }
    // Leave. If the receiver already left (it took the message or dropped), we are last.
    const std::uint32_t after = Sync::fetch_and(b->state, ~bits::sender);
    if (!(after & bits::receiver)) free_block(b, after & ~bits::sender);
    return send_outcome::delivered;
}

/// The receiver's drop: withdraw any registration and leave; free if the sender already left.
template <class T, class Sync>
void receiver_leave(block<T, Sync>* b) noexcept {
    // One RMW: clears our reference, any waiting registration and a pending cancel. If `sender`
    // was already clear, nobody else references the block.
    const std::uint32_t before =
        Sync::fetch_and(b->state, ~(bits::receiver | bits::waiting | bits::cancel));
    if (!(before & bits::sender)) free_block(b, before);
}

/// The receiver's exit after it moved the message out of the slot (precondition: `message` set).
template <class T, class Sync>
void receiver_leave_after_take(block<T, Sync>* b) noexcept {
    // Clears `message` together with our reference, so whoever frees never destroys it again.
    const std::uint32_t before =
        Sync::fetch_and(b->state, ~(bits::receiver | bits::message | bits::waiting | bits::cancel));
    if (!(before & bits::sender)) free_block(b, before & ~bits::message);
}

enum class wait_outcome { done, cancelled, timed_out };

/// Blocks the calling thread until the sender finishes (`done`), a stop request arrives
/// (`cancel`), or `deadline` passes. On `done` and `cancelled`, a `waiting` registration may still
/// be in the state (the caller's next step clears it); on `timed_out` it has been withdrawn.
/// Never spins unboundedly: at most `Sync::spin_limit` reads before sleeping in `Sync::wait`.
template <class T, class Sync>
[[nodiscard]] wait_outcome wait_for_sender(block<T, Sync>* b,
                                           const typename Sync::deadline& deadline) noexcept {
    std::uint32_t s = Sync::load(b->state);
    // Bounded spin: first CPU pauses, then yields to let a sender sharing our core run.
    for (int i = 0; i < Sync::spin_limit && !(s & (bits::done | bits::cancel)); ++i) {
        Sync::relax();
        s = Sync::load(b->state);
    }
    for (int i = 0; i < Sync::yield_limit && !(s & (bits::done | bits::cancel)); ++i) {
        Sync::yield();
        s = Sync::load(b->state);
    }
    for (;;) {
        if (s & bits::done) return wait_outcome::done;
        if (s & bits::cancel) return wait_outcome::cancelled;
        if (!(s & bits::waiting)) {
            b->tracker.write();
            b->waiter_slot = nullptr; // a thread: the sender wakes the state word
            // Register; on failure `s` holds the new state and we look again.
            if (!Sync::compare_exchange(b->state, s, s | bits::waiting)) continue;
            s |= bits::waiting;
        }
        if (Sync::expired(deadline)) {
            // Withdraw, unless the sender (or a stop request) changed the state first: then `s`
            // is reloaded and the loop reports that instead (a completed send wins over a timeout).
            if (Sync::compare_exchange(b->state, s, s & ~bits::waiting))
                return wait_outcome::timed_out;
            continue;
        }
        Sync::wait(b->state, s, deadline); // returns on change, wake, timeout or spuriously
        s = Sync::load(b->state);
    }
}

} // namespace oneshot::detail
