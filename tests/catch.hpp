// One include for every test file: builds with Catch2 v2 (Debian's 2.13) and with Catch2 v3.
#pragma once

#if ONESHOT_CATCH2_MAJOR >= 3
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
