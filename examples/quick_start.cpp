// Quick start: one thread sends a message, another blocks until it arrives.
#include <oneshot/oneshot.hpp>

#include <string>
#include <thread>
#include <utility>

int main() {
    auto [tx, rx] = oneshot::channel<std::string>(); // one allocation shared by both ends

    std::thread producer([tx = std::move(tx)]() mutable {
        (void)std::move(tx).send("hello"); // never blocks; consumes the sender
    });

    oneshot::result<std::string, oneshot::recv_error> r = rx.recv(); // blocks without using CPU
    producer.join();
    if (!r || *r != "hello") return 1; // r.error() would say why: here only `disconnected`

    // The receiver took its one message and is now closed.
    if (!rx.is_closed() || rx.try_recv().error() != oneshot::recv_error::disconnected) return 2;

    // A send whose receiver is gone fails and hands the message back.
    auto [tx2, rx2] = oneshot::channel<std::string>();
    { auto dropped = std::move(rx2); }
    auto sent = std::move(tx2).send("returned to sender");
    if (sent || sent.error().value() != "returned to sender") return 3;
    return 0;
}
