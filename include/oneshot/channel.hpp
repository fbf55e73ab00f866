/// @file channel.hpp
/// @brief `oneshot::channel<T>()`: a single-use, single-producer single-consumer channel, with its
/// endpoints `sender<T>` and `receiver<T>`.
///
/// One heap allocation is shared by the two endpoints; the last one alive frees it. `send` never
/// blocks. The receiver can poll (`try_recv`), block (`recv`, with a timeout and/or a
/// `std::stop_token`), or be awaited from any coroutine (see awaiter.hpp). A send happens-before
/// the receive that returns its message; every atomic operation is sequentially consistent.
///
/// Thread safety: each endpoint is used by one thread at a time (it is a plain object, like
/// `std::unique_ptr`); the two endpoints may be used concurrently from different threads.
#pragma once

#include <oneshot/detail/block.hpp>
#include <oneshot/detail/config.hpp>
#include <oneshot/detail/sync.hpp>
#include <oneshot/errors.hpp>
#include <oneshot/fwd.hpp>
#include <oneshot/result.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <type_traits>
#include <utility>

#if ONESHOT_HAS_STOP_TOKEN
#include <stop_token>
#endif

namespace oneshot {

namespace detail {
/// What a channel can carry: `void`, or a non-const, non-array, move-constructible object type.
template <class T>
concept message_type = std::is_void_v<T> ||
    (std::is_object_v<T> && !std::is_array_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T> &&
     std::is_move_constructible_v<T> && std::is_destructible_v<T>);

/// Converts a relative timeout to a deadline on the policy's clock without overflowing.
template <class Sync, class Rep, class Period>
typename Sync::deadline deadline_after(const std::chrono::duration<Rep, Period>& d) {
    using clock = typename Sync::clock;
    const auto now = clock::now();
    if (d <= d.zero()) return now;
    // Durations too long to add are treated as "wait forever" (no deadline).
    if (d >= std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(
                 std::chrono::hours(24 * 365 * 100)))
        return std::nullopt;
    return now + std::chrono::ceil<typename clock::duration>(d);
}
} // namespace detail

/// The sending endpoint of a one-shot channel. Move-only, pointer-sized.
///
/// Sending consumes it (`std::move(tx).send(v)`); dropping it unsent tells the receiver
/// `recv_error::disconnected` (and wakes a blocked or awaiting receiver). A default-constructed or
/// moved-from sender is closed: `is_closed()` is true and a send fails, handing the message back.
template <class T, class Sync>
class sender {
    static_assert(detail::message_type<T>,
                  "oneshot::sender<T>: T must be void or a non-const, non-array, "
                  "move-constructible object type");
    using block_type = detail::block<T, Sync>;

public:
    /// The message type.
    using value_type = T;
    /// What `send` and `emplace` return: success, or the message handed back.
    using send_result = result<void, send_error<T>>;

    /// A closed sender (as if moved-from).
    sender() noexcept = default;
    /// Takes over `other`'s channel end; `other` becomes closed.
    sender(sender&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
    /// Drops the current channel end (as the destructor does), then takes `other`'s.
    sender& operator=(sender&& other) noexcept {
        if (this != &other) {
            drop();
            block_ = std::exchange(other.block_, nullptr);
        }
        return *this;
    }
    sender(const sender&) = delete;
    sender& operator=(const sender&) = delete;

    /// Dropping an unsent sender completes the channel without a message: the receiver gets
    /// `recv_error::disconnected`. Wakes (or resumes, inline) a waiting receiver. Never blocks.
    ~sender() { drop(); }

    /// Constructs the message in the channel from `args` and sends it. Never blocks; wait-free
    /// apart from waking a blocked receiver (or, for an awaiting coroutine without a scheduler,
    /// resuming it inline: the continuation then runs inside this call).
    ///
    /// @returns success, or `send_error<T>` holding the message when the receiver is gone (or this
    /// sender is closed). If constructing the message throws, the exception propagates, the
    /// sender is consumed and the receiver sees `disconnected`; nothing leaks.
    template <class... Args>
        requires(std::is_void_v<T> ? sizeof...(Args) == 0 : std::is_constructible_v<T, Args...>)
    [[nodiscard]] send_result emplace(Args&&... args) && {
        block_type* b = std::exchange(block_, nullptr);
        if (b == nullptr) return send_result(unexpect, std::in_place, std::forward<Args>(args)...);
        {
            // If T's constructor throws, finish as an unsent drop so the receiver is not left waiting.
            drop_on_unwind guard{b};
            b->tracker.write();
            b->slot.construct(std::forward<Args>(args)...);
            guard.b = nullptr;
        }
        if (detail::sender_finish(b, true) == detail::send_outcome::delivered) return send_result();
        // The receiver is gone and the block is ours alone: hand the message back, then free.
        reclaim_on_exit reclaim{b};
        b->tracker.read();
        if constexpr (std::is_void_v<T>)
            return send_result(unexpect, std::in_place);
        else
            return send_result(unexpect, std::in_place, std::move(b->slot.get()));
    }

    /// Sends `value` (moved). See `emplace`.
    template <class U = T>
        requires(!std::is_void_v<U>)
    [[nodiscard]] send_result send(std::type_identity_t<U>&& value) && {
        return std::move(*this).emplace(std::move(value));
    }
    /// Sends a copy of `value`. See `emplace`.
    template <class U = T>
        requires(!std::is_void_v<U> && std::is_copy_constructible_v<U>)
    [[nodiscard]] send_result send(const std::type_identity_t<U>& value) && {
        return std::move(*this).emplace(value);
    }
    /// Sends the signal of a `channel<void>`. See `emplace`.
    template <class U = T>
        requires std::is_void_v<U>
    [[nodiscard]] send_result send() && { return std::move(*this).emplace(); }

    /// True when a send can no longer be delivered: the receiver is gone, or this sender is
    /// closed (moved-from, consumed). Reads the state only.
    [[nodiscard]] bool is_closed() const noexcept {
        return block_ == nullptr || !(Sync::load(block_->state) & detail::bits::receiver);
    }

    /// Gives up ownership without completing the channel, for passing through C code. The pointer
    /// must come back through `sender::from_raw` exactly once (else the channel leaks and the
    /// receiver never completes). Null when this sender is closed.
    [[nodiscard]] void* release() && noexcept { return std::exchange(block_, nullptr); }
    /// Takes back ownership of a pointer from `release()` (null gives a closed sender).
    [[nodiscard]] static sender from_raw(void* raw) noexcept {
        return sender(static_cast<block_type*>(raw));
    }

private:
    explicit sender(block_type* b) noexcept : block_(b) {}

    void drop() noexcept {
        if (block_type* b = std::exchange(block_, nullptr)) {
            if (detail::sender_finish(b, false) == detail::send_outcome::receiver_gone)
                Sync::dispose(b);
        }
    }

    struct drop_on_unwind {
        block_type* b;
        explicit drop_on_unwind(block_type* blk) noexcept : b(blk) {}
        drop_on_unwind(const drop_on_unwind&) = delete;
        drop_on_unwind& operator=(const drop_on_unwind&) = delete;
        ~drop_on_unwind() {
            if (b != nullptr &&
                detail::sender_finish(b, false) == detail::send_outcome::receiver_gone)
                Sync::dispose(b);
        }
    };
    struct reclaim_on_exit {
        block_type* b;
        explicit reclaim_on_exit(block_type* blk) noexcept : b(blk) {}
        reclaim_on_exit(const reclaim_on_exit&) = delete;
        reclaim_on_exit& operator=(const reclaim_on_exit&) = delete;
        ~reclaim_on_exit() { detail::free_block(b, detail::bits::message); }
    };

    block_type* block_ = nullptr;
};

/// The receiving endpoint of a one-shot channel. Move-only, pointer-sized.
///
/// After a receive returns the message, the receiver is detached: later receives return
/// `recv_error::disconnected` and `is_closed()` is true. A default-constructed or moved-from
/// receiver behaves the same. Dropping the receiver makes later sends fail (handing the message
/// back); a message already sent but never received is destroyed by whichever endpoint goes last.
///
/// Awaiting: `co_await rx`, `co_await std::move(rx)`, `co_await rx.recv_async(token)` and
/// `co_await rx.recv_async().resume_on(scheduler)`; see awaiter.hpp.
template <class T, class Sync>
class receiver {
    static_assert(detail::message_type<T>,
                  "oneshot::receiver<T>: T must be void or a non-const, non-array, "
                  "move-constructible object type");
    using block_type = detail::block<T, Sync>;

public:
    /// The message type.
    using value_type = T;
    /// What every receive returns: the message, or why there is none.
    using recv_result = result<T, recv_error>;

    /// A closed receiver (as if moved-from).
    receiver() noexcept = default;
    /// Takes over `other`'s channel end; `other` becomes closed.
    receiver(receiver&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
    /// Drops the current channel end (as the destructor does), then takes `other`'s.
    receiver& operator=(receiver&& other) noexcept {
        if (this != &other) {
            drop();
            block_ = std::exchange(other.block_, nullptr);
        }
        return *this;
    }
    receiver(const receiver&) = delete;
    receiver& operator=(const receiver&) = delete;
    /// Leaves the channel; destroys an unreceived message if the sender is gone too. Never blocks.
    ~receiver() { drop(); }

    /// Takes the message if it is there. Never blocks.
    /// @returns the message; `empty` if none yet and the sender is alive; `disconnected` if none
    /// will come (sender dropped unsent, message already received, closed receiver).
    [[nodiscard]] recv_result try_recv() {
        if (block_ == nullptr) return recv_result(unexpect, recv_error::disconnected);
        const std::uint32_t s = Sync::load(block_->state);
        if (!(s & detail::bits::done)) return recv_result(unexpect, recv_error::empty);
        return take(s);
    }

    /// Blocks until the message arrives or the sender is dropped. Uses no CPU while blocked (after
    /// a spin of at most `std_sync::spin_limit` reads).
    /// @returns the message, or `disconnected`.
    [[nodiscard]] recv_result recv() { return recv_with_deadline(std::nullopt); }

    /// Like `recv()`, giving up after `timeout`.
    /// @returns the message, `disconnected`, or `timeout`. A message sent as the timeout expires is
    /// returned rather than reported as a timeout whenever the send completed first.
    template <class Rep, class Period>
    [[nodiscard]] recv_result recv_for(const std::chrono::duration<Rep, Period>& timeout) {
        return recv_with_deadline(detail::deadline_after<Sync>(timeout));
    }

    /// Like `recv()`, giving up at `deadline`. A deadline on a clock other than the steady clock is
    /// converted once, on entry, to a steady-clock deadline.
    /// @returns the message, `disconnected`, or `timeout`.
    template <class Clock, class Duration>
    [[nodiscard]] recv_result recv_until(const std::chrono::time_point<Clock, Duration>& deadline) {
        return recv_for(deadline - Clock::now());
    }

#if ONESHOT_HAS_STOP_TOKEN
    /// Like `recv()`, giving up when `token` requests stop (only where the standard library has
    /// `std::stop_token`: `ONESHOT_HAS_STOP_TOKEN`). A message already there, or one whose send
    /// completes before the stop is handled, wins. After `cancelled` the receiver is still usable:
    /// a message sent later is received by a later receive.
    /// @returns the message, `disconnected`, or `cancelled`.
    [[nodiscard]] recv_result recv(std::stop_token token) {
        return recv_with_stop(std::nullopt, std::move(token));
    }

    /// Like `recv_for(timeout)`, also giving up when `token` requests stop.
    /// @returns the message, `disconnected`, `timeout` or `cancelled`.
    template <class Rep, class Period>
    [[nodiscard]] recv_result recv_for(const std::chrono::duration<Rep, Period>& timeout,
                                       std::stop_token token) {
        return recv_with_stop(detail::deadline_after<Sync>(timeout), std::move(token));
    }

    /// Like `recv_until(deadline)`, also giving up when `token` requests stop.
    /// @returns the message, `disconnected`, `timeout` or `cancelled`.
    template <class Clock, class Duration>
    [[nodiscard]] recv_result recv_until(const std::chrono::time_point<Clock, Duration>& deadline,
                                         std::stop_token token) {
        return recv_for(deadline - Clock::now(), std::move(token));
    }
#endif

    /// True when no message can ever be received: the sender finished without one, the message
    /// was already received, or this receiver is closed. Reads the state only.
    [[nodiscard]] bool is_closed() const noexcept {
        if (block_ == nullptr) return true;
        const std::uint32_t s = Sync::load(block_->state);
        return (s & detail::bits::done) && !(s & detail::bits::message);
    }

    /// True when a message is waiting to be received. Reads the state only.
    [[nodiscard]] bool has_message() const noexcept {
        return block_ != nullptr && (Sync::load(block_->state) & detail::bits::message);
    }

    /// Awaits the message on the completing thread (see awaiter.hpp); the receiver stays here.
    [[nodiscard]] recv_awaiter<T, Sync, inline_scheduler> operator co_await() & noexcept;
    /// Awaits the message; the awaiter takes the receiver with it.
    [[nodiscard]] recv_awaiter<T, Sync, inline_scheduler> operator co_await() && noexcept;
    /// An awaitable receive; chain `.resume_on(scheduler)` to choose where the coroutine resumes.
    [[nodiscard]] recv_awaiter<T, Sync, inline_scheduler> recv_async() & noexcept;
    /// An awaitable receive that takes the receiver with it.
    [[nodiscard]] recv_awaiter<T, Sync, inline_scheduler> recv_async() && noexcept;
#if ONESHOT_HAS_STOP_TOKEN
    /// An awaitable receive that resumes with `recv_error::cancelled` when `token` requests stop.
    [[nodiscard]] recv_awaiter<T, Sync, inline_scheduler, true>
    recv_async(std::stop_token token) & noexcept;
    /// As above, taking the receiver with it.
    [[nodiscard]] recv_awaiter<T, Sync, inline_scheduler, true>
    recv_async(std::stop_token token) && noexcept;
#endif

    /// Gives up ownership without leaving the channel, for passing through C code. The pointer
    /// must come back through `receiver::from_raw` exactly once. Null when closed.
    [[nodiscard]] void* release() && noexcept {
        return std::exchange(block_, nullptr);
    }
    /// Takes back ownership of a pointer from `release()` (null gives a closed receiver).
    [[nodiscard]] static receiver from_raw(void* raw) noexcept {
        return receiver(static_cast<block_type*>(raw));
    }

private:
    template <class U, class S, class Sched, bool C>
    friend class recv_awaiter;

    explicit receiver(block_type* b) noexcept : block_(b) {}

    void drop() noexcept {
        if (block_type* b = std::exchange(block_, nullptr)) detail::receiver_leave(b);
    }

    /// Precondition: `s` shows `done`. Takes the message (detaching) or reports `disconnected`.
    recv_result take(std::uint32_t s) {
        if (!(s & detail::bits::message)) return recv_result(unexpect, recv_error::disconnected);
        block_type* b = block_;
        b->tracker.read();
        if constexpr (std::is_void_v<T>) {
            block_ = nullptr;
            detail::receiver_leave_after_take(b);
            return recv_result();
        } else {
            // Moving out may throw: then nothing has changed and the message is still there.
            recv_result r(std::in_place, std::move(b->slot.get()));
            b->tracker.write();
            b->slot.destroy();
            block_ = nullptr;
            detail::receiver_leave_after_take(b);
            return r;
        }
    }

    recv_result recv_with_deadline(const typename Sync::deadline& deadline) {
        if (block_ == nullptr) return recv_result(unexpect, recv_error::disconnected);
        for (;;) {
            switch (detail::wait_for_sender(block_, deadline)) {
            case detail::wait_outcome::done: return take(Sync::load(block_->state));
            case detail::wait_outcome::timed_out: return recv_result(unexpect, recv_error::timeout);
            case detail::wait_outcome::cancelled:
                // A cancel bit with no stop token watching can only be stale: drop it, wait again.
                (void)Sync::fetch_and(block_->state, ~detail::bits::cancel);
                break;
            }
        }
    }

#if ONESHOT_HAS_STOP_TOKEN
    struct stop_waker {
        block_type* b;
        // The receiver is inside recv and destroys this callback before it can leave, so the
        // block is alive here. Setting the bit changes the word, so the futex wait returns.
        void operator()() const noexcept {
            (void)Sync::fetch_or(b->state, detail::bits::cancel);
            Sync::wake_all(b->state);
        }
    };

    recv_result recv_with_stop(const typename Sync::deadline& deadline, std::stop_token token) {
        if (block_ == nullptr) return recv_result(unexpect, recv_error::disconnected);
        std::uint32_t s = Sync::load(block_->state);
        if (s & detail::bits::done) return take(s);
        if (token.stop_requested()) return recv_result(unexpect, recv_error::cancelled);
        detail::wait_outcome outcome{};
        {
            std::stop_callback<stop_waker> on_stop(token, stop_waker{block_});
            outcome = detail::wait_for_sender(block_, deadline);
        } // from here no stop callback runs: the cancel bit can no longer appear
        s = Sync::load(block_->state);
        for (;;) {
            if (s & detail::bits::done) return take(s); // the send completed first: it wins
            if (outcome == detail::wait_outcome::timed_out && !(s & detail::bits::cancel))
                return recv_result(unexpect, recv_error::timeout);
            // Withdraw our registration and the cancel bit (both ours); retry if the state moved.
            if (Sync::compare_exchange(block_->state, s,
                                       s & ~(detail::bits::waiting | detail::bits::cancel)))
                return recv_result(unexpect, outcome == detail::wait_outcome::timed_out
                                                 ? recv_error::timeout
                                                 : recv_error::cancelled);
        }
    }
#endif

    block_type* block_ = nullptr;
};

/// Creates a one-shot channel: one heap allocation shared by the returned sender and receiver.
/// @throws std::bad_alloc if the allocation fails.
template <class T, class Sync = detail::std_sync>
    requires detail::message_type<T>
[[nodiscard]] std::pair<sender<T, Sync>, receiver<T, Sync>> channel() {
    auto* b = Sync::template create<detail::block<T, Sync>>();
    return {sender<T, Sync>::from_raw(b), receiver<T, Sync>::from_raw(b)};
}

} // namespace oneshot

#include <oneshot/awaiter.hpp>
