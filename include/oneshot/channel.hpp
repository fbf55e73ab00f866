/// @file channel.hpp
/// @brief `oneshot::channel<T>()`: a single-use, single-producer single-consumer channel, with its
/// endpoints `sender<T>` and `receiver<T>`.
///
/// One heap allocation is shared by the two endpoints; the last one alive frees it. `send` never
/// blocks. The receiver can poll (`try_recv`), block (`recv`, with a timeout and/or a stop token),
/// or be awaited from any coroutine (see awaiter.hpp). A send happens-before the receive that
/// returns its message; every atomic operation is sequentially consistent. The protocol itself
/// lives in detail/protocol.hpp; the endpoints below only load the state and call its transitions.
///
/// Thread safety: each endpoint is used by one thread at a time (it is a plain object, like
/// `std::unique_ptr`); the two endpoints may be used concurrently from different threads.
#pragma once

#include <oneshot/detail/config.hpp>

#include <oneshot/awaiter.hpp>
#include <oneshot/detail/deadline.hpp>
#include <oneshot/detail/message_slot.hpp>
#include <oneshot/detail/platform.hpp>
#include <oneshot/detail/protocol.hpp>
#include <oneshot/detail/spin.hpp>
#include <oneshot/detail/stop_registration.hpp>
#include <oneshot/detail/waiter.hpp>
#include <oneshot/errors.hpp>
#include <oneshot/fwd.hpp>
#include <oneshot/result.hpp>
#include <oneshot/stop_token.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>

namespace oneshot {

namespace detail {
/// What a channel can carry: `void`, or a non-const, non-array, move-constructible object type.
template <class T>
concept message_type = std::is_void_v<T> ||
    (std::is_object_v<T> && !std::is_array_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T> &&
     std::is_move_constructible_v<T> && std::is_destructible_v<T>);

template <class...>
inline constexpr bool always_false = false;
} // namespace detail

/// The sending endpoint of a one-shot channel. Move-only, pointer-sized. Use it as `sender<T>`;
/// the `Platform` parameter is the seam the project's checker runs the protocol through.
///
/// Sending consumes it (`std::move(tx).send(v)`); dropping it unsent tells the receiver
/// `recv_error::disconnected` (and wakes a blocked or awaiting receiver). A default-constructed or
/// moved-from sender is closed: `is_closed()` is true and a send fails, handing the message back.
template <class T, class Platform>
class basic_sender {
    static_assert(detail::message_type<T>,
                  "oneshot::sender<T>: T must be void or a non-const, non-array, "
                  "move-constructible object type");
    using block_type = detail::block<T, Platform>;

public:
    /// The message type.
    using value_type = T;
    /// What `send` and `emplace` return: success, or the message handed back.
    using send_result = result<void, send_error<T>>;

    /// A closed sender (as if moved-from).
    basic_sender() noexcept = default;
    /// Takes over `other`'s channel end; `other` becomes closed.
    basic_sender(basic_sender&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
    /// Drops the current channel end (as the destructor does), then takes `other`'s.
    basic_sender& operator=(basic_sender&& other) noexcept {
        if (this != &other) {
            drop();
            block_ = std::exchange(other.block_, nullptr);
        }
        return *this;
    }
    basic_sender(const basic_sender&) = delete;
    basic_sender& operator=(const basic_sender&) = delete;

    /// Dropping an unsent sender completes the channel without a message: the receiver gets
    /// `recv_error::disconnected`. Wakes (or resumes, inline) a waiting receiver. Never blocks.
    ~basic_sender() { drop(); }

    /// Constructs the message in the channel from `args` and sends it. Never blocks; wait-free
    /// apart from waking a blocked receiver (or, for an awaiting coroutine without a resumer,
    /// resuming it inline: the continuation then runs inside this call). An aggregate is built
    /// with braces when no constructor takes `args`.
    ///
    /// @returns success, or `send_error<T>` holding the message when the receiver is gone (or this
    /// sender is closed). If constructing the message throws, the exception propagates, the
    /// sender is consumed and the receiver sees `disconnected`; nothing leaks.
    template <class... Args>
        requires(std::is_void_v<T> ? sizeof...(Args) == 0
                                   : detail::constructible_from_args<T, Args...>)
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
        if (detail::publish_and_leave(b, true) == detail::send_outcome::delivered)
            return send_result();
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

    /// Not callable: sending consumes the sender. Write `std::move(tx).send(value)`.
    template <class... Args>
    void send(Args&&...) & {
        static_assert(detail::always_false<Args...>,
                      "oneshot::sender::send consumes the sender: write std::move(tx).send(value)");
    }
    /// Not callable: sending consumes the sender. Write `std::move(tx).emplace(args...)`.
    template <class... Args>
    void emplace(Args&&...) & {
        static_assert(detail::always_false<Args...>,
                      "oneshot::sender::emplace consumes the sender: "
                      "write std::move(tx).emplace(args...)");
    }

    /// True when a send can no longer be delivered: the receiver is gone, or this sender is
    /// closed (moved-from, consumed). Reads the state only.
    [[nodiscard]] bool is_closed() const noexcept {
        return block_ == nullptr || !(Platform::load(block_->state) & detail::bits::receiver);
    }

    /// Gives up ownership without completing the channel, for passing through C code. The pointer
    /// must come back through `from_raw` exactly once (else the channel leaks and the receiver
    /// never completes). Null when this sender is closed.
    [[nodiscard]] void* release() && noexcept { return std::exchange(block_, nullptr); }
    /// Takes back ownership of a pointer from `release()` (null gives a closed sender).
    [[nodiscard]] static basic_sender from_raw(void* raw) noexcept {
        return basic_sender(static_cast<block_type*>(raw));
    }

private:
    explicit basic_sender(block_type* b) noexcept : block_(b) {}

    void drop() noexcept {
        if (block_type* b = std::exchange(block_, nullptr)) {
            if (detail::publish_and_leave(b, false) == detail::send_outcome::receiver_gone)
                Platform::dispose(b);
        }
    }

    struct drop_on_unwind {
        block_type* b;
        explicit drop_on_unwind(block_type* blk) noexcept : b(blk) {}
        drop_on_unwind(const drop_on_unwind&) = delete;
        drop_on_unwind& operator=(const drop_on_unwind&) = delete;
        ~drop_on_unwind() {
            if (b != nullptr &&
                detail::publish_and_leave(b, false) == detail::send_outcome::receiver_gone)
                Platform::dispose(b);
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

/// The receiving endpoint of a one-shot channel. Move-only, pointer-sized. Use it as
/// `receiver<T>`.
///
/// After a receive returns the message, the receiver is detached: later receives return
/// `recv_error::disconnected` and `is_closed()` is true. A default-constructed or moved-from
/// receiver behaves the same. Dropping the receiver makes later sends fail (handing the message
/// back); a message already sent but never received is destroyed by whichever endpoint goes last.
///
/// Stop tokens: every `token` parameter takes any `stoppable_token` (`std::stop_token`,
/// `oneshot::inplace_stop_token`, stdexec's tokens, ...). A message already there, or one whose
/// send completes before the stop is handled, wins over the stop request. After `cancelled` the
/// receiver is still usable: a message sent later is received by a later receive.
///
/// Awaiting: `co_await rx`, `co_await std::move(rx)`, `co_await rx.recv_async(token)` and
/// `co_await rx.recv_async().resume_on(r)`; see awaiter.hpp.
template <class T, class Platform>
class basic_receiver {
    static_assert(detail::message_type<T>,
                  "oneshot::receiver<T>: T must be void or a non-const, non-array, "
                  "move-constructible object type");
    using block_type = detail::block<T, Platform>;

public:
    /// The message type.
    using value_type = T;
    /// What every receive returns: the message, or why there is none.
    using recv_result = result<T, recv_error>;

    /// A closed receiver (as if moved-from).
    basic_receiver() noexcept = default;
    /// Takes over `other`'s channel end; `other` becomes closed.
    basic_receiver(basic_receiver&& other) noexcept
        : block_(std::exchange(other.block_, nullptr)) {}
    /// Drops the current channel end (as the destructor does), then takes `other`'s.
    basic_receiver& operator=(basic_receiver&& other) noexcept {
        if (this != &other) {
            drop();
            block_ = std::exchange(other.block_, nullptr);
        }
        return *this;
    }
    basic_receiver(const basic_receiver&) = delete;
    basic_receiver& operator=(const basic_receiver&) = delete;
    /// Leaves the channel; destroys an unreceived message if the sender is gone too. Never blocks.
    ~basic_receiver() { drop(); }

    /// Takes the message if it is there. Never blocks.
    /// @returns the message; `empty` if none yet and the sender is alive; `disconnected` if none
    /// will come (sender dropped unsent, message already received, closed receiver).
    [[nodiscard]] recv_result try_recv() {
        if (block_ == nullptr) return recv_result(unexpect, recv_error::disconnected);
        const std::uint32_t s = Platform::load(block_->state);
        if (!(s & detail::bits::done)) return recv_result(unexpect, recv_error::empty);
        return take(s);
    }

    /// Blocks until the message arrives or the sender is dropped. Uses no CPU while blocked, after
    /// a short adaptive spin (at most 20 microseconds, and none while spinning does not pay).
    /// @returns the message, or `disconnected`.
    [[nodiscard]] recv_result recv() { return receive(no_deadline{}, never_stop_token{}); }

    /// Like `recv()`, giving up when `token` requests stop.
    /// @returns the message, `disconnected`, or `cancelled`.
    template <stoppable_token Token>
    [[nodiscard]] recv_result recv(const Token& token) {
        return receive(no_deadline{}, token);
    }

    /// Like `recv()`, giving up after `timeout`. Any duration works: a zero, negative or NaN
    /// timeout only polls (as cheaply as `try_recv` when the message is there); one too long to
    /// represent waits forever.
    /// @returns the message, `disconnected`, or `timeout`. A message sent as the timeout expires is
    /// returned rather than reported as a timeout whenever the send completed first.
    template <class Rep, class Period>
    [[nodiscard]] recv_result recv_for(const std::chrono::duration<Rep, Period>& timeout) {
        return receive(after<Rep, Period>{timeout}, never_stop_token{});
    }
    /// Like `recv_for(timeout)`, also giving up when `token` requests stop.
    /// @returns the message, `disconnected`, `timeout` or `cancelled`.
    template <class Rep, class Period, stoppable_token Token>
    [[nodiscard]] recv_result recv_for(const std::chrono::duration<Rep, Period>& timeout,
                                       const Token& token) {
        return receive(after<Rep, Period>{timeout}, token);
    }

    /// Like `recv()`, giving up at `deadline`. A deadline on a clock other than the steady clock is
    /// converted once, on entry; a deadline too far to represent waits forever, one in the past
    /// only polls.
    /// @returns the message, `disconnected`, or `timeout`.
    template <class Clock, class Duration>
    [[nodiscard]] recv_result recv_until(const std::chrono::time_point<Clock, Duration>& deadline) {
        return receive(at<Clock, Duration>{deadline}, never_stop_token{});
    }
    /// Like `recv_until(deadline)`, also giving up when `token` requests stop.
    /// @returns the message, `disconnected`, `timeout` or `cancelled`.
    template <class Clock, class Duration, stoppable_token Token>
    [[nodiscard]] recv_result recv_until(const std::chrono::time_point<Clock, Duration>& deadline,
                                         const Token& token) {
        return receive(at<Clock, Duration>{deadline}, token);
    }

    /// True when no message can ever be received: the sender finished without one, the message
    /// was already received, or this receiver is closed. Reads the state only.
    [[nodiscard]] bool is_closed() const noexcept {
        if (block_ == nullptr) return true;
        const std::uint32_t s = Platform::load(block_->state);
        return (s & detail::bits::done) && !(s & detail::bits::message);
    }

    /// True when a message is waiting to be received. Reads the state only.
    [[nodiscard]] bool has_message() const noexcept {
        return block_ != nullptr && (Platform::load(block_->state) & detail::bits::message);
    }

    /// Awaits the message on the completing thread (see awaiter.hpp); the receiver stays here.
    [[nodiscard]] recv_awaiter<T, Platform, inline_resumer> operator co_await() & noexcept {
        return recv_awaiter<T, Platform, inline_resumer>(*this, inline_resumer{});
    }
    /// Awaits the message; the awaiter takes the receiver with it.
    [[nodiscard]] recv_awaiter<T, Platform, inline_resumer> operator co_await() && noexcept {
        return recv_awaiter<T, Platform, inline_resumer>(std::move(*this), inline_resumer{});
    }
    /// An awaitable receive; chain `.resume_on(r)` to choose where the coroutine resumes.
    [[nodiscard]] recv_awaiter<T, Platform, inline_resumer> recv_async() & noexcept {
        return recv_awaiter<T, Platform, inline_resumer>(*this, inline_resumer{});
    }
    /// An awaitable receive that takes the receiver with it.
    [[nodiscard]] recv_awaiter<T, Platform, inline_resumer> recv_async() && noexcept {
        return recv_awaiter<T, Platform, inline_resumer>(std::move(*this), inline_resumer{});
    }
    /// An awaitable receive that resumes with `recv_error::cancelled` when `token` requests stop.
    template <stoppable_token Token>
    [[nodiscard]] recv_awaiter<T, Platform, inline_resumer, Token> recv_async(Token token) & {
        return recv_awaiter<T, Platform, inline_resumer, Token>(*this, inline_resumer{},
                                                                std::move(token));
    }
    /// As above, taking the receiver with it.
    template <stoppable_token Token>
    [[nodiscard]] recv_awaiter<T, Platform, inline_resumer, Token> recv_async(Token token) && {
        return recv_awaiter<T, Platform, inline_resumer, Token>(std::move(*this), inline_resumer{},
                                                                std::move(token));
    }

    /// Gives up ownership without leaving the channel, for passing through C code. The pointer
    /// must come back through `from_raw` exactly once. Null when closed.
    [[nodiscard]] void* release() && noexcept { return std::exchange(block_, nullptr); }
    /// Takes back ownership of a pointer from `release()` (null gives a closed receiver).
    [[nodiscard]] static basic_receiver from_raw(void* raw) noexcept {
        return basic_receiver(static_cast<block_type*>(raw));
    }

private:
    template <class U, class P, class R, class S>
    friend class recv_awaiter;

    explicit basic_receiver(block_type* b) noexcept : block_(b) {}

    void drop() noexcept {
        if (block_type* b = std::exchange(block_, nullptr)) detail::leave(b);
    }

    /// Precondition: `s` shows `done`. Takes the message (detaching) or reports `disconnected`.
    /// The message is moved exactly once, straight into the returned result; if that move throws,
    /// nothing has changed and the message is still in the channel.
    recv_result take(std::uint32_t s) {
        if (!(s & detail::bits::message)) return recv_result(unexpect, recv_error::disconnected);
        block_type* b = block_;
        if constexpr (std::is_void_v<T>) {
            block_ = nullptr;
            detail::leave_after_take(b, s);
            return recv_result();
        } else {
            b->tracker.read();
            const finish_take finish{this, b, s};
            return recv_result(detail::from_call, [b]() -> T { return std::move(b->slot.get()); });
        }
    }

    /// Runs after the message was moved into the result (or, for a throwing move, when it threw:
    /// then it changes nothing).
    struct finish_take {
        basic_receiver* rx;
        block_type* b;
        std::uint32_t s;
        int exceptions = std::is_nothrow_move_constructible_v<T> ? 0 : std::uncaught_exceptions();
        finish_take(basic_receiver* r, block_type* blk, std::uint32_t state) noexcept
            : rx(r), b(blk), s(state) {}
        finish_take(const finish_take&) = delete;
        finish_take& operator=(const finish_take&) = delete;
        ~finish_take() {
            if constexpr (!std::is_nothrow_move_constructible_v<T>) {
                if (std::uncaught_exceptions() != exceptions) return; // the move threw
            }
            b->tracker.write();
            b->slot.destroy();
            rx->block_ = nullptr;
            detail::leave_after_take(b, s);
        }
    };

    // How each receive makes its deadline, only once it has to wait. `polls_only`: no wait at all
    // (a zero, negative or NaN timeout), known without reading a clock.
    struct no_deadline {
        [[nodiscard]] static bool polls_only() noexcept { return false; }
        typename Platform::deadline operator()() const noexcept { return std::nullopt; }
    };
    template <class Rep, class Period>
    struct after {
        const std::chrono::duration<Rep, Period>& timeout;
        [[nodiscard]] bool polls_only() const noexcept { return !(timeout > timeout.zero()); }
        typename Platform::deadline operator()() const noexcept {
            return detail::deadline_after(timeout);
        }
    };
    template <class Clock, class Duration>
    struct at {
        const std::chrono::time_point<Clock, Duration>& deadline;
        [[nodiscard]] static bool polls_only() noexcept { return false; }
        typename Platform::deadline operator()() const noexcept {
            return detail::deadline_at(deadline);
        }
    };

    /// A stop request while a thread waits: take its waiter back and wake it. (Unlike an awaiter's,
    /// this handler does not disarm itself: the woken thread disarms, and may be doing so already
    /// after a timeout; a thread waiter's completion never waits for anything.)
    struct stop_handler {
        block_type* b;
        detail::waiter* w;
        void operator()() const noexcept {
            if (detail::post_cancel(b) == detail::cancel_outcome::took_waiter) w->complete();
        }
    };

    /// Every blocking receive. The state is checked before any clock, stop-token or wait machinery,
    /// so a receive that finds the message costs what `try_recv` costs.
    template <class MakeDeadline, class Token>
    recv_result receive(MakeDeadline make_deadline, const Token& token) {
        if (block_ == nullptr) return recv_result(unexpect, recv_error::disconnected);
        block_type* b = block_;
        std::uint32_t s = Platform::load(b->state);
        if (s & detail::bits::done) return take(s);
        if (token.stop_requested()) return recv_result(unexpect, recv_error::cancelled);
        if (make_deadline.polls_only()) return recv_result(unexpect, recv_error::timeout);
        const typename Platform::deadline deadline = make_deadline();
        if (Platform::expired(deadline)) return recv_result(unexpect, recv_error::timeout);
        // Spin briefly before registering: a prompt reply then costs no registration, no sleep.
        if (detail::spin_until<Platform>([&]() noexcept {
                s = Platform::load(b->state);
                return (s & detail::bits::done) != 0;
            }))
            return take(s);

        detail::thread_waiter<Platform> node;
        detail::prepare_waiter(b, &node);
        detail::stop_registration<Token, stop_handler> stop;
        stop.arm(token, stop_handler{b, &node}); // may run at once: then it posts `cancel`
        switch (detail::register_waiter(b, s)) {
        case detail::register_outcome::done: stop.disarm(); return take(s);
        case detail::register_outcome::cancelled:
            stop.disarm();
            return recv_result(unexpect, recv_error::cancelled);
        case detail::register_outcome::registered: break;
        }
        (void)node.wait(deadline); // completed (by the sender or a stop request), or timed out
        stop.disarm();             // from here no stop handler runs
        s = Platform::load(b->state);
        if (!(s & detail::bits::done)) {
            // Still registered (timed out), or a stop request took the waiter. Take it back,
            // unless the sender finishes first: then its message (or disconnection) wins.
            if (detail::withdraw_unless_done(b, s))
                return recv_result(unexpect, (s & detail::bits::waiting) ? recv_error::timeout
                                                                         : recv_error::cancelled);
        }
        // Done. If our waiter is still registered, the sender owns it and is completing it: wait
        // for that (it is imminent) before this frame, which holds the waiter, goes away.
        if (s & detail::bits::waiting) node.wait_completed();
        return take(s);
    }

    block_type* block_ = nullptr;
};

/// Creates a one-shot channel: one heap allocation shared by the returned sender and receiver.
/// @throws std::bad_alloc if the allocation fails.
/// (No constraint on `T` here: the endpoints' static_assert then says what `T` may be.)
template <class T, class Platform = ONESHOT_DEFAULT_PLATFORM>
[[nodiscard]] std::pair<basic_sender<T, Platform>, basic_receiver<T, Platform>> channel() {
    auto* b = Platform::template create<detail::block<T, Platform>>();
    return {basic_sender<T, Platform>::from_raw(b), basic_receiver<T, Platform>::from_raw(b)};
}

} // namespace oneshot
