// Macro robustness after Boost.Fiber (which defines the function-like macro cpu_relax()) and
// Boost.Asio. Standalone Asio has its own translation unit: it cannot share one with Boost.Asio
// (both declare the same global helper namespaces).
#include <boost/fiber/all.hpp>

#include <boost/asio.hpp>

#include "hostile.hpp"

int main() {
    return run_checks();
}
