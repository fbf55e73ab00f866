/// @file spin.hpp
/// @brief The bounded, adaptive spin a blocking wait takes before it sleeps.
///
/// A thread about to sleep first re-reads the condition it waits for for a short while: a reply
/// that arrives within a microsecond or two then costs no system call on either side. Spinning
/// only pays when the other thread runs on another core at the same time; on a loaded machine, or
/// with both threads on one CPU, every spin is lost time. So the spin adapts, per thread:
/// - a wait that the spin satisfied doubles the budget (up to the policy's maximum): replies come
///   in runs, but one lucky spin on busy cores must not buy a run of full-length failed spins (they
///   would also cost this thread its scheduling priority against the programs keeping the cores
///   busy);
/// - a wait that had to sleep halves the budget, down to none;
/// - with no budget left, one wait in `probe_interval` still spins with the full budget, to notice
///   that the cores became free again.
/// The spin is bounded by time (not by iterations, whose length differs tenfold between CPUs) and
/// never yields the core: a yield hands the CPU to whatever else is runnable and the wake-up then
/// waits for a time slice.
#pragma once

#include <oneshot/detail/config.hpp>

#include <chrono>
#include <cstdint>

namespace oneshot::detail {

/// How a blocking wait spins before it sleeps: a value of the platform policy.
struct spin_policy {
    /// The longest spin, in nanoseconds (0: never spin).
    std::uint32_t max_ns = 0;
    /// With no budget left, one wait in this many spins for `max_ns` anyway.
    std::uint32_t probe_interval = 16;
};

/// The per-thread state of the adaptive spin.
struct spin_budget {
    std::uint32_t ns;
    std::uint32_t waits_without_spin = 0;
};

/// The budget after a spin that paid off.
[[nodiscard]] constexpr std::uint32_t grown(std::uint32_t ns, std::uint32_t max_ns) noexcept {
    return ns >= max_ns / 2 ? max_ns : ns * 2 + 256;
}

/// Spins (calling `Platform::relax()` between checks) until `ready()` is true or this thread's
/// budget under `Platform::spin` is spent. Returns whether `ready()` became true; adapts the budget.
/// The caller has just looked itself: a policy without a spin returns false at once.
template <class Platform, class Ready>
[[nodiscard]] bool spin_until(Ready&& ready) noexcept(noexcept(ready())) {
    constexpr spin_policy policy = Platform::spin;
    if constexpr (policy.max_ns == 0) {
        return false; // never spins (the caller has just looked)
    } else {
        thread_local spin_budget budget{policy.max_ns};
        std::uint32_t limit = budget.ns;
        if (limit == 0 && ++budget.waits_without_spin >= policy.probe_interval) {
            budget.waits_without_spin = 0;
            limit = policy.max_ns; // probe: maybe the other side runs in parallel again
        }
        if (ready()) return true;
        if (limit != 0) {
            using clock = std::chrono::steady_clock;
            const auto until = clock::now() + std::chrono::nanoseconds(limit);
            for (;;) {
                // Read the clock once per eight pauses: a pause is tens of cycles, a clock read
                // about as much again.
                for (int i = 0; i < 8; ++i) {
                    Platform::relax();
                    if (ready()) {
                        budget.ns = grown(budget.ns, policy.max_ns);
                        return true;
                    }
                }
                if (clock::now() >= until) break;
            }
        }
        budget.ns /= 2;
        if (budget.ns < 64) budget.ns = 0;
        return false;
    }
}

} // namespace oneshot::detail
