/// @file version.hpp
/// @brief The library version: the only place it is written (CMake reads it from here).
#pragma once

/// Major version: incremented for incompatible API changes.
#define ONESHOT_VERSION_MAJOR 0
/// Minor version: incremented for compatible additions.
#define ONESHOT_VERSION_MINOR 1
/// Patch version: incremented for compatible fixes.
#define ONESHOT_VERSION_PATCH 0
/// The version as one number: major * 10000 + minor * 100 + patch.
#define ONESHOT_VERSION                                                                            \
    (ONESHOT_VERSION_MAJOR * 10000 + ONESHOT_VERSION_MINOR * 100 + ONESHOT_VERSION_PATCH)
