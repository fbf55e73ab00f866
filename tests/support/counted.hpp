// A message type that counts its constructions and destructions, so tests can prove that nothing
// leaks and nothing is destroyed twice.
#pragma once

#include <atomic>

namespace test_support {

struct counted {
    static inline std::atomic<long> live{0};
    static inline std::atomic<long> constructed{0};
    static inline std::atomic<long> destroyed{0};

    static void reset() noexcept {
        live = 0;
        constructed = 0;
        destroyed = 0;
    }

    int value = 0;

    explicit counted(int v = 0) noexcept : value(v) { born(); }
    counted(const counted& other) noexcept : value(other.value) { born(); }
    counted(counted&& other) noexcept : value(other.value) { born(); }
    counted& operator=(const counted&) = default;
    counted& operator=(counted&&) = default;
    ~counted() {
        --live;
        ++destroyed;
    }

private:
    static void born() noexcept {
        ++live;
        ++constructed;
    }
};

} // namespace test_support
