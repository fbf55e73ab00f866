/// @file spin.hpp
/// @brief The bounded, adaptive spin a blocking wait takes before it sleeps.
///
/// A thread about to sleep first re-reads the condition it waits for for a short while: a reply
/// that arrives within a microsecond or two then costs no system call on either side. Spinning
/// only pays when the other thread runs on another core at the same time; on a loaded machine, or
/// with both threads on one CPU, every spin is lost time. So the spin adapts, per thread:
/// - a wait that the spin satisfied after a time t keeps a budget of at least 2t (up to the policy's
///   maximum): replies come in runs and take similar times. A quick success does not lengthen the
///   spin: on busy cores a lucky spin must not buy a run of long failed spins (which would also
///   cost the thread its scheduling priority against the programs keeping the cores busy);
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

/// The budget after a spin that succeeded `start` ago: at least twice that, at most `max_ns`.
[[nodiscard]] inline std::uint32_t at_least_twice(std::uint32_t ns,
                                                  std::chrono::steady_clock::time_point start,
                                                  std::uint32_t max_ns) noexcept {
    const auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
    const auto wanted = took >= max_ns / 2 ? max_ns : static_cast<std::uint32_t>(2 * took);
    return wanted > ns ? wanted : ns;
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
            const auto start = clock::now();
            const auto until = start + std::chrono::nanoseconds(limit);
            for (bool clock_read = false;;) {
                // Read the clock once per eight pauses: a pause is tens of cycles, a clock read
                // about as much again.
                for (int i = 0; i < 8; ++i) {
                    Platform::relax();
                    if (ready()) {
                        // Keep a budget of twice what this wait took: similar waits then succeed.
                        if (clock_read) budget.ns = at_least_twice(budget.ns, start, policy.max_ns);
                        return true;
                    }
                }
                if (clock::now() >= until) break;
                clock_read = true;
            }
        }
        budget.ns /= 2;
        if (budget.ns < 256) budget.ns = 0;
        return false;
    }
}

} // namespace oneshot::detail
