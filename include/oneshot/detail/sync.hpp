/// @file sync.hpp
/// @brief The one seam between the channel's protocol and the machine: every atomic step, every
/// block/wake call and every access to the message slot goes through a `Sync` policy.
///
/// `std_sync` (below) is the production policy: `std::atomic` with `memory_order_seq_cst`, the
/// platform wait of wait.hpp, and empty slot hooks, so it costs nothing. The interleaving checker
/// (tests/checker) supplies a policy with the same members that maps them onto its scheduler.
///
/// A policy provides:
/// - `state_word`: the 32-bit atomic type of the state.
/// - `load`, `compare_exchange` (strong), `fetch_or`, `fetch_and`: seq_cst operations on it.
/// - `wait(word, old, deadline)`: block while the word equals `old` (spurious returns allowed);
///   `deadline` is empty for an untimed wait. `expired(deadline)`: has the deadline passed?
/// - `wake_all(word)`: wake every waiter of the word; called only while the caller keeps the block alive.
/// - `relax()`: one step of a bounded spin; `spin_limit`: how many steps before blocking.
/// - `yield()`: give up the core once; `yield_limit`: how many yields after the spin.
/// - `create<Block>()` / `dispose(Block*)`: the channel's one allocation and its release.
/// - `slot_tracker`: an object with `write()` / `read()` hooks called on every plain access to
///   the message slot and the waiter slot (lets a race detector see them).
#pragma once

#include <oneshot/detail/config.hpp>
#include <oneshot/detail/wait.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include <thread>

namespace oneshot::detail {

#if ONESHOT_TEST_DELAY
/// Test builds only: sleep or yield for a short random time to push threads into rare orderings.
inline void injected_delay() noexcept {
    thread_local std::uint64_t rng = 0x9e3779b97f4a7c15ULL ^ reinterpret_cast<std::uintptr_t>(&rng);
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    switch (rng % 8) {
    case 0:
    case 1: std::this_thread::yield(); break;
    case 2:
        std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int>(rng >> 60)));
        break;
    default: break;
    }
}
#else
inline void injected_delay() noexcept {}
#endif

struct std_sync {
    using state_word = std::atomic<std::uint32_t>;
    using clock = std::chrono::steady_clock;
    using deadline = std::optional<clock::time_point>;

    /// Spin steps a blocking receive takes (reading the state) before it sleeps: a reply that
    /// arrives within about a microsecond is taken without two system calls. Bounded, so a long
    /// wait costs this once and then sleeps.
    static constexpr int spin_limit = ONESHOT_SPIN_LIMIT;
    /// Then how many times it yields its core (re-reading the state) before it sleeps.
    static constexpr int yield_limit = ONESHOT_YIELD_LIMIT;

    static std::uint32_t load(const state_word& w) noexcept {
        injected_delay();
        return w.load(std::memory_order_seq_cst);
    }
    static bool compare_exchange(state_word& w, std::uint32_t& expected,
                                 std::uint32_t desired) noexcept {
        injected_delay();
        return w.compare_exchange_strong(expected, desired, std::memory_order_seq_cst);
    }
    static std::uint32_t fetch_or(state_word& w, std::uint32_t bits) noexcept {
        injected_delay();
        return w.fetch_or(bits, std::memory_order_seq_cst);
    }
    static std::uint32_t fetch_and(state_word& w, std::uint32_t bits) noexcept {
        injected_delay();
        return w.fetch_and(bits, std::memory_order_seq_cst);
    }
    static void wait(const state_word& w, std::uint32_t old, const deadline& d) noexcept {
        if (d)
            wait_on(w, old,
                    std::chrono::duration_cast<std::chrono::nanoseconds>(*d - clock::now()));
        else
            wait_on(w, old, std::nullopt);
    }
    [[nodiscard]] static bool expired(const deadline& d) noexcept {
        return d && clock::now() >= *d;
    }
    static void wake_all(const state_word& w) noexcept {
        injected_delay();
        detail::wake_all(w);
    }
    static void relax() noexcept { spin_pause(); }
    static void yield() noexcept { std::this_thread::yield(); }

    /// The one allocation of a channel, and its release.
    template <class Block>
    [[nodiscard]] static Block* create() {
        return new Block; // default-initialised: the message slot stays raw (no zero-fill)
    }
    template <class Block>
    static void dispose(Block* b) noexcept {
        delete b;
    }

    struct slot_tracker {
        void write() noexcept {}
        void read() noexcept {}
    };
};

} // namespace oneshot::detail
