// The version CMake gave project() (passed in by the build) is the one in version.hpp.
#include <oneshot/oneshot.hpp>
#include <oneshot/version.hpp>

#include <cstdio>

static_assert(ONESHOT_VERSION_MAJOR == ONESHOT_CMAKE_VERSION_MAJOR, "major version differs");
static_assert(ONESHOT_VERSION_MINOR == ONESHOT_CMAKE_VERSION_MINOR, "minor version differs");
static_assert(ONESHOT_VERSION_PATCH == ONESHOT_CMAKE_VERSION_PATCH, "patch version differs");
static_assert(ONESHOT_VERSION == ONESHOT_VERSION_MAJOR * 10000 + ONESHOT_VERSION_MINOR * 100 +
                                     ONESHOT_VERSION_PATCH,
              "ONESHOT_VERSION is not major * 10000 + minor * 100 + patch");

int main() {
    std::printf("oneshot %d.%d.%d\n", ONESHOT_VERSION_MAJOR, ONESHOT_VERSION_MINOR,
                ONESHOT_VERSION_PATCH);
    return 0;
}
