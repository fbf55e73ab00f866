/// @file errors.hpp
/// @brief The error types of the channel: `recv_error` and `send_error<T>`.
#pragma once

#include <string_view>
#include <type_traits>
#include <utility>

namespace oneshot {

/// Why a receive produced no message. Each receive documents which of these it can return.
enum class recv_error : unsigned char {
    empty,        ///< No message yet and the sender is still alive (only `try_recv`).
    disconnected, ///< No message will ever come: the sender was dropped unsent, the message was
                  ///< already received, or the receiver is moved-from.
    timeout,      ///< The deadline of `recv_for` / `recv_until` passed first.
    cancelled,    ///< A `std::stop_token` requested stop first (the message, if it comes later,
                  ///< stays in the channel for a later receive).
};

/// The enumerator's name, for messages and logs.
[[nodiscard]] constexpr std::string_view to_string(recv_error e) noexcept {
    switch (e) {
    case recv_error::empty: return "empty";
    case recv_error::disconnected: return "disconnected";
    case recv_error::timeout: return "timeout";
    case recv_error::cancelled: return "cancelled";
    }
    return "unknown";
}

/// A failed send: the receiver was gone (or the sender was moved-from). Carries the unsent message
/// back to the caller, so a failed send never loses it.
template <class T>
class send_error {
public:
    /// Holds the message constructed from `args`.
    template <class... Args>
        requires std::is_constructible_v<T, Args...>
    explicit send_error(std::in_place_t,
                        Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>)
        : value_(std::forward<Args>(args)...) {}
    /// Holds the aggregate message built from `args` with braces.
    template <class... Args>
        requires(!std::is_constructible_v<T, Args...> && std::is_aggregate_v<T>)
    explicit send_error(std::in_place_t, Args&&... args) : value_{std::forward<Args>(args)...} {}

    /// The unsent message.
    [[nodiscard]] T& value() & noexcept { return value_; }
    /// The unsent message.
    [[nodiscard]] const T& value() const& noexcept { return value_; }
    /// The unsent message, moved out.
    [[nodiscard]] T into_inner() && noexcept(std::is_nothrow_move_constructible_v<T>) {
        return std::move(value_);
    }

private:
    T value_;
};

/// A failed send on a `channel<void>`: there is no message to hand back.
template <>
class send_error<void> {
public:
    /// A failed send of a signal.
    send_error() = default;
    /// A failed send of a signal (the form `sender<void>` uses).
    explicit send_error(std::in_place_t) noexcept {}
};

} // namespace oneshot
