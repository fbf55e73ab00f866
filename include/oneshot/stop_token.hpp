/// @file stop_token.hpp
/// @brief Stop tokens on every standard library: the `oneshot::stoppable_token` concept, the free
/// `oneshot::never_stop_token`, and the allocation-free `oneshot::inplace_stop_source` with its
/// `inplace_stop_token` and `inplace_stop_callback`.
///
/// A *stoppable token* (the shape of P2300's `std::stoppable_token`) answers `stop_requested()` and
/// `stop_possible()`, is cheap to copy and compare, and names a callback type that runs a callable
/// when stop is requested: `oneshot::stop_callback_for_t<Token, F>`. `std::stop_token` (where the
/// standard library has it: `ONESHOT_HAS_STOP_TOKEN`), `oneshot::inplace_stop_token`,
/// `oneshot::never_stop_token`, stdexec's `inplace_stop_token` and any user type with the same
/// members all model `oneshot::stoppable_token`.
///
/// `oneshot::inplace_stop_source` has the semantics of `std::stop_source` / `std::stop_callback`
/// but allocates nothing: a registered callback is a node inside its `inplace_stop_callback`
/// object. In exchange the source is neither copyable nor movable, and it must outlive every token
/// and callback that refers to it.
#pragma once

#include <oneshot/detail/config.hpp>
#include <oneshot/detail/wait.hpp>

#include <atomic>
#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#if ONESHOT_HAS_STOP_TOKEN
#include <stop_token>
#endif

namespace oneshot {

namespace detail {
/// The callback type of `Token` for the callable `F`: `Token::callback_type<F>` when the token
/// names one (P2300 tokens), `std::stop_callback<F>` for `std::stop_token`; none otherwise.
template <class Token, class F>
struct stop_callback_for {};

template <class Token, class F>
    requires requires {
        typename Token::template callback_type<F>;
    }
struct stop_callback_for<Token, F> {
    using type = typename Token::template callback_type<F>;
};

#if ONESHOT_HAS_STOP_TOKEN
// More specialised than the one above, so it is chosen even where std::stop_token also names a
// callback_type (C++26): both name std::stop_callback<F>.
template <class F>
struct stop_callback_for<std::stop_token, F> {
    using type = std::stop_callback<F>;
};
#endif

/// How many times `inplace_stop_source` re-reads a word (with a CPU pause between reads) before it
/// sleeps on it: its lock and its wait for a running callback are held for a few instructions only.
inline constexpr int stop_spin_limit = 64;

/// The callable the concept registers (in an unevaluated context) to check a token's callback.
struct stop_probe {
    void operator()() const noexcept {}
};
} // namespace detail

/// The callback type that runs `F` when `Token` requests stop: `Token::callback_type<F>`, or
/// `std::stop_callback<F>` for `std::stop_token`. It is constructed from `(token, f)`; it runs `f`
/// at once if stop was already requested, and its destructor deregisters `f`.
template <class Token, class F>
using stop_callback_for_t = typename detail::stop_callback_for<Token, F>::type;

namespace detail {
/// `token.stop_requested()` and `token.stop_possible()` on a `const Token&`: `noexcept`, `bool`.
template <class Token>
concept nothrow_bool_stop_queries = requires(const Token& token) {
    requires std::same_as<decltype(token.stop_requested()), bool>;
    requires std::same_as<decltype(token.stop_possible()), bool>;
    requires noexcept(token.stop_requested());
    requires noexcept(token.stop_possible());
};

/// `stop_callback_for_t<Token, F>` exists and is constructible from `(const Token&, F)`. (Spelled
/// `Token const&` below: clang-format 14 misreads `const Token&` in this position.)
template <class Token, class F>
concept has_stop_callback_for =
    std::constructible_from<stop_callback_for_t<Token, F>, Token const&, F>;
} // namespace detail

/// A stop token: `stop_requested()` and `stop_possible()` (both `noexcept`, returning `bool`),
/// copyable without throwing, equality comparable (equal tokens share their stop state), and
/// naming a callback type constructible from `(const Token&, f)` (see `stop_callback_for_t`).
///
/// Modelled by `std::stop_token`, `oneshot::inplace_stop_token`, `oneshot::never_stop_token`,
/// stdexec's `inplace_stop_token` and user types with the same shape.
template <class Token>
concept stoppable_token = std::copyable<Token> && std::is_nothrow_copy_constructible_v<Token> &&
    std::equality_comparable<Token> && detail::nothrow_bool_stop_queries<Token> &&
    detail::has_stop_callback_for<Token, detail::stop_probe>;

/// A stoppable token whose type alone says stop can never be requested: `Token::stop_possible()`
/// is a constant expression equal to false. Code taking such a token can skip all stop handling.
template <class Token>
concept unstoppable_token = stoppable_token<Token> && requires {
    requires std::bool_constant<!Token::stop_possible()>::value;
};

class never_stop_token;

namespace detail {
/// The callback type of `never_stop_token`: empty, and never runs (nor stores) its callable.
struct never_stop_callback {
    template <class Token, class Init>
        requires std::same_as<Token, never_stop_token>
    explicit constexpr never_stop_callback(const Token& /*token*/, Init&& /*init*/) noexcept {}
};
} // namespace detail

/// A token for operations that cannot be cancelled: stop is never possible nor requested, and its
/// callback type is an empty type that never calls its callable. Every member is free (empty types,
/// constant answers), so a generic operation instantiated with it costs nothing extra.
class never_stop_token {
public:
    /// The callback type for any callable: constructible from `(never_stop_token, f)`, empty, and
    /// it never calls `f`.
    template <class F>
    using callback_type = detail::never_stop_callback;

    /// Always false.
    [[nodiscard]] static constexpr bool stop_requested() noexcept { return false; }
    /// Always false: nothing can request stop.
    [[nodiscard]] static constexpr bool stop_possible() noexcept { return false; }
    /// Always true: every `never_stop_token` is the same.
    [[nodiscard]] friend constexpr bool operator==(never_stop_token /*a*/,
                                                   never_stop_token /*b*/) noexcept {
        return true;
    }
};

class inplace_stop_source;
class inplace_stop_token;
template <class F>
class inplace_stop_callback;

namespace detail {
/// The intrusive node of a registered `inplace_stop_callback`: list links, the type-erased call,
/// and what request_stop and the destructor need to hand a running callback over safely.
class inplace_stop_callback_base {
protected:
    using execute_fn = void (*)(inplace_stop_callback_base*) noexcept;

    inplace_stop_callback_base(const inplace_stop_source* source, execute_fn execute) noexcept
        : source_(source), execute_(execute) {}
    ~inplace_stop_callback_base() = default;

public:
    inplace_stop_callback_base(const inplace_stop_callback_base&) = delete;
    inplace_stop_callback_base& operator=(const inplace_stop_callback_base&) = delete;

protected:
    /// Registers the node, or runs the callback at once if stop was already requested.
    void register_callback() noexcept;
    /// Deregisters the node; waits for the callback if it is running on another thread.
    void deregister_callback() noexcept;

private:
    friend class oneshot::inplace_stop_source;

    const inplace_stop_source* source_; // null: not registered (no source, or already ran)
    execute_fn execute_;
    // The list links, guarded by the source's lock. `prev_` points at the pointer that points at
    // this node; it is null once request_stop has taken the node off the list.
    inplace_stop_callback_base* next_ = nullptr;
    inplace_stop_callback_base** prev_ = nullptr;
    // Set by request_stop, on its own thread, while it runs this callback: the destructor, when
    // it runs on that same thread during the call, sets the flag so that request_stop leaves the
    // destroyed node alone.
    bool* removed_during_callback_ = nullptr;
    // Set by request_stop after the callback returned; a destructor on another thread waits for it.
    std::atomic<bool> completed_{false};
};
} // namespace detail

/// A token of an `inplace_stop_source`: a pointer to the source, cheap to copy. A
/// default-constructed token has no source: `stop_possible()` is false and stop is never requested.
///
/// Thread safety: a token is a value; copies may be used concurrently from any threads. The source
/// must outlive every use of its tokens.
class inplace_stop_token {
public:
    /// The callback type for a callable `F`: `inplace_stop_callback<F>`.
    template <class F>
    using callback_type = inplace_stop_callback<F>;

    /// A token with no source: stop is neither possible nor ever requested.
    inplace_stop_token() noexcept = default;

    /// True once `request_stop()` was called on the source (false without a source). A true result
    /// synchronises with that call: what the requesting thread did before it is visible.
    [[nodiscard]] bool stop_requested() const noexcept;
    /// True when the token has a source (even if stop was already requested).
    [[nodiscard]] bool stop_possible() const noexcept { return source_ != nullptr; }

    /// Exchanges the sources of two tokens.
    void swap(inplace_stop_token& other) noexcept { std::swap(source_, other.source_); }

    /// True when both tokens refer to the same source, or both have none.
    [[nodiscard]] friend bool operator==(const inplace_stop_token& a,
                                         const inplace_stop_token& b) noexcept = default;

private:
    friend class inplace_stop_source;
    template <class F>
    friend class inplace_stop_callback;

    explicit inplace_stop_token(const inplace_stop_source* source) noexcept : source_(source) {}

    const inplace_stop_source* source_ = nullptr;
};

/// A stop source that allocates nothing: the in-place counterpart of `std::stop_source`, usable
/// with every standard library (including those without `std::stop_token`).
///
/// `request_stop()` returns true for the first request only, and runs every registered callback,
/// in an unspecified order, on the requesting thread before it returns. A callback registered
/// afterwards runs at once, in its constructor.
///
/// Not copyable nor movable: tokens and callbacks hold its address. It must outlive all of them;
/// destroying it while a callback is still registered is undefined behaviour.
///
/// Thread safety: every member function may be called concurrently from any threads, together
/// with the construction and destruction of callbacks on its tokens. Locking is internal and brief
/// (a bounded spin, then a sleep in the kernel; never an unbounded spin).
class inplace_stop_source {
public:
    /// A source on which stop has not been requested.
    inplace_stop_source() noexcept = default;
    inplace_stop_source(const inplace_stop_source&) = delete;
    inplace_stop_source& operator=(const inplace_stop_source&) = delete;
    inplace_stop_source(inplace_stop_source&&) = delete;
    inplace_stop_source& operator=(inplace_stop_source&&) = delete;
    /// Destroys the source; no callback may still be registered and no token still be used.
    ~inplace_stop_source() = default;

    /// A token referring to this source.
    [[nodiscard]] inplace_stop_token get_token() const noexcept { return inplace_stop_token(this); }

    /// True once `request_stop()` was called. A true result synchronises with that call.
    [[nodiscard]] bool stop_requested() const noexcept {
        // Acquire: pairs with the release of the CAS in request_stop that set the bit (or of a
        // later release RMW on the word), so the requester's prior writes are visible to us.
        return (state_.load(std::memory_order_acquire) & stop_bit) != 0;
    }

    /// Always true: an in-place source can always be stopped.
    [[nodiscard]] static constexpr bool stop_possible() noexcept { return true; }

    /// Requests stop. The first call sets the stop state, runs every registered callback on the
    /// calling thread, one at a time, and returns true. Later calls, including one made from inside
    /// a callback, return false at once (without waiting for the first call's callbacks). Callbacks
    /// must not throw: one that throws terminates the program.
    bool request_stop() noexcept;

private:
    friend class inplace_stop_token;
    friend class detail::inplace_stop_callback_base;

    static constexpr std::uint32_t locked_bit = 1;  // the callback list is being read or changed
    static constexpr std::uint32_t stop_bit = 2;    // stop was requested (never cleared)
    static constexpr std::uint32_t waiters_bit = 4; // a thread sleeps on the word for the lock
    // `done_`: bit 0 says a destructor sleeps waiting for a running callback; the other bits count
    // how often such sleepers were woken, so that every wake changes the word's value.
    static constexpr std::uint32_t done_waiter_bit = 1;

    /// Takes the lock, setting `extra` bits with it. With `unless_stopped`, returns false without
    /// taking it when stop was requested. Spins a bounded number of times, then sleeps.
    bool lock(bool unless_stopped, std::uint32_t extra) const noexcept;
    /// Releases the lock and wakes the threads sleeping for it.
    void unlock() const noexcept;
    /// Adds `cb` to the list; false (nothing added) if stop was already requested.
    bool try_add(detail::inplace_stop_callback_base* cb) const noexcept;
    /// Takes `cb` off the list, or waits for it if request_stop runs it on another thread.
    void remove(detail::inplace_stop_callback_base* cb) const noexcept;
    /// Blocks until request_stop, on another thread, has finished running `cb`.
    void wait_until_completed(const detail::inplace_stop_callback_base& cb) const noexcept;

    mutable detail::wait_word state_{0};
    mutable detail::wait_word done_{0};
    mutable detail::inplace_stop_callback_base* callbacks_ = nullptr; // guarded by the lock
    mutable std::thread::id notifying_thread_;                        // guarded by the lock
};

/// Runs a callable `F` when stop is requested on an `inplace_stop_source`: the in-place
/// counterpart of `std::stop_callback<F>`, and `inplace_stop_token::callback_type<F>`.
///
/// Constructing it registers `f` with the token's source, or runs `f` at once, in the constructor,
/// if stop was already requested (with a token without a source, `f` never runs). `f` is invoked
/// at most once, as an rvalue, on the thread that requests stop. It must not throw: the call is
/// made from `noexcept` code, so a throwing callback terminates the program.
///
/// The destructor deregisters `f`. If `f` is running on another thread at that moment, the
/// destructor waits for it to return; if it is running on the current thread (`f` destroys its
/// own callback object, directly or through something it calls), the destructor returns at once
/// and `request_stop` no longer touches the object. After the destructor returns, `f` is not
/// running and will never run.
///
/// Neither copyable nor movable (the source holds its address). Thread safety: construction and
/// destruction may race with `request_stop` on any thread.
template <class F>
class inplace_stop_callback : private detail::inplace_stop_callback_base {
    static_assert(std::invocable<F> && std::destructible<F>,
                  "inplace_stop_callback<F>: F must be a destructible type invocable as an rvalue "
                  "with no arguments");

public:
    /// The callable type.
    using callback_type = F;

    /// Stores `F(std::forward<Init>(init))` and registers it with `token`'s source; runs it at
    /// once if stop was already requested. If constructing `F` throws, nothing is registered.
    template <class Init>
        requires std::constructible_from<F, Init>
    explicit inplace_stop_callback(inplace_stop_token token,
                                   Init&& init) noexcept(std::is_nothrow_constructible_v<F, Init>)
        : inplace_stop_callback_base(token.source_, &execute_impl),
          callback_(std::forward<Init>(init)) {
        register_callback();
    }

    /// Deregisters the callable (waiting for it if it runs on another thread), then destroys it.
    ~inplace_stop_callback() { deregister_callback(); }

    inplace_stop_callback(const inplace_stop_callback&) = delete;
    inplace_stop_callback& operator=(const inplace_stop_callback&) = delete;
    inplace_stop_callback(inplace_stop_callback&&) = delete;
    inplace_stop_callback& operator=(inplace_stop_callback&&) = delete;

private:
    static void execute_impl(detail::inplace_stop_callback_base* base) noexcept {
        std::invoke(std::move(static_cast<inplace_stop_callback*>(base)->callback_));
    }

    ONESHOT_NO_UNIQUE_ADDRESS F callback_;
};

/// Deduces the callable type, like `std::stop_callback`'s deduction guide.
template <class F>
inplace_stop_callback(inplace_stop_token, F) -> inplace_stop_callback<F>;

// ---- Implementation --------------------------------------------------------------------------

inline bool inplace_stop_token::stop_requested() const noexcept {
    return source_ != nullptr && source_->stop_requested();
}

inline bool inplace_stop_source::lock(bool unless_stopped, std::uint32_t extra) const noexcept {
    // Acquire (here and on every re-read below): when we see the stop bit and give up, the caller
    // runs its callback at once, which must see what the requester did before requesting stop.
    std::uint32_t s = state_.load(std::memory_order_acquire);
    for (int spins = 0;;) {
        if (unless_stopped && (s & stop_bit) != 0) return false;
        if ((s & locked_bit) == 0) {
            // Acquire on success: the previous holder's writes to the list (published by the
            // release in unlock) happen-before ours. Release as well: when `extra` sets the stop
            // bit, stop_requested() readers acquire this write.
            if (state_.compare_exchange_weak(s, s | locked_bit | extra, std::memory_order_acq_rel,
                                             std::memory_order_acquire))
                return true;
            continue;
        }
        if (spins < detail::stop_spin_limit) {
            ++spins;
            detail::spin_pause();
            s = state_.load(std::memory_order_acquire); // acquire: see the first comment
            continue;
        }
        if ((s & waiters_bit) == 0) {
            // Announce a sleeper. No ordering is needed for that (acquire only because the
            // failure order, a re-read like the others, may not be stronger): unlock() clears the
            // bit with an RMW on the same word, and RMWs on one word are totally ordered, so either
            // it sees our bit (and wakes us) or it ran first and our CAS fails on the new value.
            if (!state_.compare_exchange_weak(s, s | waiters_bit, std::memory_order_acquire,
                                              std::memory_order_acquire))
                continue;
            s |= waiters_bit;
        }
        // Returns at once if the word no longer equals `s` (the lock was released meanwhile).
        detail::wait_on(state_, s, std::nullopt);
        s = state_.load(std::memory_order_acquire); // acquire: see the first comment
    }
}

inline void inplace_stop_source::unlock() const noexcept {
    // Release: publishes our changes to the list to the next holder's acquire CAS. Clearing the
    // waiters bit in the same RMW hands every announced sleeper to the wake below.
    const std::uint32_t old =
        state_.fetch_and(~(locked_bit | waiters_bit), std::memory_order_release);
    if ((old & waiters_bit) != 0) detail::wake_all(state_);
}

inline bool inplace_stop_source::try_add(detail::inplace_stop_callback_base* cb) const noexcept {
    if (!lock(/*unless_stopped=*/true, 0)) return false;
    cb->next_ = callbacks_;
    cb->prev_ = &callbacks_;
    if (callbacks_ != nullptr) callbacks_->prev_ = &cb->next_;
    callbacks_ = cb;
    unlock();
    return true;
}

inline bool inplace_stop_source::request_stop() noexcept {
    // Setting the stop bit together with the lock: a callback that registers from now on sees the
    // bit and runs itself; every callback registered before is on the list we drain.
    if (!lock(/*unless_stopped=*/true, stop_bit)) return false;
    notifying_thread_ = std::this_thread::get_id();
    while (callbacks_ != nullptr) {
        detail::inplace_stop_callback_base* cb = callbacks_;
        callbacks_ = cb->next_;
        if (callbacks_ != nullptr) callbacks_->prev_ = &callbacks_;
        cb->prev_ = nullptr; // off the list: its destructor now waits for (or skips) the call
        unlock();

        bool removed_during_callback = false;
        cb->removed_during_callback_ = &removed_during_callback;
        cb->execute_(cb);
        if (!removed_during_callback) {
            cb->removed_during_callback_ = nullptr;
            // Seq_cst, like the two operations on `done_` here and in wait_until_completed: we
            // store `completed_` then read the sleeper bit, the destructor sets the bit then reads
            // `completed_`; in the single total order one of us sees the other's write, so a
            // sleeper is never missed. Also a release: the callback's effects happen-before the
            // destructor that reads true. From here on `cb` may be freed: we never touch it again.
            cb->completed_.store(true, std::memory_order_seq_cst);
            // Seq_cst: see above.
            const std::uint32_t done = done_.load(std::memory_order_seq_cst);
            if ((done & done_waiter_bit) != 0) {
                // Seq_cst: see above. Adding 1 to the odd value clears the bit and moves the count
                // on, so the word differs from any value a sleeper waits on. Only this thread
                // changes an odd value (sleepers set the bit only when it is clear).
                done_.fetch_add(1, std::memory_order_seq_cst);
                detail::wake_all(done_);
            }
        }
        lock(/*unless_stopped=*/false, 0);
    }
    unlock();
    return true;
}

inline void inplace_stop_source::wait_until_completed(
    const detail::inplace_stop_callback_base& cb) const noexcept {
    for (int spins = 0; spins < detail::stop_spin_limit; ++spins) {
        // Acquire: pairs with request_stop's store, so the callback's effects happen-before our
        // return (and the object's destruction).
        if (cb.completed_.load(std::memory_order_acquire)) return;
        detail::spin_pause();
    }
    for (;;) {
        // Seq_cst: see request_stop (store `completed_`, then read the bit; we set the bit, then
        // read `completed_`).
        std::uint32_t done = done_.load(std::memory_order_seq_cst);
        if ((done & done_waiter_bit) == 0) {
            // Seq_cst: see above. Fails if request_stop moved the count on meanwhile: re-read.
            if (!done_.compare_exchange_strong(done, done | done_waiter_bit,
                                               std::memory_order_seq_cst))
                continue;
            done |= done_waiter_bit;
        }
        // Seq_cst: see above; also an acquire, as in the spin.
        if (cb.completed_.load(std::memory_order_seq_cst)) return;
        // Returns at once if request_stop has already moved the count on since we read `done`.
        detail::wait_on(done_, done, std::nullopt);
    }
}

inline void inplace_stop_source::remove(detail::inplace_stop_callback_base* cb) const noexcept {
    lock(/*unless_stopped=*/false, 0);
    if (cb->prev_ != nullptr) {
        // Still on the list: it has not run and now never will.
        *cb->prev_ = cb->next_;
        if (cb->next_ != nullptr) cb->next_->prev_ = cb->prev_;
        unlock();
        return;
    }
    // request_stop took it off the list: it is running, about to run, or has run.
    const std::thread::id notifier = notifying_thread_;
    unlock();
    if (notifier == std::this_thread::get_id()) {
        // request_stop runs on this thread, so we are inside the callback (or it already
        // returned): waiting would deadlock. Tell request_stop that the object is gone.
        if (cb->removed_during_callback_ != nullptr) *cb->removed_during_callback_ = true;
        return;
    }
    wait_until_completed(*cb);
}

namespace detail {
inline void inplace_stop_callback_base::register_callback() noexcept {
    if (source_ == nullptr) return;
    if (!source_->try_add(this)) {
        // Stop was already requested: run now, and leave nothing for the destructor to undo.
        source_ = nullptr;
        execute_(this);
    }
}

inline void inplace_stop_callback_base::deregister_callback() noexcept {
    if (source_ != nullptr) source_->remove(this);
}
} // namespace detail

} // namespace oneshot
