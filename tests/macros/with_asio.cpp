// Macro robustness after Boost.Fiber (which defines the function-like macro cpu_relax()) and
// standalone Asio.
#include <boost/fiber/all.hpp>

#include <asio.hpp>

#include "hostile.hpp"

int main() {
    return run_checks();
}
