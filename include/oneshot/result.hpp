/// @file result.hpp
/// @brief `oneshot::result<T, E>`: a small value-or-error type with the member names of C++23
/// `std::expected`, available in C++20 and identical in every language mode.
#pragma once

#include <oneshot/detail/config.hpp>

#include <concepts>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

namespace oneshot {

/// Thrown by `result::value()` when the result holds an error (with exceptions disabled the
/// program prints a message and aborts instead).
class bad_result_access : public std::exception {
public:
    /// A fixed description.
    [[nodiscard]] const char* what() const noexcept override {
        return "oneshot::bad_result_access: value() called on a result that holds an error";
    }
};

/// Tag type selecting the error alternative of a `result` (like `std::unexpect_t`).
struct unexpect_t {
    explicit unexpect_t() = default;
};
/// Tag value selecting the error alternative of a `result`.
inline constexpr unexpect_t unexpect{};

/// Wraps an error value so that it converts to a `result` holding that error (like
/// `std::unexpected`).
template <class E>
class unexpected {
public:
    /// Wraps `e`.
    constexpr explicit unexpected(E e) noexcept(std::is_nothrow_move_constructible_v<E>)
        : error_(std::move(e)) {}
    /// The wrapped error.
    [[nodiscard]] constexpr E& error() & noexcept { return error_; }
    /// The wrapped error.
    [[nodiscard]] constexpr const E& error() const& noexcept { return error_; }
    /// The wrapped error, moved out.
    [[nodiscard]] constexpr E&& error() && noexcept { return std::move(error_); }

private:
    E error_;
};

namespace detail {
[[noreturn]] inline void report_bad_result_access() {
#if ONESHOT_HAS_EXCEPTIONS
    throw bad_result_access{};
#else
    std::fputs("oneshot: result::value() called on a result that holds an error\n", stderr);
    std::abort();
#endif
}

/// Tag selecting the constructor that holds the value a callable returns (no move in between).
struct from_call_t {
    explicit from_call_t() = default;
};
inline constexpr from_call_t from_call{};

template <class T>
inline constexpr bool is_unexpected = false;
template <class E>
inline constexpr bool is_unexpected<unexpected<E>> = true;
} // namespace detail

/// Holds either a value of type `T` or an error of type `E`.
///
/// Member names follow C++23 `std::expected`. `value()` on an error throws `bad_result_access`
/// (or, built without exceptions, prints a message and aborts); `operator*` and `operator->`
/// check nothing, like the standard's. Assignment is offered when both alternatives are nothrow
/// move constructible, so a result is never left holding neither. Not thread-safe: a result is a
/// plain value.
template <class T, class E>
class [[nodiscard]] result {
    static_assert(std::is_object_v<T> && !std::is_array_v<T>,
                  "result<T, E>: T must be an object type or void");
    static_assert(std::is_object_v<E> && !std::is_array_v<E>,
                  "result<T, E>: E must be an object type");

public:
    /// The type of the value alternative.
    using value_type = T;
    /// The type of the error alternative.
    using error_type = E;

    /// Holds a value-initialised `T` (`T()`: zero for scalars), like `std::expected`. Only when `T`
    /// is default-constructible.
    constexpr result() noexcept(
        std::is_nothrow_default_constructible_v<T>) requires std::is_default_constructible_v<T>
        : value_(), has_value_(true) {}

    /// Holds `T(std::forward<U>(v))`.
    template <class U = T>
        requires(std::constructible_from<T, U> && !std::same_as<std::remove_cvref_t<U>, result> &&
                 !std::same_as<std::remove_cvref_t<U>, std::in_place_t> &&
                 !std::same_as<std::remove_cvref_t<U>, unexpect_t> &&
                 !detail::is_unexpected<std::remove_cvref_t<U>>)
    constexpr explicit(!std::convertible_to<U, T>)
        result(U&& v) noexcept(std::is_nothrow_constructible_v<T, U>)
        : value_(std::forward<U>(v)), has_value_(true) {}

    /// Holds a value constructed from `args`.
    template <class... Args>
    constexpr explicit result(std::in_place_t,
                              Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>)
        : value_(std::forward<Args>(args)...), has_value_(true) {}

    /// Holds the value `f()` returns, initialised directly from the call (guaranteed elision: the
    /// value is not moved again). For the library's receive paths.
    template <class F>
    constexpr result(detail::from_call_t, F&& f) noexcept(noexcept(std::forward<F>(f)()))
        : value_(std::forward<F>(f)()), has_value_(true) {}

    /// Holds an error constructed from `args`.
    template <class... Args>
    constexpr explicit result(unexpect_t,
                              Args&&... args) noexcept(std::is_nothrow_constructible_v<E, Args...>)
        : error_(std::forward<Args>(args)...), has_value_(false) {}

    /// Holds the error that `u` wraps.
    template <class G>
        requires std::constructible_from<E, G>
    constexpr result(unexpected<G> u) noexcept(std::is_nothrow_constructible_v<E, G>)
        : error_(std::move(u).error()), has_value_(false) {}

    /// Copies the value or the error of `other`.
    constexpr result(const result& other) noexcept(
        std::is_nothrow_copy_constructible_v<T>&& std::is_nothrow_copy_constructible_v<
            E>) requires(std::is_copy_constructible_v<T>&& std::is_copy_constructible_v<E>)
        : has_value_(other.has_value_) {
        if (has_value_)
            std::construct_at(std::addressof(value_), other.value_);
        else
            std::construct_at(std::addressof(error_), other.error_);
    }

    /// Moves the value or the error out of `other` (which keeps a moved-from alternative).
    constexpr result(result&& other) noexcept(
        std::is_nothrow_move_constructible_v<T>&& std::is_nothrow_move_constructible_v<
            E>) requires(std::is_move_constructible_v<T>&& std::is_move_constructible_v<E>)
        : has_value_(other.has_value_) {
        if (has_value_)
            std::construct_at(std::addressof(value_), std::move(other.value_));
        else
            std::construct_at(std::addressof(error_), std::move(other.error_));
    }

    /// Replaces the content with a copy of `other`'s (a copy is made first, so a throwing copy
    /// leaves `*this` unchanged).
    constexpr result& operator=(const result& other) requires(
        std::is_copy_constructible_v<T>&& std::is_copy_constructible_v<E>&&
            std::is_nothrow_move_constructible_v<T>&& std::is_nothrow_move_constructible_v<E>) {
        if (this != &other) {
            result copy(other);
            *this = std::move(copy);
        }
        return *this;
    }

    /// Replaces the content with `other`'s.
    constexpr result& operator=(result&& other) noexcept requires(
        std::is_nothrow_move_constructible_v<T>&& std::is_nothrow_move_constructible_v<E>) {
        if (this != &other) {
            destroy();
            has_value_ = other.has_value_;
            if (has_value_)
                std::construct_at(std::addressof(value_), std::move(other.value_));
            else
                std::construct_at(std::addressof(error_), std::move(other.error_));
        }
        return *this;
    }

    constexpr ~result() { destroy(); }

    /// True when a value is held.
    [[nodiscard]] constexpr bool has_value() const noexcept { return has_value_; }
    /// True when a value is held.
    constexpr explicit operator bool() const noexcept { return has_value_; }

    /// The value; `bad_result_access` (or abort without exceptions) if an error is held.
    [[nodiscard]] constexpr T& value() & {
        ensure_value();
        return value_;
    }
    /// The value; `bad_result_access` (or abort without exceptions) if an error is held.
    [[nodiscard]] constexpr const T& value() const& {
        ensure_value();
        return value_;
    }
    /// The value, moved out; `bad_result_access` (or abort without exceptions) if an error is held.
    [[nodiscard]] constexpr T&& value() && {
        ensure_value();
        return std::move(value_);
    }

    /// The error. Precondition: `!has_value()` (unchecked, like `std::expected`).
    [[nodiscard]] constexpr E& error() & noexcept { return error_; }
    /// The error. Precondition: `!has_value()`.
    [[nodiscard]] constexpr const E& error() const& noexcept { return error_; }
    /// The error, moved out. Precondition: `!has_value()`.
    [[nodiscard]] constexpr E&& error() && noexcept { return std::move(error_); }

    /// The value. Precondition: `has_value()` (unchecked, like `std::expected`).
    [[nodiscard]] constexpr T& operator*() & noexcept { return value_; }
    /// The value. Precondition: `has_value()`.
    [[nodiscard]] constexpr const T& operator*() const& noexcept { return value_; }
    /// The value, moved out. Precondition: `has_value()`.
    [[nodiscard]] constexpr T&& operator*() && noexcept { return std::move(value_); }
    /// Member access to the value. Precondition: `has_value()`.
    [[nodiscard]] constexpr T* operator->() noexcept { return std::addressof(value_); }
    /// Member access to the value. Precondition: `has_value()`.
    [[nodiscard]] constexpr const T* operator->() const noexcept { return std::addressof(value_); }

    /// The value if one is held, else `fallback` converted to `T`.
    template <class U>
    [[nodiscard]] constexpr T value_or(U&& fallback) const& {
        return has_value_ ? value_ : static_cast<T>(std::forward<U>(fallback));
    }
    /// The value (moved out) if one is held, else `fallback` converted to `T`.
    template <class U>
    [[nodiscard]] constexpr T value_or(U&& fallback) && {
        return has_value_ ? std::move(value_) : static_cast<T>(std::forward<U>(fallback));
    }

private:
    constexpr void ensure_value() const {
        if (!has_value_) detail::report_bad_result_access();
    }
    constexpr void destroy() noexcept {
        if (has_value_)
            std::destroy_at(std::addressof(value_));
        else
            std::destroy_at(std::addressof(error_));
    }

    union {
        T value_;
        E error_;
    };
    bool has_value_;
};

/// `result<void, E>`: success without a value, or an error of type `E`.
template <class E>
class [[nodiscard]] result<void, E> {
    static_assert(std::is_object_v<E> && !std::is_array_v<E>,
                  "result<void, E>: E must be an object type");

public:
    /// No value: success carries nothing.
    using value_type = void;
    /// The type of the error alternative.
    using error_type = E;

    /// Holds success (like `std::expected<void, E>`).
    constexpr result() noexcept : nothing_(), has_value_(true) {}
    /// Holds success.
    constexpr explicit result(std::in_place_t) noexcept : nothing_(), has_value_(true) {}
    /// Holds an error constructed from `args`.
    template <class... Args>
    constexpr explicit result(unexpect_t,
                              Args&&... args) noexcept(std::is_nothrow_constructible_v<E, Args...>)
        : error_(std::forward<Args>(args)...), has_value_(false) {}
    /// Holds the error that `u` wraps.
    template <class G>
        requires std::constructible_from<E, G>
    constexpr result(unexpected<G> u) noexcept(std::is_nothrow_constructible_v<E, G>)
        : error_(std::move(u).error()), has_value_(false) {}

    /// Copies the value or the error of `other`.
    constexpr result(const result& other) noexcept(
        std::is_nothrow_copy_constructible_v<E>) requires std::is_copy_constructible_v<E>
        : has_value_(other.has_value_) {
        if (has_value_)
            std::construct_at(std::addressof(nothing_));
        else
            std::construct_at(std::addressof(error_), other.error_);
    }
    /// Moves the value or the error out of `other` (which keeps a moved-from alternative).
    constexpr result(result&& other) noexcept(
        std::is_nothrow_move_constructible_v<E>) requires std::is_move_constructible_v<E>
        : has_value_(other.has_value_) {
        if (has_value_)
            std::construct_at(std::addressof(nothing_));
        else
            std::construct_at(std::addressof(error_), std::move(other.error_));
    }

    /// Replaces the content with a copy of `other`'s.
    constexpr result& operator=(const result& other) requires(
        std::is_copy_constructible_v<E>&& std::is_nothrow_move_constructible_v<E>) {
        if (this != &other) {
            result copy(other);
            *this = std::move(copy);
        }
        return *this;
    }
    /// Replaces the content with `other`'s.
    constexpr result&
    operator=(result&& other) noexcept requires std::is_nothrow_move_constructible_v<E> {
        if (this != &other) {
            destroy();
            has_value_ = other.has_value_;
            if (has_value_)
                std::construct_at(std::addressof(nothing_));
            else
                std::construct_at(std::addressof(error_), std::move(other.error_));
        }
        return *this;
    }

    constexpr ~result() { destroy(); }

    /// True on success.
    [[nodiscard]] constexpr bool has_value() const noexcept { return has_value_; }
    /// True on success.
    constexpr explicit operator bool() const noexcept { return has_value_; }
    /// Returns on success; `bad_result_access` (or abort without exceptions) if an error is held.
    constexpr void value() const {
        if (!has_value_) detail::report_bad_result_access();
    }
    /// Does nothing (there is no value to reach). Precondition: `has_value()`.
    constexpr void operator*() const noexcept {}

    /// The error. Precondition: `!has_value()`.
    [[nodiscard]] constexpr E& error() & noexcept { return error_; }
    /// The error. Precondition: `!has_value()`.
    [[nodiscard]] constexpr const E& error() const& noexcept { return error_; }
    /// The error, moved out. Precondition: `!has_value()`.
    [[nodiscard]] constexpr E&& error() && noexcept { return std::move(error_); }

private:
    constexpr void destroy() noexcept {
        if (!has_value_) std::destroy_at(std::addressof(error_));
    }

    // `nothing_` is the active member on success, so that a successful result is fully
    // initialised (and usable in constant expressions).
    struct nothing {};
    union {
        nothing nothing_;
        E error_;
    };
    bool has_value_;
};

} // namespace oneshot
