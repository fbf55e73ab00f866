/// @file stop_registration.hpp
/// @brief A stop callback held for the duration of one wait: written once, used by every blocking
/// and awaiting operation.
///
/// `arm(token, handler)` registers `handler` with the token (it runs at once, on this thread, if
/// stop was already requested); `disarm()` deregisters it and, if the handler is running on another
/// thread, waits for it to return. A handler that completes a waiter must call `disarm()` itself
/// first: the completed side will disarm too, and if its disarm had to wait for a handler that is
/// itself waiting for the completed side to run (a resumer that hands the coroutine to another
/// thread and waits for it), neither would ever return. Disarming from inside the handler does not
/// wait (the standard guarantees this of `std::stop_callback`, and `inplace_stop_callback` does the
/// same), so the later disarm finds nothing to do.
///
/// With `never_stop_token` the registration is empty and costs nothing.
#pragma once

#include <oneshot/detail/config.hpp>
#include <oneshot/stop_token.hpp>

#include <optional>

namespace oneshot::detail {

template <class Token, class Handler>
class stop_registration {
public:
    /// Registers `handler` if `token` can ever request stop.
    void arm(const Token& token, Handler handler) {
        if (token.stop_possible()) callback_.emplace(token, handler);
    }
    /// Deregisters the handler; waits for it if it runs on another thread.
    void disarm() noexcept { callback_.reset(); }

private:
    std::optional<stop_callback_for_t<Token, Handler>> callback_;
};

template <class Handler>
class stop_registration<never_stop_token, Handler> {
public:
    void arm(const never_stop_token&, Handler) noexcept {}
    void disarm() noexcept {}
};

} // namespace oneshot::detail
