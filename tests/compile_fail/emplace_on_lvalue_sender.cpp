// Emplacing consumes the sender too.
#include <oneshot/oneshot.hpp>

int main() {
    auto [tx, rx] = oneshot::channel<int>();
    tx.emplace(1);
}
