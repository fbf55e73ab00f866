/// @file send_option.hpp
/// @brief `sendable::send_option<T>`: an optional value pinned to one thread, that may change threads
/// only while empty.
///
/// Typical use: a slot in an object that migrates with `pre_send` / `post_send` (or is handed over
/// some other way) and that holds a thread-bound value only while on one thread. Before handing the
/// object over, empty the slot; on the new thread call `post_send()` to re-pin it there.
#pragma once

#include <oneshot/detail/config.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include <sendable/detail/control_block.hpp>
#include <sendable/thread_id.hpp>
#include <sendable/violation.hpp>

namespace sendable {

/// Like `std::optional<T>`, but pinned to a thread: every access (`has_value`, `*`, `->`, `value`,
/// `emplace`, `reset`, assignment) checks that the calling thread is the pinned one and otherwise
/// reports `violation_kind::wrong_thread` (default: throws pin_error). A new send_option is pinned to
/// the thread that constructs it. `post_send()` re-pins it to the calling thread and succeeds only if
/// it is empty.
///
/// Destruction: an empty send_option may be destroyed on any thread. A non-empty one destroyed on a
/// foreign thread never touches the value (it is leaked: its destructor does not run) and then
/// reports the violation (default: message to stderr and abort; if an installed handler returns, the
/// leak is all that happens).
///
/// Moving or copying *from* an empty send_option is allowed on any thread (that is how an empty one
/// travels); the new object is pinned to the thread that constructs it. Moving or copying from a
/// non-empty one is an access and is checked.
///
/// Thread safety: the pin check makes misuse from another thread a reported violation, not a data
/// race on the value; the send_option object itself must still be handed between threads with
/// synchronisation, like any object.
template <class T>
class send_option {
    static_assert(!std::is_reference_v<T> && !std::is_array_v<T>,
                  "send_option<T&/T[]> is not supported");

public:
    /// The contained type.
    using value_type = T;

    /// An empty send_option pinned to the calling thread.
    send_option() noexcept : pin_(detail::current_thread_key()) {}
    /// An empty send_option pinned to the calling thread.
    send_option(std::nullopt_t) noexcept : send_option() {} // NOLINT(google-explicit-constructor)

    /// A send_option holding `value`, pinned to the calling thread. Errors: whatever T's move
    /// constructor throws.
    send_option(T value) : send_option() { // NOLINT(google-explicit-constructor)
        construct(std::move(value));
    }

    /// A send_option holding `T(args...)`, pinned to the calling thread. Errors: whatever T's
    /// constructor throws.
    template <class... Args>
    explicit send_option(std::in_place_t, Args&&... args) : send_option() {
        construct(std::forward<Args>(args)...);
    }

    /// Copies `other`'s state into a new send_option pinned to the calling thread.
    /// Errors: `wrong_thread` if `other` holds a value and is pinned to another thread; whatever T's
    /// copy constructor throws.
    send_option(const send_option& other) requires std::is_copy_constructible_v<T> : send_option() {
        if (other.engaged_) {
            detail::check_pin(other.pin_, "send_option copy constructor");
            construct(other.value_);
        }
    }

    /// Moves `other`'s value (if any) into a new send_option pinned to the calling thread; like
    /// std::optional, `other` keeps holding its moved-from value. Errors: `wrong_thread` if `other`
    /// holds a value and is pinned to another thread; whatever T's move constructor throws.
    send_option(send_option&& other) : send_option() {
        if (other.engaged_) {
            detail::check_pin(other.pin_, "send_option move constructor");
            construct(std::move(other.value_));
        }
    }

    /// Copy-assigns `other`'s state. Errors: `wrong_thread` if this one is pinned to another thread,
    /// or `other` holds a value and is; whatever T's copy operations throw.
    send_option& operator=(const send_option& other) requires std::is_copy_constructible_v<T> &&
        std::is_copy_assignable_v<T> {
        if (this != &other) {
            check_thread("send_option copy assignment");
            if (other.engaged_) {
                detail::check_pin(other.pin_, "send_option copy assignment");
                assign(other.value_);
            } else {
                destroy();
            }
        }
        return *this;
    }

    /// Move-assigns `other`'s state (`other` keeps its moved-from value, like std::optional).
    /// Errors: as copy assignment.
    send_option& operator=(send_option&& other) {
        if (this != &other) {
            check_thread("send_option move assignment");
            if (other.engaged_) {
                detail::check_pin(other.pin_, "send_option move assignment");
                assign(std::move(other.value_));
            } else {
                destroy();
            }
        }
        return *this;
    }

    /// Empties it (same as `reset()`). Errors: `wrong_thread` if pinned to another thread.
    send_option& operator=(std::nullopt_t) {
        reset();
        return *this;
    }

    /// Stores `value` (assigning over a held value, else constructing). Errors: `wrong_thread` if
    /// pinned to another thread; whatever T's move operations throw.
    send_option& operator=(T value) {
        check_thread("send_option assignment");
        assign(std::move(value));
        return *this;
    }

    /// Destroys the value on the pinned thread; see the class comment for other threads.
    ~send_option() {
        if (engaged_ && detail::check_pin_in_destructor(pin_, "send_option destructor")) {
            destroy();
        }
    }

    /// True if it holds a value. Errors: `wrong_thread` if pinned to another thread.
    [[nodiscard]] bool has_value() const {
        check_thread("send_option::has_value");
        return engaged_;
    }

    /// Same as `has_value()`.
    [[nodiscard]] explicit operator bool() const { return has_value(); }

    /// The value. Errors: `wrong_thread` if pinned to another thread; `empty` if it holds no value
    /// (where std::optional has undefined behaviour).
    [[nodiscard]] T& operator*() & { return checked_value("send_option::operator*"); }
    /// The value. Errors: as above.
    [[nodiscard]] const T& operator*() const& { return checked_value("send_option::operator*"); }
    /// Pointer to the value. Errors: as `operator*`.
    [[nodiscard]] T* operator->() {
        return std::addressof(checked_value("send_option::operator->"));
    }
    /// Pointer to the value. Errors: as `operator*`.
    [[nodiscard]] const T* operator->() const {
        return std::addressof(checked_value("send_option::operator->"));
    }

    /// The value. Errors: `wrong_thread` if pinned to another thread; if empty, throws
    /// std::bad_optional_access (like std::optional), or without exceptions reports `empty`.
    [[nodiscard]] T& value() & { return value_or_throw("send_option::value"); }
    /// The value. Errors: as above.
    [[nodiscard]] const T& value() const& { return value_or_throw("send_option::value"); }
    /// The value, as an rvalue. Errors: as above.
    [[nodiscard]] T&& value() && { return std::move(value_or_throw("send_option::value")); }

    /// Destroys any held value, then constructs `T(args...)` and returns it. Errors: `wrong_thread` if
    /// pinned to another thread; if T's constructor throws, it is left empty.
    template <class... Args>
    T& emplace(Args&&... args) {
        check_thread("send_option::emplace");
        destroy();
        construct(std::forward<Args>(args)...);
        return value_;
    }

    /// Destroys any held value. Errors: `wrong_thread` if pinned to another thread.
    void reset() {
        check_thread("send_option::reset");
        destroy();
    }

    /// Re-pins it to the calling thread; call this on the thread that received it. Succeeds only if it
    /// is empty. Errors: `option_not_empty` if it holds a value (nothing changes; the value is not
    /// touched). Thread safety: meant for a thread other than the pinned one; the hand-over must be
    /// synchronised.
    void post_send() {
        // Relaxed: read only for the report; the hand-over that brought this object here orders the
        // old thread's stores before this one.
        const std::uint64_t pin = pin_.load(std::memory_order_relaxed);
        if (engaged_) {
            detail::report_kind(violation_kind::option_not_empty, "send_option::post_send",
                                detail::pin_thread(pin));
        }
        // Relaxed: only the thread that now owns the (empty) option stores its pin; later hand-overs
        // are synchronised by whoever performs them.
        pin_.store(detail::current_thread_key(), std::memory_order_relaxed);
    }

    /// The thread it is pinned to. Unchecked (reads only the atomic pin), so any thread may ask.
    [[nodiscard]] thread_id pinned_thread() const noexcept {
        // Relaxed: a snapshot for information only; nothing is accessed on the strength of it.
        return detail::pin_thread(pin_.load(std::memory_order_relaxed));
    }

private:
    using stored_type = std::remove_cv_t<T>;

    void check_thread(const char* operation) const { detail::check_pin(pin_, operation); }

    T& checked_value(const char* operation) {
        check_thread(operation);
        if (!engaged_) [[unlikely]] {
            detail::report_kind(violation_kind::empty, operation, pinned_thread());
        }
        return value_;
    }
    const T& checked_value(const char* operation) const {
        return const_cast<send_option*>(this)->checked_value(operation);
    }

    T& value_or_throw(const char* operation) {
        check_thread(operation);
        if (!engaged_) [[unlikely]] {
#if defined(__cpp_exceptions)
            throw std::bad_optional_access();
#else
            detail::report_kind(violation_kind::empty, operation, pinned_thread());
#endif
        }
        return value_;
    }
    const T& value_or_throw(const char* operation) const {
        return const_cast<send_option*>(this)->value_or_throw(operation);
    }

    template <class... Args>
    void construct(Args&&... args) {
        ::new (static_cast<void*>(std::addressof(value_))) stored_type(std::forward<Args>(args)...);
        engaged_ = true;
    }

    template <class U>
    void assign(U&& value) {
        if (engaged_) {
            value_ = std::forward<U>(value);
        } else {
            construct(std::forward<U>(value));
        }
    }

    void destroy() noexcept {
        if (engaged_) {
            engaged_ = false;
            std::destroy_at(std::addressof(value_));
        }
    }

    std::atomic<std::uint64_t> pin_;
    bool engaged_ = false;
    union {
        stored_type value_;
    };
};

} // namespace sendable
