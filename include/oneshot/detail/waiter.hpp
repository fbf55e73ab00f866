/// @file waiter.hpp
/// @brief One waiting operation, for every channel kind: a blocked thread or a suspended coroutine.
///
/// A waiter is an intrusive node that lives in the waiting thread's stack frame or in the awaiting
/// coroutine's frame: waiting allocates nothing. It is registered in a channel (the one-shot
/// channel's waiter slot, a wait queue) by an atomic step of that channel's protocol, and taken out
/// again by another atomic step. Whoever takes it out (the completing side, a stop request, a
/// timeout, a destroyed awaiter) owns it, exclusively, and if that is not the waiter itself it calls
/// `complete()` exactly once. Because taking it out is one atomic step, every race between those
/// parties ends in exactly one outcome.
///
/// `complete()` knows how to finish: it wakes a blocked thread, resumes a coroutine inline, or hands
/// it to the coroutine's resumer. After it starts, the completer touches nothing of the node: the
/// thread may return, the coroutine may run on and destroy its frame.
#pragma once

#include <oneshot/detail/config.hpp>
#include <oneshot/resumer.hpp>

#include <coroutine>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

namespace oneshot::detail {

/// The node. Kinds derive from it and give the constructor how they complete.
class waiter {
public:
    waiter(const waiter&) = delete;
    waiter& operator=(const waiter&) = delete;

    /// Finishes the wait: called exactly once, by whoever took the node out of the channel.
    void complete() noexcept { complete_(this); }

protected:
    using complete_fn = void (*)(waiter*) noexcept;
    explicit waiter(complete_fn f) noexcept : complete_(f) {}
    ~waiter() = default;

private:
    complete_fn complete_;
};

/// A thread blocked in a receive or send. It sleeps on a word of its own; completing it sets the
/// word and wakes it.
template <class Platform>
class thread_waiter final : public waiter {
public:
    thread_waiter() noexcept : waiter(&wake) {}

    /// Sleeps until completed (true) or until `deadline` passes (false). Never spins: the spin,
    /// if any, happens before the node is registered.
    [[nodiscard]] bool wait(const typename Platform::deadline& deadline) noexcept {
        for (;;) {
            if (Platform::load(word_) != 0) return true; // completed: the completer is done with us
            if (Platform::expired(deadline)) return false;
            Platform::wait(word_, 0, deadline); // returns on wake-up, timeout, or spuriously
        }
    }

    /// Sleeps until completed. For a thread that lost the race to take its own node back: the
    /// winner is about to complete it, so this wait is short.
    void wait_completed() noexcept { (void)wait(std::nullopt); }

private:
    static void wake(waiter* w) noexcept {
        auto& word = static_cast<thread_waiter*>(w)->word_;
        // Publish first: from this store on the thread may return and its frame be reused. The
        // wake-up uses the word's address only (a number to the kernel, a key into the wait table),
        // so it is safe even then, and a thread that reads 1 never sleeps again.
        Platform::store(word, 1);
        Platform::wake_one(word);
    }

    typename Platform::state_word word_{0};
};

/// A suspended coroutine. Completing it resumes the coroutine inline or through its resumer.
template <class Resumer>
class coroutine_waiter final : public waiter {
public:
    explicit coroutine_waiter(Resumer r) noexcept(std::is_nothrow_move_constructible_v<Resumer>)
        : waiter(&resume), resumer_(std::move(r)) {}
    /// Moves a node that is not registered anywhere.
    coroutine_waiter(coroutine_waiter&& other) noexcept(
        std::is_nothrow_move_constructible_v<Resumer>)
        : waiter(&resume), resumer_(std::move(other.resumer_)) {}

    /// The coroutine to resume; set before the node is registered.
    void set_handle(std::coroutine_handle<> h) noexcept { handle_ = h; }
    /// The resumer (before the node is registered).
    [[nodiscard]] Resumer& resumer() noexcept { return resumer_; }

private:
    static void resume(waiter* w) noexcept {
        auto* self = static_cast<coroutine_waiter*>(w);
        const std::coroutine_handle<> h = self->handle_;
        if constexpr (std::is_same_v<Resumer, inline_resumer>) {
            h.resume(); // the frame, and `self` with it, may be gone after this
        } else {
            // Move the resumer out first: once it has run, the frame may be gone.
            Resumer r = std::move(self->resumer_);
            resume_through(r, h);
        }
    }

    std::coroutine_handle<> handle_;
    ONESHOT_NO_UNIQUE_ADDRESS Resumer resumer_;
};

} // namespace oneshot::detail
