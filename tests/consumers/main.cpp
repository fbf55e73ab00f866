// The program every consumer test builds: it sees oneshot only through the package under test.
#include <oneshot/oneshot.hpp>

#include <utility>

int main() {
    auto [tx, rx] = oneshot::channel<int>();
    auto s = std::move(tx).send(42);
    auto r = rx.try_recv();
    return (s.has_value() && r.has_value() && *r == 42) ? 0 : 1;
}
