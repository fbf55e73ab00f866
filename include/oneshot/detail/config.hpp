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
/// libc++ 14/16). The `std::stop_token` overloads exist only then; everything else is always there.
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

/// Define `ONESHOT_TEST_DELAY` to 1 to make every atomic step of the channel and the awaiter sleep or
/// yield for a short random time (stress builds only; the `delay` preset). Off by default, and then
/// it compiles to nothing.
#ifndef ONESHOT_TEST_DELAY
#define ONESHOT_TEST_DELAY 0
#endif

/// How many times a blocking receive re-reads the state (with a CPU pause between reads) before it
/// sleeps in the kernel. A reply that arrives within that window costs no system call; a longer
/// wait costs this bounded spin once, then no CPU at all. Define it (0 disables spinning) to tune.
#ifndef ONESHOT_SPIN_LIMIT
#define ONESHOT_SPIN_LIMIT 64
#endif

/// After the spin, how many times a blocking receive yields its core (re-reading the state) before
/// it sleeps in the kernel: on a loaded or small machine the sender may need our core to finish.
#ifndef ONESHOT_YIELD_LIMIT
#define ONESHOT_YIELD_LIMIT 16
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
