// The stop source of the cancellation tests: std::stop_source where the standard library has it,
// else the library's own oneshot::inplace_stop_source, so that cancellation is tested on every
// standard library (Debian's libc++ has no <stop_token>).
#pragma once

#include <oneshot/stop_token.hpp>

#if ONESHOT_HAS_STOP_TOKEN
#include <stop_token>
#endif

namespace test_support {
#if ONESHOT_HAS_STOP_TOKEN
using stop_source = std::stop_source;
using stop_token = std::stop_token;
#else
using stop_source = oneshot::inplace_stop_source;
using stop_token = oneshot::inplace_stop_token;
#endif
} // namespace test_support
