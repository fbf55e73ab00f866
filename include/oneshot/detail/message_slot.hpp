/// @file message_slot.hpp
/// @brief Uninitialised storage for one message, and how a message is constructed from arguments.
#pragma once

#include <oneshot/detail/config.hpp>

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace oneshot::detail {

/// True when `T` can be made from `Args`: by a constructor, or, for an aggregate, by braces (the
/// parenthesised aggregate initialisation of C++20 is missing from some compilers, clang 14 among
/// them).
template <class T, class... Args>
concept constructible_from_args = std::is_constructible_v<T, Args...> ||
    (std::is_aggregate_v<T>&& requires(Args&&... args) { T{std::forward<Args>(args)...}; });

/// Constructs a `T` from `args` at `where`.
template <class T, class... Args>
T* construct_at(void* where, Args&&... args) {
    if constexpr (std::is_constructible_v<T, Args...>)
        return ::new (where) T(std::forward<Args>(args)...);
    else
        return ::new (where) T{std::forward<Args>(args)...};
}

/// Uninitialised storage for one message.
template <class T>
class message_slot {
public:
    template <class... Args>
    void construct(Args&&... args) {
        (void)detail::construct_at<T>(static_cast<void*>(storage_), std::forward<Args>(args)...);
    }
    [[nodiscard]] T& get() noexcept { return *ptr(); }
    // Never `&get()`: a message type may overload or delete its unary `operator&`.
    void destroy() noexcept { std::destroy_at(ptr()); }

private:
    [[nodiscard]] T* ptr() noexcept { return std::launder(reinterpret_cast<T*>(storage_)); }

    alignas(T) unsigned char storage_[sizeof(T)];
};

/// `channel<void>` carries no data.
template <>
class message_slot<void> {
public:
    void construct() noexcept {}
    void destroy() noexcept {}
};

} // namespace oneshot::detail
