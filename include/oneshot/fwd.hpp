/// @file fwd.hpp
/// @brief Forward declarations of the channel's public types.
#pragma once

#include <oneshot/detail/config.hpp>

namespace oneshot {

struct default_platform;
class never_stop_token;

template <class T, class Platform = ONESHOT_DEFAULT_PLATFORM>
class basic_sender;
template <class T, class Platform = ONESHOT_DEFAULT_PLATFORM>
class basic_receiver;

/// The sending endpoint of a `channel<T>`.
template <class T>
using sender = basic_sender<T>;
/// The receiving endpoint of a `channel<T>`.
template <class T>
using receiver = basic_receiver<T>;

struct inline_resumer;
template <class T, class Platform, class Resumer, class StopToken = never_stop_token>
class recv_awaiter;

} // namespace oneshot
