// Request/reply: a small thread pool answers requests, each carrying the oneshot sender for its
// reply. The same pool answers a blocking thread and a coroutine; it does not know which.
#include "tiny_async.hpp"

#include <oneshot/oneshot.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

struct request {
    int x;
    oneshot::sender<int> reply; // the worker answers through this
};

class square_pool {
public:
    explicit square_pool(int threads) {
        for (int i = 0; i < threads; ++i)
            workers_.emplace_back([this] { work(); });
    }
    ~square_pool() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (std::thread& t : workers_)
            t.join();
    }
    square_pool(const square_pool&) = delete;
    square_pool& operator=(const square_pool&) = delete;

    // Queues a request and returns the receiver for its reply: block on it, or co_await it.
    oneshot::receiver<int> ask(int x) {
        auto [tx, rx] = oneshot::channel<int>();
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(request{x, std::move(tx)});
        }
        wake_.notify_one();
        return std::move(rx);
    }

private:
    void work() {
        for (;;) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            request req = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            // If the client gave up (dropped its receiver), the send fails and nothing is lost.
            (void)std::move(req.reply).send(req.x * req.x);
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<request> queue_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

// A coroutine client: it resumes on the worker thread that answers, inside that worker's send().
detached ask_from_coroutine(square_pool& pool, int x, oneshot::sender<int> report) {
    auto r = co_await pool.ask(x);
    (void)std::move(report).send(r ? *r : -1);
}

int main() {
    square_pool pool(2);
    int failures = 0;

    // Blocking clients: several threads ask at once and each waits for its own reply.
    std::vector<std::thread> clients;
    std::vector<int> answers(4, 0);
    for (int c = 0; c < 4; ++c)
        clients.emplace_back([&pool, &answers, c] {
            auto r = pool.ask(c + 10).recv();
            answers[static_cast<std::size_t>(c)] = r ? *r : -1;
        });
    for (std::thread& t : clients)
        t.join();
    for (int c = 0; c < 4; ++c)
        if (answers[static_cast<std::size_t>(c)] != (c + 10) * (c + 10)) ++failures;

    // A coroutine client, which reports back to this thread through another channel.
    auto [report_tx, report_rx] = oneshot::channel<int>();
    ask_from_coroutine(pool, 7, std::move(report_tx));
    auto r = report_rx.recv();
    if (!r || *r != 49) ++failures;

    // A client that gives up: the worker's send fails harmlessly.
    { auto abandoned = pool.ask(3); }
    return failures;
}
