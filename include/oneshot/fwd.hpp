/// @file fwd.hpp
/// @brief Forward declarations of the channel's public types.
#pragma once

namespace oneshot {
namespace detail {
struct std_sync;
} // namespace detail

template <class T, class Sync = detail::std_sync>
class sender;
template <class T, class Sync = detail::std_sync>
class receiver;
struct inline_scheduler;
template <class T, class Sync, class Scheduler, bool Cancellable = false>
class recv_awaiter;
} // namespace oneshot
