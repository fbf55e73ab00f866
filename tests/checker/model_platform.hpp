/// @file model_platform.hpp
/// @brief The checker's platform policy: the channel's seam (include/oneshot/detail/platform.hpp)
/// mapped onto the deterministic scheduler of sched.hpp.
///
/// Every atomic step is a scheduling point and is checked to touch a live block (a channel's state
/// word) or a live wait (a thread waiter's wake-up word); `wait` and `wake_one` are modelled futex
/// operations; `expired` is a nondeterministic choice (model time: a deadline may pass at any step,
/// and once passed stays passed); the slot hooks feed the race detector; `create`/`dispose`
/// register, poison and quarantine the block. There is no spin: a spin step is a load with no
/// effect on other threads, it would only multiply schedules.
///
/// `Bug` selects a test-only broken variant that proves the checker can fail (production code is
/// untouched; the real protocol runs through a deliberately broken seam):
/// - `bug::wake_before_publish`: `store` (a thread waiter's completion) performs the wake-up
///   *before* it publishes (and `wake_one` does nothing, as the wake moved): "the completer wakes
///   before publishing". The checker must report a lost wake-up.
/// - `bug::early_free`: a `fetch_and` that drops the receiver's reference reports the sender as
///   already gone, so the receiver frees the block while the sender still uses it. The checker
///   must report a use after free (or a double free).
/// - `bug::early_return`: a thread waiter's word reads as completed while it is not, so a thread
///   that must wait for the sender to finish completing its waiter returns at once. The checker
///   must report the completion touching the waiter after its wait ended.
#pragma once

#include "sched.hpp"

#include <oneshot/oneshot.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace checker {

/// Knobs shared by every instantiation.
inline bool yield_at_slot_hooks = true;

enum class bug { none, wake_before_publish, early_free, early_return };

template <bug Bug>
struct model_platform {
    static constexpr bool Planted = Bug == bug::wake_before_publish;
    struct state_word {
        std::atomic<std::uint32_t> v;
        mutable vclock vc{}; ///< the release history of the word (every RMW releases)
        explicit state_word(std::uint32_t x) noexcept : v(x) { node_word_born(this); }
        state_word(const state_word&) = delete;
        state_word& operator=(const state_word&) = delete;
        ~state_word() { node_word_died(this); }
    };
    using clock = std::chrono::steady_clock;
    using deadline = std::optional<clock::time_point>;

    static constexpr oneshot::detail::spin_policy spin{0, 0};

    /// A visible step on `w`: the scheduler may switch here; then `w` must be live.
    static void step(const state_word& w, const char* what) {
        point();
        resolve_pending();
        live_word(&w, what);
    }
    static void acquire(const state_word& w) { join(my_vc(), w.vc); }
    static void release(const state_word& w) {
        join(w.vc, my_vc());
        ++my_vc()[static_cast<std::size_t>(cur_tid)];
    }

    static std::uint32_t load(const state_word& w) noexcept {
        step(w, "load");
        const std::uint32_t r = w.v.load(std::memory_order_seq_cst);
        acquire(w);
        note("load", r);
        if constexpr (Bug == bug::early_return) {
            // PLANTED BUG: a waiter's word (not in a block) reads as completed.
            if (find_block(&w) == nullptr) return 1;
        }
        return r;
    }
    static bool compare_exchange(state_word& w, std::uint32_t& expected,
                                 std::uint32_t desired) noexcept {
        step(w, "compare_exchange");
        const std::uint32_t e = expected;
        const bool ok = w.v.compare_exchange_strong(expected, desired, std::memory_order_seq_cst);
        acquire(w);
        if (ok) release(w);
        note(ok ? "cas ok" : "cas failed", e, ok ? desired : expected);
        return ok;
    }
    static std::uint32_t fetch_or(state_word& w, std::uint32_t bits) noexcept {
        step(w, "fetch_or");
        const std::uint32_t r = w.v.fetch_or(bits, std::memory_order_seq_cst);
        acquire(w);
        release(w);
        note("fetch_or", bits, r);
        return r;
    }
    static void store(state_word& w, std::uint32_t v) noexcept {
        if constexpr (Planted) {
            // PLANTED BUG: wake first, publish afterwards (a separate step).
            step(w, "wake (planted, before publishing)");
            note("wake (planted, before publishing)");
            wake_word(&w);
        }
        step(w, "store");
        w.v.store(v, std::memory_order_seq_cst);
        release(w);
        note("store", v);
    }
    static std::uint32_t fetch_and(state_word& w, std::uint32_t bits) noexcept {
        step(w, "fetch_and");
        const std::uint32_t r = w.v.fetch_and(bits, std::memory_order_seq_cst);
        acquire(w);
        release(w);
        note("fetch_and", bits, r);
        if constexpr (Bug == bug::early_free) {
            // PLANTED BUG: the receiver leaving is told the sender already left.
            if (!(bits & oneshot::detail::bits::receiver))
                return r & ~oneshot::detail::bits::sender;
        }
        return r;
    }
    static void wait(const state_word& w, std::uint32_t old, const deadline& d) noexcept {
        step(w, "wait");
        const std::uint32_t now = w.v.load(std::memory_order_seq_cst);
        note("wait", old, now);
        if (now != old) return; // futex: the word changed, return at once
        if (d && S.threads[static_cast<std::size_t>(cur_tid)]->time_passed)
            return; // deadline already passed
        block_on(&w, d.has_value());
        note("wait returns");
    }
    [[nodiscard]] static bool expired(const deadline& d) noexcept {
        if (!d || cur_tid == 0) return false;
        lthread& me = *S.threads[static_cast<std::size_t>(cur_tid)];
        if (!me.time_passed && choose(2) == 1) me.time_passed = true; // time may pass at any step
        note("expired?", me.time_passed);
        return me.time_passed;
    }
    /// The word may be gone (its wait ended): an address only, as for the futex.
    static void wake_one(const state_word& w) noexcept {
        point();
        resolve_pending();
        note(Planted ? "wake_one (planted: no-op)" : "wake_one");
        if constexpr (!Planted) wake_word(&w);
    }
    static void relax() noexcept {}

    template <class Block>
    [[nodiscard]] static Block* create() {
        return create_block<Block>();
    }
    template <class Block>
    static void dispose(Block* b) noexcept {
        dispose_block(b);
    }

    struct slot_tracker {
        unsigned char unused = 0; // not empty: it must lie inside the block
        void write() noexcept { slot_hook(this, true, yield_at_slot_hooks); }
        void read() noexcept { slot_hook(this, false, yield_at_slot_hooks); }
    };
};

using good_platform = model_platform<bug::none>;
using planted_platform = model_platform<bug::wake_before_publish>;
using planted_free_platform = model_platform<bug::early_free>;
using planted_return_platform = model_platform<bug::early_return>;

} // namespace checker
