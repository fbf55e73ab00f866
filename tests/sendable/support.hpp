// Helpers shared by the sendable tests: catching violations here or on a fresh thread, a handler
// that records violations and returns (so destructors leak instead of aborting), an instance counter,
// a place that keeps intentionally leaked memory reachable for LeakSanitizer, and types whose unary
// operator& is deleted or lies.
#pragma once

#include <sendable/sendable.hpp>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sendable_test {

/// What a thrown pin_error said.
struct caught {
    sendable::violation details;
    std::string message;
};

/// Runs `f` here; returns the pin_error it threw, or nullopt if it threw none.
template <class F>
std::optional<caught> violation_here(F&& f) {
    try {
        std::forward<F>(f)();
    } catch (const sendable::pin_error& e) {
        return caught{e.details(), e.what()};
    }
    return std::nullopt;
}

/// Runs `f` on a new thread (joined before returning); returns the pin_error it threw there.
/// Also returns that thread's sendable id through `thread_id_out` if given.
template <class F>
std::optional<caught> violation_on_new_thread(F&& f, sendable::thread_id* thread_id_out = nullptr) {
    std::optional<caught> result;
    sendable::thread_id id = 0;
    std::thread worker([&] {
        id = sendable::current_thread_id();
        result = violation_here(f);
    });
    worker.join();
    if (thread_id_out != nullptr) {
        *thread_id_out = id;
    }
    return result;
}

/// Runs `f` on a new thread and joins it.
template <class F>
void run_on_new_thread(F&& f) {
    std::thread worker(std::forward<F>(f));
    worker.join();
}

/// While alive, every violation is recorded and the handler returns: outside destructors the
/// library then aborts, so use this only around violations inside destructors.
class recording_handler {
public:
    recording_handler() { previous_ = sendable::set_violation_handler(&record); }
    ~recording_handler() { sendable::set_violation_handler(previous_); }
    recording_handler(const recording_handler&) = delete;
    recording_handler& operator=(const recording_handler&) = delete;

    static std::vector<sendable::violation> take() {
        std::lock_guard<std::mutex> lock(mutex());
        return std::exchange(seen(), {});
    }

private:
    static void record(const sendable::violation& v) {
        std::lock_guard<std::mutex> lock(mutex());
        seen().push_back(v);
    }
    static std::mutex& mutex() {
        static std::mutex m;
        return m;
    }
    static std::vector<sendable::violation>& seen() {
        static std::vector<sendable::violation> v;
        return v;
    }
    sendable::violation_handler previous_ = nullptr;
};

/// Keeps a pointer into memory that a test leaks on purpose, so LeakSanitizer sees it as reachable.
inline void keep_reachable(const void* p) {
    static std::mutex m;
    static std::vector<const void*>* sink =
        new std::vector<const void*>(); // never freed on purpose
    std::lock_guard<std::mutex> lock(m);
    sink->push_back(p);
}

/// Counts live instances (constructions minus destructions), across threads.
struct tracked {
    static std::atomic<long>& live() {
        static std::atomic<long> n{0};
        return n;
    }
    explicit tracked(int v = 0) : value(v) { ++live(); }
    tracked(const tracked& o) : value(o.value) { ++live(); }
    tracked(tracked&& o) noexcept : value(o.value) { ++live(); }
    tracked& operator=(const tracked&) = default;
    tracked& operator=(tracked&&) = default;
    ~tracked() { --live(); }
    int value;
};

/// A type whose unary operator& is deleted: the library must take its address with std::addressof.
struct no_address_of {
    explicit no_address_of(int v) : value(v) {}
    void operator&() const = delete;
    int value;
};

/// A type whose unary operator& returns nullptr instead of its address.
struct fake_address_of {
    explicit fake_address_of(int v) : value(v) {}
    fake_address_of* operator&() { return nullptr; }
    const fake_address_of* operator&() const { return nullptr; }
    int value;
};

} // namespace sendable_test
