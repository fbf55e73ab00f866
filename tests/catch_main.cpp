// Catch2 v3 brings its own main (Catch2::Catch2WithMain); v2 needs it compiled in one file.
#if ONESHOT_CATCH2_MAJOR < 3
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#endif
