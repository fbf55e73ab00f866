/// @file oneshot.hpp
/// @brief The single include for everything: `oneshot::channel` and its endpoints, awaiting a
/// receiver from a coroutine, and the thread-pinned `sendable::send_rc` / `sendable::send_option`.
#pragma once

#include <oneshot/awaiter.hpp>
#include <oneshot/channel.hpp>
#include <oneshot/errors.hpp>
#include <oneshot/result.hpp>
#include <oneshot/resumer.hpp>
#include <oneshot/stop_token.hpp>
#include <oneshot/version.hpp>
#include <sendable/sendable.hpp>
