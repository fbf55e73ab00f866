/// @file misuse.hpp
/// @brief The defined stop for misuse that cannot be reported as an error value.
#pragma once

#include <oneshot/detail/config.hpp>

#include <cstdio>
#include <cstdlib>

namespace oneshot::detail {

/// Prints `message` (one line, to stderr) and aborts.
[[noreturn]] inline void misuse(const char* message) noexcept {
    std::fputs(message, stderr);
    std::fputc('\n', stderr);
    std::abort();
}

} // namespace oneshot::detail
