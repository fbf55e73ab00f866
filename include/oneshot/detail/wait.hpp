/// @file wait.hpp
/// @brief Blocking on a 32-bit atomic word with an optional timeout, and waking it: futex on Linux,
/// WaitOnAddress on Windows, a fixed table of mutexes and condition variables elsewhere (and
/// everywhere when `ONESHOT_PORTABLE_WAIT` is 1).
///
/// Contract shared by every platform:
/// - `wait_on(word, old, timeout)` returns when the word may no longer equal `old`, when woken, when
///   the timeout (if any) expires, or spuriously. Callers always re-read the word and loop.
/// - `wake_all(word)` wakes every thread blocked in `wait_on` on that word.
/// - `wake_one(word)` wakes one thread blocked in `wait_on` on that word, if there is one. Other
///   waiters may return spuriously (the table variant shares a condition variable between words, so
///   it wakes every waiter of the bucket; each re-reads its word and sleeps again).
/// - For both wakes, the caller must keep the word alive for the duration of the call (the
///   channel's sender holds its reference while it wakes, so this always holds; the futex and
///   WaitOnAddress variants use the address as a number only, the table variant never dereferences
///   it).
///
/// On Windows the three functions used are declared here rather than by including <windows.h>, so
/// that including oneshot does not bring in the Windows headers and their macros. They live in
/// `Synchronization.lib`, which the `oneshot::oneshot` CMake target links (link it yourself when
/// you use the headers without CMake).
#pragma once

#include <oneshot/detail/config.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#if !ONESHOT_PORTABLE_WAIT && defined(__linux__)
#include <climits>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif !ONESHOT_PORTABLE_WAIT && defined(_WIN32)
// The declarations of synchapi.h, spelled with plain C types so that they match it exactly: a
// program that also includes <windows.h> sees compatible redeclarations of the same functions.
// (The SDK declares these three without __declspec(dllimport); so do we.)
extern "C" {
int __stdcall WaitOnAddress(volatile void* Address, void* CompareAddress,
#if defined(_WIN64)
                            unsigned __int64 AddressSize,
#else
                            unsigned long AddressSize,
#endif
                            unsigned long dwMilliseconds);
void __stdcall WakeByAddressSingle(void* Address);
void __stdcall WakeByAddressAll(void* Address);
}
#else
#include <condition_variable>
#include <cstddef>
#include <mutex>
#endif

#if defined(_MSC_VER)
#include <intrin.h>
#endif

namespace oneshot::detail {

using wait_word = std::atomic<std::uint32_t>;
static_assert(sizeof(wait_word) == sizeof(std::uint32_t),
              "the wait word must be a plain 32-bit word");

#if !ONESHOT_PORTABLE_WAIT && defined(__linux__)

inline void wait_on(const wait_word& word, std::uint32_t old,
                    std::optional<std::chrono::nanoseconds> timeout) noexcept {
    timespec ts{};
    timespec* tsp = nullptr;
    if (timeout) {
        const auto ns = timeout->count() < 0 ? 0 : timeout->count();
        ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        tsp = &ts;
    }
    // FUTEX_WAIT compares the word with `old` inside the kernel, so a wake between our last read
    // and this call is never lost. EINTR/EAGAIN/ETIMEDOUT all mean "re-check", which callers do.
    (void)::syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE,
                    old, tsp, nullptr, 0);
}

inline void wake_all(const wait_word& word) noexcept {
    (void)::syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE,
                    INT_MAX, nullptr, nullptr, 0);
}

inline void wake_one(const wait_word& word) noexcept {
    (void)::syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1,
                    nullptr, nullptr, 0);
}

#elif !ONESHOT_PORTABLE_WAIT && defined(_WIN32)

inline void wait_on(const wait_word& word, std::uint32_t old,
                    std::optional<std::chrono::nanoseconds> timeout) noexcept {
    constexpr unsigned long infinite = 0xFFFFFFFFUL; // INFINITE
    unsigned long ms = infinite;
    if (timeout) {
        // Round up so a short positive timeout never becomes a busy poll.
        const auto count = (timeout->count() < 0 ? 0 : timeout->count() + 999'999) / 1'000'000;
        ms = count >= static_cast<long long>(infinite) ? infinite - 1
                                                       : static_cast<unsigned long>(count);
    }
    auto expected = old;
    (void)::WaitOnAddress(const_cast<wait_word*>(&word), &expected, sizeof(expected), ms);
}

inline void wake_all(const wait_word& word) noexcept {
    ::WakeByAddressAll(const_cast<wait_word*>(&word));
}

inline void wake_one(const wait_word& word) noexcept {
    ::WakeByAddressSingle(const_cast<wait_word*>(&word));
}

#else

/// Portable fallback: waiters sleep on one of a fixed set of condition variables chosen by the
/// word's address. The table lives for the whole program, so a wake never touches freed memory.
struct wait_bucket {
    std::mutex mutex;
    std::condition_variable cv;
};

inline wait_bucket& bucket_for(const wait_word& word) noexcept {
    static wait_bucket table[64];
    const auto bits = reinterpret_cast<std::uintptr_t>(&word);
    return table[(bits >> 4) % 64];
}

inline void wait_on(const wait_word& word, std::uint32_t old,
                    std::optional<std::chrono::nanoseconds> timeout) noexcept {
    auto& b = bucket_for(word);
    std::unique_lock lock(b.mutex);
    // Checked under the bucket's mutex, which the waker also takes: no lost wake-up.
    if (word.load(std::memory_order_seq_cst) != old) return;
    // wait_for adds the timeout to the clock's now: a far timeout would overflow there, so wait at
    // most a day at a time (an early return is allowed; callers re-check and wait again).
    if (timeout)
        b.cv.wait_for(lock, (std::min)(*timeout, std::chrono::nanoseconds(std::chrono::hours(24))));
    else
        b.cv.wait(lock);
}

inline void wake_all(const wait_word& word) noexcept {
    auto& b = bucket_for(word);
    { std::lock_guard lock(b.mutex); }
    b.cv.notify_all();
}

/// The bucket's condition variable is shared with other words, so notify_one could pick a waiter
/// of another word and leave this word's waiter asleep: wake the whole bucket instead (the others
/// return spuriously, which the contract allows).
inline void wake_one(const wait_word& word) noexcept {
    wake_all(word);
}

#endif

/// A CPU hint for spin loops. (Not named `cpu_relax`: Boost.Fiber defines a function-like macro of
/// that name.)
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(_M_X64) || defined(_M_IX86)
    _mm_pause();
#elif defined(_M_ARM64) || defined(_M_ARM)
    __yield();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

} // namespace oneshot::detail
