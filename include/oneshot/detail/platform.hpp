/// @file platform.hpp
/// @brief `oneshot::default_platform`: the one seam between the channel's protocol and the machine.
///
/// Every atomic step on a channel's state word or a waiter's word, every sleep and wake-up, the
/// channel's allocation and every plain access to the message slot goes through a platform policy:
/// a class with the static members below. `default_platform` is the production policy:
/// `std::atomic` with `memory_order_seq_cst`, the platform wait of wait.hpp, the global heap, and
/// empty slot hooks, so the seam costs nothing. The project's interleaving checker supplies a policy
/// with the same members that maps them onto its deterministic scheduler, so it runs the very code
/// users run (the `folly/synchronization` idea of one body over several atomics).
///
/// A policy provides:
/// - `state_word`: the 32-bit atomic type of a channel's state and of a waiter's wake-up word.
/// - `load`, `store`, `compare_exchange` (strong), `fetch_or`, `fetch_and`: seq_cst operations.
/// - `wait(word, old, deadline)`: block while the word equals `old` (spurious returns allowed);
///   `deadline` is empty for an untimed wait. `expired(deadline)`: has the deadline passed?
/// - `wake_one(word)`: wake the thread blocked on the word (a waiter's word has one sleeper). The
///   word may be gone once the call starts (it is used as an address only), so a waker may
///   publish, then wake.
/// - `spin`: the `detail::spin_policy` of a blocking wait; `relax()`: one step of that spin.
/// - `create<Block>()` / `dispose(Block*)`: the channel's one allocation and its release.
/// - `slot_tracker`: an object with `write()` / `read()` hooks called on every plain access to
///   the message slot and the waiter slot (lets a race detector see them).
#pragma once

#include <oneshot/detail/config.hpp>
#include <oneshot/detail/spin.hpp>
#include <oneshot/detail/wait.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace oneshot {

/// The production platform policy of every channel: seq_cst `std::atomic`, the operating system's
/// wait on an address (futex, WaitOnAddress, or a table of condition variables), the global heap.
struct default_platform {
    /// A channel's state word, and a blocked thread's wake-up word.
    using state_word = std::atomic<std::uint32_t>;
    /// The clock of every deadline.
    using clock = std::chrono::steady_clock;
    /// A deadline; empty means "wait forever".
    using deadline = std::optional<clock::time_point>;

    /// A blocking wait spins for at most 20 microseconds (a few times the cost of a sleep plus a
    /// wake-up: a reply from a thread that must itself be woken first still arrives within it)
    /// before it sleeps, and only while spinning keeps paying off (see detail/spin.hpp); with no
    /// budget left, one wait in 64 tries again.
    static constexpr detail::spin_policy spin{20'000, 64};

    /// Reads the word.
    [[nodiscard]] static std::uint32_t load(const state_word& w) noexcept {
        return w.load(std::memory_order_seq_cst);
    }
    /// Writes the word.
    static void store(state_word& w, std::uint32_t v) noexcept {
        w.store(v, std::memory_order_seq_cst);
    }
    /// Compare-and-swap; on failure `expected` receives the current value.
    static bool compare_exchange(state_word& w, std::uint32_t& expected,
                                 std::uint32_t desired) noexcept {
        return w.compare_exchange_strong(expected, desired, std::memory_order_seq_cst);
    }
    /// Sets `bits`; returns the previous value.
    static std::uint32_t fetch_or(state_word& w, std::uint32_t bits) noexcept {
        return w.fetch_or(bits, std::memory_order_seq_cst);
    }
    /// Keeps only `bits`; returns the previous value.
    static std::uint32_t fetch_and(state_word& w, std::uint32_t bits) noexcept {
        return w.fetch_and(bits, std::memory_order_seq_cst);
    }
    /// Blocks while `w == old`, until `d` (if any); may return spuriously.
    static void wait(const state_word& w, std::uint32_t old, const deadline& d) noexcept {
        if (!d) return detail::wait_on(w, old, std::nullopt);
        const auto left = *d - clock::now();
        if (left <= left.zero()) return;
        detail::wait_on(w, old, std::chrono::duration_cast<std::chrono::nanoseconds>(left));
    }
    /// Whether the deadline `d` has passed (never, for an empty one).
    [[nodiscard]] static bool expired(const deadline& d) noexcept {
        return d && clock::now() >= *d;
    }
    /// Wakes the thread blocked on `w`; `w` is used as an address only.
    static void wake_one(const state_word& w) noexcept { detail::wake_one(w); }
    /// One step of a spin: a CPU pause.
    static void relax() noexcept { detail::spin_pause(); }

    /// The one allocation of a channel.
    template <class Block>
    [[nodiscard]] static Block* create() {
        return new Block; // default-initialised: the message slot stays raw (no zero-fill)
    }
    /// Its release.
    template <class Block>
    static void dispose(Block* b) noexcept {
        delete b;
    }

    /// Hooks on plain accesses to the shared slots: nothing in production.
    struct slot_tracker {
        /// Before a plain write of a slot.
        void write() noexcept {}
        /// Before a plain read of a slot.
        void read() noexcept {}
    };
};

} // namespace oneshot
