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
/// sender's stack. To resume elsewhere, chain `.resume_on(s)` with a scheduler `s`: anything
/// invocable with `std::coroutine_handle<>`, or with a `post(f)` or `execute(f)` member taking a
/// nullary callable, or a pointer to such an object. The scheduler is moved out of the awaiter and
/// invoked once; it must not throw (the call is made from `noexcept` code).
///
/// **Cancellation.** With a `std::stop_token`, a stop request resumes the coroutine with
/// `recv_error::cancelled`, through the same path (inline on the thread calling `request_stop`,
/// or through the scheduler). A stop request and a send racing resolve to exactly one outcome: if
/// the send wins, the coroutine gets the message; if the stop wins, the message (when it comes)
/// stays in the channel for a later `try_recv`, `recv` or `co_await`.
///
/// **Destroying a suspended coroutine** (`handle.destroy()`) is safe as long as nothing is resuming
/// it concurrently: the awaiter's destructor withdraws its registration, so a later send or sender
/// drop never touches the dead frame; a message is then kept for the receiver's owner (or
/// destroyed with the receiver if the awaiter owned it). Destroying a frame while another thread
/// may be resuming it is a race in any C++ program; the race-free way to abandon a wait from
/// another thread is a stop request.
#pragma once

#include <oneshot/channel.hpp>

#include <concepts>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

namespace oneshot {

/// The default scheduler: resume inline, on the thread that completes the channel.
struct inline_scheduler {
    /// Resumes `h` on the calling thread.
    void operator()(std::coroutine_handle<> h) const noexcept { h.resume(); }
};

namespace detail {
/// The callable handed to `post`/`execute` schedulers.
struct resume_task {
    std::coroutine_handle<> handle;
    void operator()() const { handle.resume(); }
};

template <class S>
concept handle_scheduler = std::invocable<S&, std::coroutine_handle<>>;
template <class S>
concept post_scheduler = requires(S& s, resume_task t) {
    s.post(t);
};
template <class S>
concept execute_scheduler = requires(S& s, resume_task t) {
    s.execute(t);
};
template <class S>
concept direct_scheduler = handle_scheduler<S> || post_scheduler<S> || execute_scheduler<S>;

/// The stop-token machinery of a cancellable awaiter; empty (and free) otherwise.
template <class Handler, bool Cancellable>
struct stop_state {};
#if ONESHOT_HAS_STOP_TOKEN
template <class Handler>
struct stop_state<Handler, true> {
    std::stop_token token;
    std::optional<std::stop_callback<Handler>> callback;
};
#endif

template <class S>
void schedule_resume(S& s, std::coroutine_handle<> h) noexcept {
    if constexpr (handle_scheduler<S>)
        s(h);
    else if constexpr (post_scheduler<S>)
        s.post(resume_task{h});
    else if constexpr (execute_scheduler<S>)
        s.execute(resume_task{h});
    else
        schedule_resume(*s, h); // a pointer to a scheduler
}
} // namespace detail

/// Something `resume_on` accepts: invocable with `std::coroutine_handle<>`, or with a `post(f)` or
/// `execute(f)` member, or a pointer to such an object.
template <class S>
concept scheduler = std::move_constructible<S> &&
    (detail::direct_scheduler<S> ||
     (std::is_pointer_v<S> && detail::direct_scheduler<std::remove_pointer_t<S>>));

/// The awaitable returned by `co_await rx`, `rx.recv_async(...)` and `.resume_on(...)`.
///
/// `await_resume` returns the message, `disconnected`, or (when `Cancellable`: made with a stop
/// token) `cancelled`. Move it only before awaiting it. It either borrows the receiver (from an
/// lvalue, which must outlive the await) or owns it (from an rvalue). A plain awaiter carries no
/// stop-token state at all.
template <class T, class Sync, class Scheduler, bool Cancellable>
class [[nodiscard]] recv_awaiter : private detail::waiter {
    using receiver_type = receiver<T, Sync>;
    using block_type = detail::block<T, Sync>;

public:
    /// What `co_await` yields: the message, or why there is none.
    using recv_result = result<T, recv_error>;

    /// Awaits `rx`, which stays with the caller.
    recv_awaiter(receiver_type& rx,
                 Scheduler s) noexcept(std::is_nothrow_move_constructible_v<Scheduler>)
        : borrowed_(&rx), scheduler_(std::move(s)) {}
    /// Awaits `rx`, which the awaiter takes.
    recv_awaiter(receiver_type&& rx,
                 Scheduler s) noexcept(std::is_nothrow_move_constructible_v<Scheduler>)
        : owned_(std::move(rx)), scheduler_(std::move(s)) {}

    /// Moves a not-yet-awaited awaiter (never move one that is suspended).
    recv_awaiter(recv_awaiter&& other) noexcept(std::is_nothrow_move_constructible_v<Scheduler>)
        : borrowed_(other.borrowed_),
          owned_(std::move(other.owned_)),
          scheduler_(std::move(other.scheduler_)) {
#if ONESHOT_HAS_STOP_TOKEN
        if constexpr (Cancellable) stop_.token = std::move(other.stop_.token);
#endif
    }
    recv_awaiter& operator=(recv_awaiter&&) = delete;
    recv_awaiter(const recv_awaiter&) = delete;
    recv_awaiter& operator=(const recv_awaiter&) = delete;

    /// Withdraws a registration left by a coroutine destroyed while suspended.
    ~recv_awaiter() {
#if ONESHOT_HAS_STOP_TOKEN
        if constexpr (Cancellable) stop_.callback.reset(); // from here no stop callback runs
#endif
        if (registered_) unregister();
    }

#if ONESHOT_HAS_STOP_TOKEN
    /// The same receive, resuming with `recv_error::cancelled` when `token` requests stop.
    [[nodiscard]] recv_awaiter<T, Sync, Scheduler, true> with_stop_token(std::stop_token token) && {
        recv_awaiter<T, Sync, Scheduler, true> next =
            rebind<Scheduler, true>(std::move(scheduler_));
        next.stop_.token = std::move(token);
        return next;
    }
#endif

    /// The same receive, resuming the coroutine through `s` instead of inline.
    template <scheduler S>
    [[nodiscard]] recv_awaiter<T, Sync, S, Cancellable> resume_on(S s) && {
        recv_awaiter<T, Sync, S, Cancellable> next = rebind<S, Cancellable>(std::move(s));
#if ONESHOT_HAS_STOP_TOKEN
        if constexpr (Cancellable) next.stop_.token = std::move(stop_.token);
#endif
        return next;
    }

    /// True (no suspension) when the channel is complete, the receiver is closed, or stop was
    /// already requested.
    [[nodiscard]] bool await_ready() noexcept {
        block_type* b = target().block_;
        if (b == nullptr) return true;
        seen_ = Sync::load(b->state);
        if (seen_ & detail::bits::done) return true; // await_resume uses `seen_`: no second load
#if ONESHOT_HAS_STOP_TOKEN
        if constexpr (Cancellable) {
            if (stop_.token.stop_requested()) {
                cancelled_ = true;
                return true;
            }
        }
#endif
        return false;
    }

    /// Registers the coroutine and suspends, unless the channel completed or stop was requested in
    /// the meantime (then it returns false and the coroutine continues at once).
    [[nodiscard]] bool await_suspend(std::coroutine_handle<> h) noexcept {
        handle_ = h;
        wake = &wake_up;
        block_type* b = target().block_;
        b->tracker.write();
        b->waiter_slot = this; // published by the CAS that sets `waiting` below
#if ONESHOT_HAS_STOP_TOKEN
        if constexpr (Cancellable) {
            if (stop_.token.stop_possible())
                stop_.callback.emplace(stop_.token, stop_handler{this}); // may run at once
        }
#endif
        registered_ = true;
        std::uint32_t s = Sync::load(b->state);
        for (;;) {
            if (s & detail::bits::done) {
                registered_ = false; // completed before we registered: take it now
                return false;
            }
            if (s & detail::bits::cancel) {
                // Our stop callback ran before we registered; consume its bit and do not suspend.
                if (Sync::compare_exchange(b->state, s, s & ~detail::bits::cancel)) {
                    registered_ = false;
                    cancelled_ = true;
                    return false;
                }
                continue;
            }
            // Register. From the moment this succeeds the sender or the stop callback may resume
            // the coroutine on another thread: touch nothing of `this` afterwards.
            if (Sync::compare_exchange(b->state, s, s | detail::bits::waiting)) return true;
        }
    }

    /// The message, `disconnected`, or `cancelled`.
    recv_result await_resume() {
#if ONESHOT_HAS_STOP_TOKEN
        if constexpr (Cancellable) stop_.callback.reset(); // waits for a callback running elsewhere
#endif
        registered_ = false;
        if (cancelled_) return recv_result(unexpect, recv_error::cancelled);
        receiver_type& rx = target();
        if (rx.block_ == nullptr) return recv_result(unexpect, recv_error::disconnected);
        // The channel is complete (`done`): the state seen by await_ready, or a fresh one after
        // a resumption. take() returns the message or `disconnected`.
        const std::uint32_t s = (seen_ & detail::bits::done) ? seen_ : Sync::load(rx.block_->state);
        return rx.take(s);
    }

private:
    template <class U, class S, class Sched, bool C>
    friend class recv_awaiter;

    receiver_type& target() noexcept {
        return borrowed_ != nullptr ? *borrowed_ : owned_;
    }

    /// The same receive with another scheduler or cancellability (before awaiting).
    template <class S, bool C>
    recv_awaiter<T, Sync, S, C> rebind(S s) {
        return borrowed_ != nullptr ? recv_awaiter<T, Sync, S, C>(*borrowed_, std::move(s))
                                    : recv_awaiter<T, Sync, S, C>(std::move(owned_), std::move(s));
    }

    /// Resumes the coroutine; called once by whoever removed the `waiting` bit.
    static void wake_up(detail::waiter* w) noexcept {
        auto* self = static_cast<recv_awaiter*>(w);
        const std::coroutine_handle<> h = self->handle_;
        if constexpr (std::is_same_v<Scheduler, inline_scheduler>) {
            h.resume(); // `self` may be gone after this
        } else {
            // Move the scheduler out first: once it has run, the coroutine (and `self`) may be gone.
            Scheduler s = std::move(self->scheduler_);
            detail::schedule_resume(s, h);
        }
    }

    /// The coroutine's frame is being destroyed while suspended: take the registration back.
    void unregister() noexcept {
        block_type* b = target().block_;
        std::uint32_t s = Sync::load(b->state);
        // Clearing `waiting` while `done` is clear means no sender will ever read our waiter. If
        // `done` is set, the sender already owns the waiter: a user race on this frame.
        while ((s & detail::bits::waiting) && !(s & detail::bits::done)) {
            if (Sync::compare_exchange(b->state, s, s & ~detail::bits::waiting)) break;
        }
    }

#if ONESHOT_HAS_STOP_TOKEN
    void on_stop_requested() noexcept {
        block_type* b = target().block_;
        std::uint32_t s = Sync::load(b->state);
        for (;;) {
            if (s & detail::bits::done) return; // the sender owns the wake-up: the message wins
            if (s & detail::bits::waiting) {
                // Take the waiter from the state; winning this CAS means the sender never will.
                if (Sync::compare_exchange(b->state, s, s & ~detail::bits::waiting)) {
                    cancelled_ = true;
                    wake_up(this); // touches nothing of `this` after resuming
                    return;
                }
                continue;
            }
            // Not registered yet (await_suspend is running): leave the bit for it to consume.
            if (Sync::compare_exchange(b->state, s, s | detail::bits::cancel)) return;
        }
    }

    struct stop_handler {
        recv_awaiter* self;
        void operator()() const noexcept { self->on_stop_requested(); }
    };
#endif

#if !ONESHOT_HAS_STOP_TOKEN
    struct stop_handler {};
#endif

    receiver_type* borrowed_ = nullptr;
    receiver_type owned_;
    ONESHOT_NO_UNIQUE_ADDRESS Scheduler scheduler_;
    std::coroutine_handle<> handle_;
    ONESHOT_NO_UNIQUE_ADDRESS detail::stop_state<stop_handler, Cancellable> stop_;
    std::uint32_t seen_ = 0; // the state await_ready saw
    bool registered_ = false;
    bool cancelled_ = false;
};

template <class T, class Sync>
recv_awaiter<T, Sync, inline_scheduler> receiver<T, Sync>::operator co_await() & noexcept {
    return recv_awaiter<T, Sync, inline_scheduler>(*this, inline_scheduler{});
}
template <class T, class Sync>
recv_awaiter<T, Sync, inline_scheduler> receiver<T, Sync>::operator co_await() && noexcept {
    return recv_awaiter<T, Sync, inline_scheduler>(std::move(*this), inline_scheduler{});
}
template <class T, class Sync>
recv_awaiter<T, Sync, inline_scheduler> receiver<T, Sync>::recv_async() & noexcept {
    return recv_awaiter<T, Sync, inline_scheduler>(*this, inline_scheduler{});
}
template <class T, class Sync>
recv_awaiter<T, Sync, inline_scheduler> receiver<T, Sync>::recv_async() && noexcept {
    return recv_awaiter<T, Sync, inline_scheduler>(std::move(*this), inline_scheduler{});
}
#if ONESHOT_HAS_STOP_TOKEN
template <class T, class Sync>
recv_awaiter<T, Sync, inline_scheduler, true>
receiver<T, Sync>::recv_async(std::stop_token token) & noexcept {
    return recv_awaiter<T, Sync, inline_scheduler>(*this, inline_scheduler{})
        .with_stop_token(std::move(token));
}
template <class T, class Sync>
recv_awaiter<T, Sync, inline_scheduler, true>
receiver<T, Sync>::recv_async(std::stop_token token) && noexcept {
    return recv_awaiter<T, Sync, inline_scheduler>(std::move(*this), inline_scheduler{})
        .with_stop_token(std::move(token));
}
#endif

} // namespace oneshot
