/// @file delay_platform.hpp
/// @brief The delay build's platform policy: `default_platform` with a short random delay before
/// every atomic step, to push threads into rare orderings. The delay preset force-includes this
/// header into every test, so every `channel<T>()` of the tests runs on it.
#pragma once

#define ONESHOT_DEFAULT_PLATFORM ::oneshot_test::delay_platform

#include <oneshot/detail/platform.hpp>

#include <chrono>
#include <cstdint>
#include <thread>

namespace oneshot_test {

/// Sleeps or yields for a short random time, or does nothing.
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

struct delay_platform : oneshot::default_platform {
    using base = oneshot::default_platform;
    static std::uint32_t load(const state_word& w) noexcept {
        injected_delay();
        return base::load(w);
    }
    static void store(state_word& w, std::uint32_t v) noexcept {
        injected_delay();
        base::store(w, v);
    }
    static bool compare_exchange(state_word& w, std::uint32_t& expected,
                                 std::uint32_t desired) noexcept {
        injected_delay();
        return base::compare_exchange(w, expected, desired);
    }
    static std::uint32_t fetch_or(state_word& w, std::uint32_t bits) noexcept {
        injected_delay();
        return base::fetch_or(w, bits);
    }
    static std::uint32_t fetch_and(state_word& w, std::uint32_t bits) noexcept {
        injected_delay();
        return base::fetch_and(w, bits);
    }
    static void wake_one(const state_word& w) noexcept {
        injected_delay();
        base::wake_one(w);
    }
};

} // namespace oneshot_test
