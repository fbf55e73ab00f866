// Harness self-check: this compiles, so a compile-failure test on it must fail.
#include <oneshot/oneshot.hpp>

int main() {
    auto [tx, rx] = oneshot::channel<int>();
    (void)std::move(tx).send(1);
    return rx.try_recv().value_or(0) == 1 ? 0 : 1;
}
