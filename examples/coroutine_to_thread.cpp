// Coroutine -> thread: a coroutine running on an event loop sends; a plain thread blocks in recv().
#include "tiny_async.hpp"

#include <oneshot/oneshot.hpp>

#include <utility>

detached sum_on(event_loop& loop, int n, oneshot::sender<int> tx) {
    co_await loop.schedule(); // from here on, run on the loop's thread
    if (n < 0) co_return;     // the frame destroys the unsent sender: the receiver is woken
    int sum = 0;
    for (int i = 1; i <= n; ++i)
        sum += i;
    (void)std::move(tx).send(sum); // never blocks, whether or not anyone is receiving yet
}

int main() {
    event_loop loop;

    auto [tx, rx] = oneshot::channel<int>();
    sum_on(loop, 10, std::move(tx));
    auto r = rx.recv(); // this thread sleeps until the coroutine sends
    if (!r || *r != 55) return 1;

    auto [tx2, rx2] = oneshot::channel<int>();
    sum_on(loop, -1, std::move(tx2));
    auto r2 = rx2.recv(); // woken by the sender's destructor
    if (r2 || r2.error() != oneshot::recv_error::disconnected) return 2;
    return 0;
}
