/// @file protocol.hpp
/// @brief The one-shot channel's shared block and its state protocol: the only code that changes
/// the state word. Endpoints and awaiters only load it and call the named transitions below.
///
/// ## The block
/// One allocation per channel: a 32-bit state word (futex-sized), the waiter slot (a pointer to the
/// receiver's registered `waiter`) and uninitialised storage for the message. `channel<int>` takes
/// 16 bytes.
///
/// ## The state word
/// | bit      | meaning                                         | set by                 | cleared by |
/// |----------|-------------------------------------------------|------------------------|------------|
/// | sender   | the sender still references the block           | creation               | the sender, when finished |
/// | receiver | the receiver still references the block         | creation               | the receiver (after taking the message, or on drop) |
/// | done     | the sender finished: sent, or dropped unsent    | the sender             | never |
/// | message  | a message is in the slot, not yet taken         | the sender (with done) | the receiver, in the step that drops `receiver` |
/// | waiting  | a waiter is registered in the waiter slot       | the receiver           | whoever takes the waiter back before `done`; once `done` is set the waiter belongs to the sender |
/// | cancel   | a stop request came before the waiter was registered | a stop callback   | the receiver |
///
/// ## Rules
/// - **Last one out.** Whoever's step leaves neither `sender` nor `receiver` set destroys a message
///   still marked `message` and frees the block. Nobody touches the block after a step of theirs
///   that let the other side free it. A side that *sees* the other's bit already clear is alone
///   with the block for good and may take and free without a read-modify-write.
/// - **One owner per waiter.** A registered waiter is taken out exactly once: by the sender (its
///   `done` step finds `waiting`), or, before `done`, by a step that clears `waiting` (a timeout, a
///   stop request, a destroyed awaiter). Its owner completes it, unless the owner is the waiter.
/// - **No step waits for the other side**, and every operation is `seq_cst`, so a send
///   happens-before the receive that returns its message.
///
/// ## Transitions
/// | transition | who | step |
/// |---|---|---|
/// | `publish_and_leave` | sender: send, emplace, drop | CAS `sender|receiver -> receiver|done[|message]`; else `fetch_or(done[|message])`, complete a registered waiter, `fetch_and(~sender)` |
/// | `prepare_waiter`, `register_waiter` | receiver before it sleeps or suspends | write the slot (plain), then CAS `s -> s|waiting`; or consume a posted `cancel` |
/// | `withdraw_unless_done` | timeout, stop handled by the waiter, destroyed awaiter | CAS `s -> s & ~(waiting|cancel)` while `done` is clear |
/// | `post_cancel` | stop callback | take a registered waiter (CAS clearing `waiting`), or CAS `s -> s|cancel` before registration; nothing once `done` |
/// | `leave_after_take` | receiver, after moving the message out | none if `sender` is already clear; else `fetch_and(~(receiver|message|waiting|cancel))` |
/// | `leave` | receiver drop | `fetch_and(~(receiver|waiting|cancel))` |
///
/// The project's interleaving checker runs these functions, unchanged, through a model platform
/// and explores every interleaving of the scenarios that use them.
#pragma once

#include <oneshot/detail/config.hpp>
#include <oneshot/detail/message_slot.hpp>
#include <oneshot/detail/waiter.hpp>

#include <cstdint>

namespace oneshot::detail {

namespace bits {
inline constexpr std::uint32_t sender = 1U << 0;
inline constexpr std::uint32_t receiver = 1U << 1;
inline constexpr std::uint32_t done = 1U << 2;
inline constexpr std::uint32_t message = 1U << 3;
inline constexpr std::uint32_t waiting = 1U << 4;
inline constexpr std::uint32_t cancel = 1U << 5;
} // namespace bits

/// The shared state: one allocation per channel.
template <class T, class Platform>
struct block {
    /// Valid while `waiting` is set (left uninitialised until then: creating a channel writes only
    /// the state word). Written by the receiver before the step that sets `waiting` (which
    /// publishes it); read by whoever takes the waiter out.
    waiter* waiter_slot;
    typename Platform::state_word state{bits::sender | bits::receiver};
    message_slot<T> slot;
    ONESHOT_NO_UNIQUE_ADDRESS typename Platform::slot_tracker tracker;
};

/// Frees the block. A message still marked in `final_state` is destroyed first.
template <class T, class Platform>
void free_block(block<T, Platform>* b, std::uint32_t final_state) noexcept {
    if (final_state & bits::message) {
        b->tracker.write();
        b->slot.destroy();
    }
    Platform::dispose(b);
}

enum class send_outcome { delivered, receiver_gone };

/// The sender's only transition: publish `done` (with `message` when a message was written) and
/// drop the sender's reference, completing a registered waiter on the way. On `receiver_gone` the
/// block belongs to the caller alone, with the message (if any) still in the slot: the caller takes
/// it back and frees the block.
template <class T, class Platform>
[[nodiscard]] send_outcome publish_and_leave_slow(block<T, Platform>* b,
                                                  std::uint32_t published) noexcept;

template <class T, class Platform>
[[nodiscard]] inline send_outcome publish_and_leave(block<T, Platform>* b,
                                                    bool with_message) noexcept {
    const std::uint32_t published = bits::done | (with_message ? bits::message : 0U);
    std::uint32_t expected = bits::sender | bits::receiver;
    // Fast path, the receiver alive and not waiting: one RMW publishes and leaves. The slot write
    // before it is ordered by seq_cst; the receiver frees the block later.
    if (Platform::compare_exchange(b->state, expected, bits::receiver | published))
        return send_outcome::delivered;
    return publish_and_leave_slow(b, published);
}

/// The rest of `publish_and_leave`, out of line: the receiver is gone, waiting, or left a stale
/// `cancel`.
template <class T, class Platform>
[[nodiscard]] send_outcome publish_and_leave_slow(block<T, Platform>* b,
                                                  std::uint32_t published) noexcept {
    // Publish but keep `sender`, so the block stays alive while we complete the waiter.
    const std::uint32_t before = Platform::fetch_or(b->state, published);
    if (!(before & bits::receiver)) return send_outcome::receiver_gone; // nobody else references it

    if (before & bits::waiting) {
        // `done` is set now, so the waiter is ours: nobody can withdraw it any more (every other
        // taker's CAS requires `done` clear) and nobody else writes the slot.
        b->tracker.read();
        b->waiter_slot->complete(); // may resume a coroutine that drops the receiver: not a free,
                                    // since we still hold `sender`
    }
    // Leave. If the receiver already left (it took the message or dropped), we are last.
    const std::uint32_t after = Platform::fetch_and(b->state, ~bits::sender);
    if (!(after & bits::receiver)) free_block(b, after & ~bits::sender);
    return send_outcome::delivered;
}

enum class register_outcome { registered, done, cancelled };

/// Writes the receiver's waiter into the slot, ahead of `register_waiter` (which publishes it).
/// A plain write: nobody reads the slot while `waiting` is clear. Precondition: no waiter
/// registered.
template <class T, class Platform>
void prepare_waiter(block<T, Platform>* b, waiter* w) noexcept {
    b->tracker.write();
    b->waiter_slot = w;
}

/// Registers the waiter `prepare_waiter` wrote; `s` is the state last seen and is updated. Returns
/// `done` when the sender finished first (nothing registered), `cancelled` when a stop callback
/// posted `cancel` before registration (consumed: nothing registered). On `registered`, the waiter
/// may be completed on another thread at any moment.
template <class T, class Platform>
[[nodiscard]] register_outcome register_waiter(block<T, Platform>* b, std::uint32_t& s) noexcept {
    for (;;) {
        if (s & bits::done) return register_outcome::done;
        if (s & bits::cancel) {
            // Our stop callback ran before we registered: consume its bit (retry if the state moved).
            if (Platform::compare_exchange(b->state, s, s & ~bits::cancel)) {
                s &= ~bits::cancel;
                return register_outcome::cancelled;
            }
            continue;
        }
        if (Platform::compare_exchange(b->state, s, s | bits::waiting)) {
            s |= bits::waiting;
            return register_outcome::registered;
        }
    }
}

/// Takes the receiver's waiter back (a timeout, a handled stop, a destroyed awaiter) and clears a
/// posted `cancel`, unless the sender finished first. Returns true when done is still clear: then
/// `s` is the state just before the step (`s & waiting` tells whether a waiter was still
/// registered, or a stop callback had taken it). Returns false when `done` is set (`s` shows it):
/// a registered waiter then belongs to the sender, which completes it.
template <class T, class Platform>
[[nodiscard]] bool withdraw_unless_done(block<T, Platform>* b, std::uint32_t& s) noexcept {
    while (!(s & bits::done)) {
        if (!(s & (bits::waiting | bits::cancel))) return true; // nothing to withdraw
        // Clearing `waiting` while `done` is clear means the sender will never read the waiter.
        if (Platform::compare_exchange(b->state, s, s & ~(bits::waiting | bits::cancel)))
            return true;
    }
    return false;
}

enum class cancel_outcome {
    took_waiter, ///< the caller owns the registered waiter and must complete it
    posted,      ///< no waiter yet: `cancel` is set for the registration to find
    too_late,    ///< the sender finished first: its message (or disconnection) wins
};

/// A stop request's transition. Called by a stop callback while the receiver waits (the receiver
/// disarms the callback before it leaves, so the block is alive).
template <class T, class Platform>
[[nodiscard]] cancel_outcome post_cancel(block<T, Platform>* b) noexcept {
    std::uint32_t s = Platform::load(b->state);
    for (;;) {
        if (s & bits::done) return cancel_outcome::too_late; // the sender owns the waiter
        if (s & bits::waiting) {
            // Take the waiter; winning this CAS means the sender never will.
            if (Platform::compare_exchange(b->state, s, s & ~bits::waiting))
                return cancel_outcome::took_waiter;
            continue;
        }
        // Not registered yet: leave the bit for the registration to consume.
        if (Platform::compare_exchange(b->state, s, s | bits::cancel))
            return cancel_outcome::posted;
    }
}

/// The receiver's exit after it moved the message out of the slot and destroyed it; `s` is a state
/// it loaded after `done` (with `message`) was set.
template <class T, class Platform>
void leave_after_take(block<T, Platform>* b, std::uint32_t s) noexcept {
    // The sender already left, so nobody else can ever touch the block: free it, no RMW needed.
    if (!(s & bits::sender)) return Platform::dispose(b);
    // Clears `message` with our reference, so whoever frees never destroys it again.
    const std::uint32_t before = Platform::fetch_and(
        b->state, ~(bits::receiver | bits::message | bits::waiting | bits::cancel));
    if (!(before & bits::sender)) Platform::dispose(b);
}

/// The receiver's drop: withdraw any registration and leave; free if the sender already left.
template <class T, class Platform>
void leave(block<T, Platform>* b) noexcept {
    // One RMW clears our reference, a registration and a pending cancel. If `sender` was already
    // clear, nobody else references the block.
    const std::uint32_t before =
        Platform::fetch_and(b->state, ~(bits::receiver | bits::waiting | bits::cancel));
    if (!(before & bits::sender)) free_block(b, before);
}

} // namespace oneshot::detail
