// Sending consumes the sender: `tx.send(v)` on an lvalue must say how to write it.
#include <oneshot/oneshot.hpp>

int main() {
    auto [tx, rx] = oneshot::channel<int>();
    tx.send(1);
}
