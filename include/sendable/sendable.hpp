/// @file sendable.hpp
/// @brief Everything in sendable: thread-pinned `send_rc<T>` with a checked whole-graph handoff
/// (`pre_send` / `post_send`), the thread-pinned `send_option<T>`, and violation reporting.
///
/// C++ has no `Send` trait. sendable gives single-threaded speed (a plain, non-atomic reference
/// count) with always-on run-time proof that an object graph is used by one thread at a time, and a
/// protocol that moves a whole graph to another thread only when no reference stayed behind.
#pragma once

#include <sendable/pre_send.hpp>
#include <sendable/send_option.hpp>
#include <sendable/send_rc.hpp>
#include <sendable/thread_id.hpp>
#include <sendable/violation.hpp>
