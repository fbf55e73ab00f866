// send_option in a struct: a thread-bound slot inside an object that changes threads. Empty it
// before the hand-over; on arrival, post_send() re-pins it to the new thread.
#include <oneshot/oneshot.hpp>

#include <memory>
#include <string>
#include <thread>
#include <utility>

struct session {
    int id = 0;
    sendable::send_option<std::string> scratch; // pinned to the thread that constructed it
};

int main() {
    auto s = std::make_unique<session>();
    s->id = 7;
    s->scratch = "only for this thread";
    bool ok = s->scratch.has_value();
    s->scratch.reset(); // only an empty send_option may change threads

    // The session travels by pointer, so its send_option object stays pinned to this thread.
    auto [tx, rx] = oneshot::channel<std::unique_ptr<session>>();
    std::thread worker([&ok, rx = std::move(rx)]() mutable {
        auto got = rx.recv();
        if (!got) {
            ok = false;
            return;
        }
        session& t = **got;
        try {
            (void)t.scratch.has_value(); // not re-pinned yet: wrong thread
            ok = false;
        } catch (const sendable::pin_error& e) {
            ok = ok && e.kind() == sendable::violation_kind::wrong_thread;
        }
        t.scratch.post_send(); // re-pin here (fails with option_not_empty if it held a value)
        t.scratch.emplace("now for the worker");
        ok = ok && t.id == 7 && *t.scratch == "now for the worker";
    }); // the session and its value are destroyed here, on the thread the slot is pinned to
    (void)std::move(tx).send(std::move(s));
    worker.join();
    return ok ? 0 : 1;
}
