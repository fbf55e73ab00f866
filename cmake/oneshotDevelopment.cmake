# Settings shared by the tests, benchmarks and examples (only when oneshot is the top-level project).
include_guard(GLOBAL)

option(ONESHOT_WARNINGS_AS_ERRORS "Treat compiler warnings in oneshot's own targets as errors" OFF)
option(ONESHOT_TEST_DELAY "Inject random delays at every atomic step of the channel (stress builds)" OFF)
option(ONESHOT_TEST_PORTABLE_WAIT
  "Build the tests with ONESHOT_PORTABLE_WAIT=1: receivers sleep on the mutex + condition variable table that macOS and the BSDs use, instead of futex/WaitOnAddress"
  OFF)

# Warnings for our own targets only (never for third-party code).
add_library(oneshot_warnings INTERFACE)
if(MSVC)
  target_compile_options(oneshot_warnings INTERFACE /W4 /permissive-)
  if(ONESHOT_WARNINGS_AS_ERRORS)
    target_compile_options(oneshot_warnings INTERFACE /WX)
  endif()
else()
  target_compile_options(oneshot_warnings INTERFACE -Wall -Wextra -Wpedantic -Wconversion -Wshadow)
  if(ONESHOT_WARNINGS_AS_ERRORS)
    target_compile_options(oneshot_warnings INTERFACE -Werror)
  endif()
endif()
if(ONESHOT_TEST_DELAY)
  # Every channel of the tests runs on the delay platform (the production policy is untouched).
  target_compile_definitions(oneshot_warnings INTERFACE ONESHOT_TEST_DELAY=1)
  target_compile_options(oneshot_warnings INTERFACE
    "SHELL:-include ${PROJECT_SOURCE_DIR}/tests/support/delay_platform.hpp")
endif()
# Every test, example and benchmark links oneshot_warnings, so the whole program agrees on the wait.
if(ONESHOT_TEST_PORTABLE_WAIT)
  target_compile_definitions(oneshot_warnings INTERFACE ONESHOT_PORTABLE_WAIT=1)
endif()

# oneshot_fetch_dependency(<name> <url>): download an archive for FetchContent, or stop with a message
# naming the package to install. file(DOWNLOAD) reports failure instead of aborting, so the message
# can say what to do.
function(oneshot_fetch_dependency name url install_hint)
  include(FetchContent)
  set(archive "${CMAKE_BINARY_DIR}/_deps/${name}.tar.gz")
  if(NOT EXISTS "${archive}")
    message(STATUS "oneshot: ${name} not installed; downloading ${url}")
    file(DOWNLOAD "${url}" "${archive}.part" STATUS status TIMEOUT 60)
    list(GET status 0 code)
    if(NOT code EQUAL 0)
      file(REMOVE "${archive}.part")
      message(FATAL_ERROR "oneshot: ${name} is not installed and could not be downloaded (${status}).\n"
                          "Install it first: ${install_hint}")
    endif()
    file(RENAME "${archive}.part" "${archive}")
  endif()
  FetchContent_Declare(${name} URL "${archive}")
  FetchContent_MakeAvailable(${name})
endfunction()
