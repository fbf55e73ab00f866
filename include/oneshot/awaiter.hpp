/// @file awaiter.hpp
/// @brief Awaiting a `oneshot::receiver` from any coroutine, on any executor.
///
/// `co_await rx` (or `co_await std::move(rx)`, `co_await rx.recv_async(token)`) yields
/// `result<T, recv_error>`. The awaiter assumes nothing about the awaiting coroutine's promise
/// type, allocates nothing, and does not suspend when the message (or the disconnection) is
/// already there.
///
/// **Where the coroutine resumes.** By default, inline on the thread that completes the channel:
/// inside `send`/`emplace`, or inside the sender's destructor for a disconnection. The sender's
/// call therefore runs the continuation until it next suspends, and only then returns. A chain of
/// such inline resumptions (a resumed coroutine that sends on the next channel, ...) nests on the
/// sender's stack. To resume elsewhere, chain `.resume_on(r)` with a resumer `r` (see resumer.hpp).
///
/// **Cancellation.** With a stop token (any `stoppable_token`), a stop request resumes the
/// coroutine with `recv_error::cancelled`, through the same path (inline on the thread calling
/// `request_stop`, or through the resumer). A stop request and a send racing resolve to exactly one
/// outcome: if the send wins, the coroutine gets the message; if the stop wins, the message (when
/// it comes) stays in the channel for a later `try_recv`, `recv` or `co_await`. A resumer that
/// hands the coroutine to another thread and waits for it to run (a blocking queued call) is fine
/// here: the stop callback deregisters itself before it resumes the coroutine.
///
/// **Destroying a suspended coroutine** (`handle.destroy()`) is safe as long as nothing is resuming
/// it concurrently: the awaiter's destructor withdraws its registration, so a later send or sender
/// drop never touches the dead frame; a message is then kept for the receiver's owner (or
/// destroyed with the receiver if the awaiter owned it). Destroying a frame while another thread
/// may be resuming it is a race in any C++ program; the race-free way to abandon a wait from
/// another thread is a stop request.
///
/// **Misuse.** A borrowed receiver must stay where it is while the await is suspended: moving it
/// (or assigning to it) then is reported with a message and `std::abort()`.
#pragma once

#include <oneshot/detail/config.hpp>

#include <oneshot/detail/misuse.hpp>
#include <oneshot/detail/protocol.hpp>
#include <oneshot/detail/stop_registration.hpp>
#include <oneshot/detail/waiter.hpp>
#include <oneshot/errors.hpp>
#include <oneshot/fwd.hpp>
#include <oneshot/result.hpp>
#include <oneshot/resumer.hpp>
#include <oneshot/stop_token.hpp>

#include <coroutine>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace oneshot {

/// The awaitable returned by `co_await rx`, `rx.recv_async(...)` and `.resume_on(...)`.
///
/// `await_resume` returns the message, `disconnected`, or (with a stop token) `cancelled`. Move it
/// only before awaiting it. It either borrows the receiver (from an lvalue, which must outlive the
/// await and stay where it is) or owns it (from an rvalue). Without a stop token
/// (`never_stop_token`) it carries no stop-token state at all.
template <class T, class Platform, class Resumer, class StopToken>
class [[nodiscard]] recv_awaiter {
    static_assert(resumer<Resumer>, "recv_awaiter: Resumer must satisfy oneshot::resumer");
    static_assert(stoppable_token<StopToken>,
                  "recv_awaiter: StopToken must satisfy oneshot::stoppable_token");
    using receiver_type = basic_receiver<T, Platform>;
    using block_type = detail::block<T, Platform>;

public:
    /// What `co_await` yields: the message, or why there is none.
    using recv_result = result<T, recv_error>;

    /// Awaits `rx`, which stays with the caller.
    recv_awaiter(receiver_type& rx, Resumer r, StopToken token = StopToken{}) noexcept(
        std::is_nothrow_move_constructible_v<Resumer>&&
            std::is_nothrow_move_constructible_v<StopToken>)
        : borrowed_(&rx), node_(std::move(r)), token_(std::move(token)) {}
    /// Awaits `rx`, which the awaiter takes.
    recv_awaiter(receiver_type&& rx, Resumer r, StopToken token = StopToken{}) noexcept(
        std::is_nothrow_move_constructible_v<Resumer>&&
            std::is_nothrow_move_constructible_v<StopToken>)
        : owned_(std::move(rx)), node_(std::move(r)), token_(std::move(token)) {}

    /// Moves a not-yet-awaited awaiter (never move one that is suspended).
    recv_awaiter(recv_awaiter&& other) noexcept(std::is_nothrow_move_constructible_v<Resumer>&&
                                                    std::is_nothrow_move_constructible_v<StopToken>)
        : borrowed_(other.borrowed_),
          owned_(std::move(other.owned_)),
          node_(std::move(other.node_)),
          token_(std::move(other.token_)) {}
    recv_awaiter& operator=(recv_awaiter&&) = delete;
    recv_awaiter(const recv_awaiter&) = delete;
    recv_awaiter& operator=(const recv_awaiter&) = delete;

    /// Withdraws a registration left by a coroutine destroyed while suspended.
    ~recv_awaiter() {
        stop_.disarm(); // from here no stop handler runs
        if (registered_) unregister();
    }

    /// The same receive, resuming with `recv_error::cancelled` when `token` requests stop.
    template <stoppable_token Token>
    [[nodiscard]] recv_awaiter<T, Platform, Resumer, Token> with_stop_token(Token token) && {
        return rebind<Resumer, Token>(std::move(node_.resumer()), std::move(token));
    }

    /// The same receive, resuming the coroutine through `r` instead of inline.
    template <resumer R>
    [[nodiscard]] recv_awaiter<T, Platform, R, StopToken> resume_on(R r) && {
        return rebind<R, StopToken>(std::move(r), std::move(token_));
    }

    /// True (no suspension) when the channel is complete, the receiver is closed, or stop was
    /// already requested.
    [[nodiscard]] bool await_ready() noexcept {
        block_type* b = target().block_;
        if (b == nullptr) return true;
        seen_ = Platform::load(b->state);
        if (seen_ & detail::bits::done) return true; // await_resume uses `seen_`: no second load
        if (token_.stop_requested()) {
            cancelled_ = true;
            return true;
        }
        return false;
    }

    /// Registers the coroutine and suspends, unless the channel completed or stop was requested in
    /// the meantime (then it returns false and the coroutine continues at once).
    [[nodiscard]] bool await_suspend(std::coroutine_handle<> h) noexcept {
        block_ = target().block_;
        node_.set_handle(h);
        detail::prepare_waiter(block_, &node_);
        stop_.arm(token_, stop_handler{this}); // may run at once: then it posts `cancel`
        registered_ = true;
        std::uint32_t s = seen_; // a stale value only costs the CAS one retry
        switch (detail::register_waiter(block_, s)) {
        case detail::register_outcome::registered:
            // From the moment of registration the sender or a stop request may resume the
            // coroutine on another thread: touch nothing of `this` any more.
            return true;
        case detail::register_outcome::done: seen_ = s; break;
        case detail::register_outcome::cancelled: cancelled_ = true; break;
        }
        registered_ = false;
        return false;
    }

    /// The message, `disconnected`, or `cancelled`.
    recv_result await_resume() {
        stop_.disarm(); // a handler still running elsewhere lost the race and is about to return
        registered_ = false;
        if (cancelled_) return recv_result(unexpect, recv_error::cancelled);
        receiver_type& rx = target();
        if (block_ != nullptr && rx.block_ != block_) receiver_moved();
        if (rx.block_ == nullptr) return recv_result(unexpect, recv_error::disconnected);
        // Resumed by the sender, or not suspended: the channel is complete. The state seen by
        // await_ready (when it showed `done`), or a fresh one.
        const std::uint32_t s =
            (seen_ & detail::bits::done) ? seen_ : Platform::load(rx.block_->state);
        return rx.take(s);
    }

private:
    template <class U, class P, class R, class S>
    friend class recv_awaiter;

    receiver_type& target() noexcept { return borrowed_ != nullptr ? *borrowed_ : owned_; }

    /// The same receive with another resumer or stop token (before awaiting).
    template <class R, class S>
    recv_awaiter<T, Platform, R, S> rebind(R r, S token) {
        if (borrowed_ != nullptr)
            return recv_awaiter<T, Platform, R, S>(*borrowed_, std::move(r), std::move(token));
        return recv_awaiter<T, Platform, R, S>(std::move(owned_), std::move(r), std::move(token));
    }

    [[noreturn]] static void receiver_moved() noexcept {
        detail::misuse("oneshot: a receiver was moved or assigned to while a co_await on it was "
                       "suspended; keep it in place until the await completes");
    }

    /// The coroutine's frame is being destroyed while suspended: take the registration back.
    void unregister() noexcept {
        if (target().block_ != block_) receiver_moved();
        std::uint32_t s = Platform::load(block_->state);
        // If `done` is set the sender owns the waiter: that is a user race on this frame.
        (void)detail::withdraw_unless_done(block_, s);
    }

    /// A stop request while suspended.
    struct stop_handler {
        recv_awaiter* self;
        void operator()() const noexcept {
            recv_awaiter* a = self; // `*this` dies in the disarm below
            if (detail::post_cancel(a->block_) != detail::cancel_outcome::took_waiter) return;
            a->cancelled_ =
                true; // the stop won: a message arriving from now on stays in the channel
            // Deregister before resuming: the resumed coroutine's own disarm must not wait for
            // this handler, which may itself wait for the coroutine to run (see
            // stop_registration.hpp). Nobody else disarms now: the waiter is ours.
            a->stop_.disarm();
            a->node_.complete(); // touches nothing of `a` after resuming
        }
    };

    receiver_type* borrowed_ = nullptr;
    receiver_type owned_;
    detail::coroutine_waiter<Resumer> node_;
    ONESHOT_NO_UNIQUE_ADDRESS StopToken token_;
    ONESHOT_NO_UNIQUE_ADDRESS detail::stop_registration<StopToken, stop_handler> stop_;
    block_type* block_ = nullptr; ///< the block registered with, while suspended
    std::uint32_t seen_ = 0;      ///< the state await_ready saw
    bool registered_ = false;
    bool cancelled_ = false;
};

} // namespace oneshot
