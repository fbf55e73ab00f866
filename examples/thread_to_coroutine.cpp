// Thread -> coroutine: a coroutine awaits a receiver; a plain thread sends. By default the
// coroutine resumes inline, on the sending thread, inside send().
#include "tiny_async.hpp"

#include <oneshot/oneshot.hpp>

#include <string>
#include <thread>
#include <utility>

detached consume(oneshot::receiver<std::string> rx, std::string& got, std::thread::id& resumed_on) {
    auto r = co_await std::move(rx); // suspends: nothing has been sent yet
    resumed_on = std::this_thread::get_id();
    if (r) got = std::move(*r);
}

int main() {
    auto [tx, rx] = oneshot::channel<std::string>();
    std::string got;
    std::thread::id resumed_on;
    consume(std::move(rx), got, resumed_on); // runs up to co_await and returns

    std::thread producer([tx = std::move(tx)]() mutable {
        (void)std::move(tx).send("from a thread"); // runs the rest of the coroutine, then returns
    });
    const std::thread::id producer_id = producer.get_id();
    producer.join();

    return got == "from a thread" && resumed_on == producer_id ? 0 : 1;
}
