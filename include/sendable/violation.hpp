/// @file violation.hpp
/// @brief How sendable reports a broken pinning rule: `pin_error`, the violation handler, and the
/// default policy (throw outside destructors; print and abort inside destructors or without
/// exceptions).
///
/// A violation is never undefined behaviour: the check happens before the value or its control block
/// is touched, and the operation does not proceed. What happens next:
/// - If a handler was installed with `set_violation_handler`, it is called first. It may throw
///   (outside destructors only), abort, or return. If it returns from a violation outside a
///   destructor, the operation still cannot go on, so sendable prints the message and aborts. If it
///   returns from a violation inside a destructor, the destructor leaks what it would have released
///   (it does not touch the value) and returns.
/// - With no handler installed, `default_violation_handler` runs: it throws `pin_error` when
///   exceptions are enabled and the violation is not inside a destructor, and otherwise prints the
///   message to stderr and calls `std::abort()`.
#pragma once

#include <oneshot/detail/config.hpp>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <sendable/thread_id.hpp>

namespace sendable {

/// What rule a violation broke.
enum class violation_kind : unsigned char {
    /// A value (or a send_option, or a pre_send) was used on a thread it is not pinned to.
    wrong_thread,
    /// A value was used between `pre_send::ready()` and `post_send::unpark()` (pinned to no thread),
    /// including after its `post_send` was destroyed without `unpark()`.
    in_transit,
    /// A value parked by a `pre_send` was used (deref, copy, destroy, count) before the migration ended.
    parked,
    /// `pre_send::park` was given an rc whose value another `pre_send` has parked.
    parked_elsewhere,
    /// `pre_send::ready()` was called while some parked value still had rcs that were not parked.
    not_ready,
    /// `send_option::post_send()` was called on a send_option that holds a value.
    option_not_empty,
    /// A value was accessed through an empty `send_rc` or an empty `send_option` (`*`, `->`, park).
    empty,
    /// `pre_send::park` found each of the three park marks a migration can use carried by a live rc
    /// of the value, left by abandoned or refused migrations (see send_rc.hpp); destroy or reassign
    /// some of those rcs (a copy carries the home mark 0, which no migration uses), then park again.
    marks_exhausted,
};

/// The facts about one violation, handed to the violation handler and kept in `pin_error`.
struct violation {
    /// The broken rule.
    violation_kind kind = violation_kind::wrong_thread;
    /// The operation that detected it, e.g. "send_rc::operator*" (a string literal: static lifetime).
    const char* operation = "";
    /// The thread the value is pinned to; 0 means no thread (in transit).
    thread_id pinned_thread = 0;
    /// The thread that attempted the operation.
    thread_id current_thread = 0;
    /// For `not_ready`: how many parked values still have unparked rcs. Otherwise 0.
    std::size_t count = 0;
    /// True when detected inside a destructor (which then leaks instead of releasing, if it returns).
    bool in_destructor = false;
};

/// A short English phrase for a violation kind, e.g. "used on a thread it is not pinned to".
/// Thread safety: pure function.
[[nodiscard]] constexpr const char* reason(violation_kind kind) noexcept {
    switch (kind) {
    case violation_kind::wrong_thread: return "used on a thread it is not pinned to";
    case violation_kind::in_transit:
        return "value is in transit (ready() was called and unpark() was not), pinned to no thread";
    case violation_kind::parked: return "value is parked by a pre_send";
    case violation_kind::parked_elsewhere: return "value is already parked by another pre_send";
    case violation_kind::not_ready: return "parked values still have rcs that are not parked";
    case violation_kind::option_not_empty:
        return "send_option holds a value; only an empty one may be re-pinned to another thread";
    case violation_kind::empty: return "access through an empty handle";
    case violation_kind::marks_exhausted:
        return "every park mark is held by rcs left by abandoned pre_sends; destroy or reassign "
               "some of them before parking again";
    }
    return "unknown violation";
}

namespace detail {

/// Writes the message for `v` into `buffer` (always NUL-terminated, truncated if needed) without
/// allocating, so destructors and the abort path can use it.
inline void format_violation(const violation& v, char* buffer, std::size_t size) noexcept {
    if (v.kind == violation_kind::not_ready) {
        std::snprintf(buffer, size,
                      "sendable::pin_error in %s: %zu %s (pinned thread %llu, current thread %llu)",
                      v.operation, v.count, reason(v.kind),
                      static_cast<unsigned long long>(v.pinned_thread),
                      static_cast<unsigned long long>(v.current_thread));
    } else {
        std::snprintf(buffer, size,
                      "sendable::pin_error in %s: %s (pinned thread %llu, current thread %llu)",
                      v.operation, reason(v.kind), static_cast<unsigned long long>(v.pinned_thread),
                      static_cast<unsigned long long>(v.current_thread));
    }
}

/// Size of the message buffers (messages are well under this; longer ones are truncated).
inline constexpr std::size_t violation_message_size = 400;

/// Prints the message for `v` (with an optional note) to stderr and aborts.
[[noreturn]] inline void print_and_abort(const violation& v, const char* note) noexcept {
    char buffer[violation_message_size];
    format_violation(v, buffer, sizeof buffer);
    std::fprintf(stderr, "%s%s\n", buffer, note);
    std::fflush(stderr);
    std::abort();
}

} // namespace detail

/// The full message for a violation, naming the operation, the pinned thread id and the current one,
/// e.g. "sendable::pin_error in send_rc::operator*: used on a thread it is not pinned to (pinned
/// thread 1, current thread 2)". Thread safety: pure function. Errors: std::bad_alloc.
[[nodiscard]] inline std::string describe(const violation& v) {
    char buffer[detail::violation_message_size];
    detail::format_violation(v, buffer, sizeof buffer);
    return std::string(buffer);
}

/// Thrown (by the default handler, when exceptions are enabled, outside destructors) when a sendable
/// pinning rule is broken. `what()` is `describe(details())`.
class pin_error : public std::logic_error {
public:
    /// Builds the error for `v`. Errors: std::bad_alloc while building the message.
    explicit pin_error(const violation& v) : std::logic_error(describe(v)), violation_(v) {}

    /// The facts of the violation (kind, operation, pinned and current thread ids).
    [[nodiscard]] const violation& details() const noexcept { return violation_; }
    /// The broken rule.
    [[nodiscard]] violation_kind kind() const noexcept { return violation_.kind; }
    /// The thread the value was pinned to (0: none, in transit).
    [[nodiscard]] thread_id pinned_thread() const noexcept { return violation_.pinned_thread; }
    /// The thread that attempted the operation.
    [[nodiscard]] thread_id current_thread() const noexcept { return violation_.current_thread; }

private:
    violation violation_;
};

/// A violation handler. It is called on the violating thread, before anything is touched. It may
/// throw (only when `v.in_destructor` is false: destructors are noexcept), abort, or return; see the
/// file comment for what happens when it returns.
using violation_handler = void (*)(const violation& v);

namespace detail {
/// The installed handler, or nullptr for the default one.
inline std::atomic<violation_handler> installed_violation_handler{nullptr};
} // namespace detail

/// The default policy: throws `pin_error` when exceptions are enabled and `v.in_destructor` is false;
/// otherwise prints the message to stderr and aborts. Never returns. Users' handlers may call it to
/// fall back to the default after logging.
[[noreturn]] inline void default_violation_handler(const violation& v) {
#if defined(__cpp_exceptions)
    if (!v.in_destructor) {
        throw pin_error(v);
    }
#endif
    detail::print_and_abort(v, "");
}

/// Installs `handler` for every thread (nullptr restores the default) and returns the previous one
/// (nullptr if it was the default). Thread safety: may be called from any thread at any time; a
/// violation being reported concurrently uses either the old or the new handler.
inline violation_handler set_violation_handler(violation_handler handler) noexcept {
    // acq_rel: publishes whatever the new handler's code relies on to the threads that load it
    // (release), and orders the previous handler's installation before its return here (acquire).
    return detail::installed_violation_handler.exchange(handler, std::memory_order_acq_rel);
}

/// The installed handler, or nullptr when the default is in force. Thread safety: any thread.
[[nodiscard]] inline violation_handler get_violation_handler() noexcept {
    // Acquire: pairs with the release in set_violation_handler.
    return detail::installed_violation_handler.load(std::memory_order_acquire);
}

namespace detail {

/// Reports a violation outside a destructor. Never returns normally: throws (from a handler or the
/// default policy) or aborts.
[[noreturn]] inline void report(const violation& v) {
    if (const violation_handler handler = get_violation_handler()) {
        handler(v);
        print_and_abort(v, " [the violation handler returned; the operation cannot continue]");
    }
    default_violation_handler(v);
}

/// Reports a violation inside a destructor. Returns only if an installed handler returned; the caller
/// must then leak whatever it would have released and must not touch the value.
inline void report_in_destructor(violation v) noexcept {
    v.in_destructor = true;
    if (const violation_handler handler = get_violation_handler()) {
        handler(v);
        return;
    }
    print_and_abort(v, "");
}

} // namespace detail
} // namespace sendable
