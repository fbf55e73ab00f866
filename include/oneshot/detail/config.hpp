/// @file config.hpp
/// @brief Configuration macros and feature detection shared by every oneshot header.
#pragma once

// Checked before anything else, so that an older language mode gets this one clear message first
// instead of a cascade of errors from the standard headers or our own code. MSVC reports
// `__cplusplus` correctly only with /Zc:__cplusplus, so `_MSVC_LANG` is checked there.
#if defined(_MSVC_LANG) ? (_MSVC_LANG < 202002L) : (__cplusplus < 202002L)
#error "oneshot requires C++20"
#endif

#include <version>

/// Defined to 1 when the standard library has `std::stop_token` (libstdc++ 10+, MSVC; not Debian's
/// libc++ 14/16). Informational: every operation takes any stop token, and where this is 0
/// `oneshot::inplace_stop_source` provides one.
#if defined(__cpp_lib_jthread) && __cpp_lib_jthread >= 201911L
#define ONESHOT_HAS_STOP_TOKEN 1
#else
#define ONESHOT_HAS_STOP_TOKEN 0
#endif

/// Defined to 1 when exceptions are enabled (`-fno-exceptions` turns throws into a message + abort).
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define ONESHOT_HAS_EXCEPTIONS 1
#else
#define ONESHOT_HAS_EXCEPTIONS 0
#endif

/// The platform policy behind `sender<T>`, `receiver<T>` and `channel<T>()`: normally
/// `oneshot::default_platform`. Test builds only (the project's delay build substitutes a policy
/// that injects random delays at every atomic step); every translation unit of a program must agree.
#ifndef ONESHOT_DEFAULT_PLATFORM
#define ONESHOT_DEFAULT_PLATFORM ::oneshot::default_platform
#endif

/// `[[no_unique_address]]`, spelled the way the compiler honours it: MSVC accepts the standard
/// attribute but ignores it (ABI compatibility), so it needs `[[msvc::no_unique_address]]`.
#if defined(_MSC_VER) && !defined(__clang__)
#define ONESHOT_NO_UNIQUE_ADDRESS [[msvc::no_unique_address]]
#else
#define ONESHOT_NO_UNIQUE_ADDRESS [[no_unique_address]]
#endif

/// Define `ONESHOT_PORTABLE_WAIT` to 1 to make blocked receivers sleep on the portable wait table
/// (a fixed set of mutex + condition variable pairs chosen by the state word's address) instead of
/// `futex` on Linux or `WaitOnAddress` on Windows. That table is what every other platform (macOS,
/// the BSDs, ...) always uses; the switch exists so that its code path can be tested on Linux.
/// Default 0. Every translation unit of a program must agree on the value.
#ifndef ONESHOT_PORTABLE_WAIT
#define ONESHOT_PORTABLE_WAIT 0
#endif
