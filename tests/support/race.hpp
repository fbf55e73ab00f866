// `racers`: persistent threads that run one job each, released together, round after round, so
// that thousands of repetitions of a race cost no thread creation and start close together.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

namespace test_support {

/// A few hundred iterations of a busy loop: skews the start of racing jobs by a varying amount.
inline void spin_for(unsigned iterations) noexcept {
    for (unsigned i = 0; i < iterations; ++i) {
#if defined(__GNUC__)
        __asm__ __volatile__("" ::: "memory");
#endif
    }
}

/// A tiny deterministic generator (xorshift), so a failing repetition can be replayed.
struct xorshift {
    std::uint64_t state;
    explicit xorshift(std::uint64_t seed) noexcept : state(seed * 0x9e3779b97f4a7c15ULL + 1) {}
    std::uint64_t next() noexcept {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
    unsigned below(unsigned n) noexcept { return static_cast<unsigned>(next() % n); }
};

class racers {
public:
    explicit racers(std::size_t n) : jobs_(n) {
        threads_.reserve(n);
        for (std::size_t i = 0; i < n; ++i)
            threads_.emplace_back([this, i] { work(i); });
    }
    racers(const racers&) = delete;
    racers& operator=(const racers&) = delete;
    ~racers() {
        stopping_.store(true);
        generation_.fetch_add(1);
        generation_.notify_all();
        for (auto& t : threads_)
            t.join();
    }

    /// Runs `jobs[i]` on thread i, all released at once; returns when every job has returned.
    void run(std::vector<std::function<void()>> jobs) {
        jobs_ = std::move(jobs);
        jobs_.resize(threads_.size());
        remaining_.store(static_cast<int>(threads_.size()));
        generation_.fetch_add(1);
        generation_.notify_all();
        for (int r = remaining_.load(); r != 0; r = remaining_.load())
            remaining_.wait(r);
        jobs_.assign(threads_.size(), nullptr);
    }

    /// The id of racing thread `i`.
    [[nodiscard]] std::thread::id id(std::size_t i) const { return threads_[i].get_id(); }

private:
    void work(std::size_t i) {
        unsigned seen = 0;
        for (;;) {
            // Spin a little before sleeping, so that both racers start within nanoseconds.
            unsigned g = generation_.load();
            for (int spins = 0; g == seen && spins < 20000; ++spins) {
                std::this_thread::yield();
                g = generation_.load();
            }
            while (g == seen) {
                generation_.wait(seen);
                g = generation_.load();
            }
            seen = g;
            if (stopping_.load()) return;
            if (jobs_[i]) jobs_[i]();
            if (remaining_.fetch_sub(1) == 1) remaining_.notify_all();
        }
    }

    std::vector<std::function<void()>> jobs_;
    std::vector<std::thread> threads_;
    std::atomic<unsigned> generation_{0};
    std::atomic<int> remaining_{0};
    std::atomic<bool> stopping_{false};
};

} // namespace test_support
