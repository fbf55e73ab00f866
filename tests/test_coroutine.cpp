// co_await on a receiver: the four directions between threads and coroutines, where a
// coroutine resumes (inline or through a scheduler), no suspension when ready, channel<void>,
// closed receivers, disconnection, and destroying a coroutine suspended on a receiver.
//
// Catch2 assertions are made on the test's own thread only: coroutines and helper threads record
// what they saw, and the test checks it after joining them.
#include "catch.hpp"

#include "support/coro_common.hpp"
#include "support/counted.hpp"
#include "support/executors.hpp"
#include "support/race.hpp"
#include "support/tasks.hpp"

#include <oneshot/channel.hpp>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

using oneshot::recv_error;
using test_support::await_into;
using test_support::await_lvalue;
using test_support::await_rvalue;
using test_support::counted;
using test_support::eager_task;
using test_support::event_loop;
using test_support::execute_ref;
using test_support::lazy_task;
using test_support::loop_thread;
using test_support::open;
using test_support::record;
using test_support::switch_to;
using test_support::thread_pool;

namespace {

using namespace std::chrono_literals;

/// A coroutine on `pool` that sends `value` and records the thread it sent from.
eager_task send_from_pool(thread_pool* pool, oneshot::sender<int> tx, int value,
                          std::thread::id* where, bool* ok) {
    co_await switch_to(*pool);
    *where = std::this_thread::get_id();
    *ok = std::move(tx).send(value).has_value();
}

/// A coroutine on `loop` that sends `value` and records the thread it sent from.
eager_task send_from_loop(event_loop* loop, oneshot::sender<int> tx, int value,
                          std::thread::id* where, bool* ok) {
    co_await switch_to(*loop);
    *where = std::this_thread::get_id();
    *ok = std::move(tx).send(value).has_value();
}

/// Coroutine -> coroutine across executors: a consumer that resumes on the event loop, doubles the
/// request and replies.
eager_task doubler_on_loop(oneshot::receiver<int> requests, event_loop* loop,
                           oneshot::sender<int> reply, record<int>* rec, bool* reply_ok) {
    rec->note(co_await std::move(requests).recv_async().resume_on(loop));
    const int answer = rec->got_value() ? rec->result->value() * 2 : -1;
    *reply_ok = std::move(reply).send(answer).has_value();
}

/// ... and a producer that runs on the pool, sends the request, and resumes on the pool (through
/// a pointer to it) with the answer.
lazy_task<int> ask_from_pool(thread_pool* pool, oneshot::sender<int> request,
                             oneshot::receiver<int> reply, int question, std::thread::id* sent_from,
                             bool* sent_ok, record<int>* rec) {
    co_await switch_to(*pool);
    *sent_from = std::this_thread::get_id();
    *sent_ok = std::move(request).send(question).has_value();
    rec->note(co_await std::move(reply).recv_async().resume_on(pool));
    co_return rec->got_value() ? rec->result->value() : -1;
}

/// A lazy task that awaits another lazy task (continuation by symmetric transfer) which awaits a
/// receiver: a coroutine chain resumed by a plain thread.
lazy_task<int> add_one(lazy_task<int> inner) {
    co_return co_await std::move(inner) + 1;
}

lazy_task<int> receive_int(oneshot::receiver<int> rx, record<int>* rec) {
    rec->note(co_await std::move(rx));
    co_return rec->got_value() ? rec->result->value() : -1;
}

/// For a scheduler that is a plain function: the loop it posts to.
event_loop* global_loop = nullptr;
void post_to_global_loop(std::coroutine_handle<> h) {
    (*global_loop)(h);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// The four directions.
// ---------------------------------------------------------------------------------------------

TEST_CASE("direction thread -> thread: blocking recv gets a message sent from another thread",
          "[coroutine][direction]") {
    SECTION("two plain threads") {
        oneshot::sender<int> tx;
        oneshot::receiver<int> rx;
        open(tx, rx);
        std::optional<oneshot::result<int, recv_error>> got;
        std::thread receiver_thread([&] { got.emplace(rx.recv()); });
        bool sent = false;
        std::thread sender_thread([&] {
            std::this_thread::sleep_for(2ms);
            sent = std::move(tx).send(11).has_value();
        });
        sender_thread.join();
        receiver_thread.join();
        CHECK(sent);
        REQUIRE(got.has_value());
        REQUIRE(got->has_value());
        CHECK(got->value() == 11);
    }
    SECTION("a pool thread sends, the test thread blocks") {
        thread_pool pool(2);
        oneshot::sender<int> tx;
        oneshot::receiver<int> rx;
        open(tx, rx);
        std::atomic<bool> sent{false};
        pool.post([&] { sent = std::move(tx).send(12).has_value(); });
        auto r = rx.recv();
        REQUIRE(r.has_value());
        CHECK(r.value() == 12);
        pool.wait_idle();
        CHECK(sent.load());
    }
}

TEST_CASE("direction thread -> coroutine: an eager task resumes inline in the sender's thread",
          "[coroutine][direction]") {
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    open(tx, rx);
    record<int> rec;
    eager_task t = await_rvalue(std::move(rx), &rec);
    REQUIRE_FALSE(t.done());
    REQUIRE(t.suspensions() == 1);

    bool sent = false;
    std::thread sender_thread([&] { sent = std::move(tx).send(21).has_value(); });
    const std::thread::id sender_id = sender_thread.get_id();
    sender_thread.join();

    REQUIRE(t.wait());
    CHECK(sent);
    REQUIRE(rec.got_value());
    CHECK(rec.result->value() == 21);
    CHECK(rec.thread == sender_id);
}

TEST_CASE(
    "direction thread -> coroutine: a lazy task chain, sync_waited, resumed by a plain thread",
    "[coroutine][direction]") {
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    open(tx, rx);
    record<int> rec;
    lazy_task<int> task = add_one(receive_int(std::move(rx), &rec));

    bool sent = false;
    std::thread sender_thread([&] {
        std::this_thread::sleep_for(5ms); // let the chain start and suspend first (not required)
        sent = std::move(tx).send(41).has_value();
    });
    const std::thread::id sender_id = sender_thread.get_id();
    const std::optional<int> v = test_support::sync_wait(task);
    sender_thread.join();

    REQUIRE(v.has_value());
    CHECK(*v == 42);
    CHECK(sent);
    REQUIRE(rec.got_value());
    // Either it suspended (then the sender resumed it inline) or the message was already there.
    CHECK((rec.thread == sender_id || rec.thread == std::this_thread::get_id()));
}

TEST_CASE("direction coroutine -> thread: coroutines on an executor send, a thread blocks in recv",
          "[coroutine][direction]") {
    SECTION("sender coroutine on the thread pool") {
        thread_pool pool(2);
        oneshot::sender<int> tx;
        oneshot::receiver<int> rx;
        open(tx, rx);
        std::thread::id where{};
        bool ok = false;
        eager_task t = send_from_pool(&pool, std::move(tx), 31, &where, &ok);
        auto r = rx.recv();
        REQUIRE(t.wait());
        REQUIRE(r.has_value());
        CHECK(r.value() == 31);
        CHECK(ok);
        CHECK(where != std::this_thread::get_id());
        CHECK(where != std::thread::id{});
    }
    SECTION("sender coroutine on the event loop, receiver on another plain thread") {
        event_loop loop;
        std::optional<loop_thread> runner;
        runner.emplace(loop);
        oneshot::sender<int> tx;
        oneshot::receiver<int> rx;
        open(tx, rx);
        std::thread::id where{};
        bool ok = false;
        std::optional<oneshot::result<int, recv_error>> got;
        std::thread receiver_thread([&] { got.emplace(rx.recv()); });
        eager_task t = send_from_loop(&loop, std::move(tx), 32, &where, &ok);
        receiver_thread.join();
        REQUIRE(t.wait());
        const std::thread::id loop_id = runner->id();
        runner.reset();
        REQUIRE(got.has_value());
        REQUIRE(got->has_value());
        CHECK(got->value() == 32);
        CHECK(ok);
        CHECK(where == loop_id);
    }
}

TEST_CASE("direction coroutine -> coroutine: pool and event loop exchange a request and a reply",
          "[coroutine][direction]") {
    thread_pool pool(2);
    event_loop loop;
    std::optional<loop_thread> runner;
    runner.emplace(loop);

    oneshot::sender<int> req_tx, reply_tx;
    oneshot::receiver<int> req_rx, reply_rx;
    open(req_tx, req_rx);
    open(reply_tx, reply_rx);

    record<int> on_loop;
    on_loop.loop = &loop;
    on_loop.pool = &pool;
    bool reply_ok = false;
    // The consumer starts on the test thread and suspends: nothing has been sent yet.
    eager_task consumer =
        doubler_on_loop(std::move(req_rx), &loop, std::move(reply_tx), &on_loop, &reply_ok);
    REQUIRE_FALSE(consumer.done());

    record<int> on_pool;
    on_pool.loop = &loop;
    on_pool.pool = &pool;
    std::thread::id sent_from{};
    bool sent_ok = false;
    lazy_task<int> producer = ask_from_pool(&pool, std::move(req_tx), std::move(reply_rx), 21,
                                            &sent_from, &sent_ok, &on_pool);
    const std::optional<int> answer = test_support::sync_wait(producer);
    REQUIRE(consumer.wait());
    const std::thread::id loop_id = runner->id();
    runner.reset();

    REQUIRE(answer.has_value());
    CHECK(*answer == 42);
    CHECK(sent_ok);
    CHECK(reply_ok);
    // The consumer was resumed by its scheduler on the loop thread, not on the pool thread that sent.
    REQUIRE(on_loop.got_value());
    CHECK(on_loop.in_loop);
    CHECK_FALSE(on_loop.in_pool);
    CHECK(on_loop.thread == loop_id);
    CHECK(on_loop.thread != sent_from);
    // The producer was resumed on the pool (through a pointer-to-executor scheduler), not on the loop.
    REQUIRE(on_pool.got_value());
    CHECK(on_pool.in_pool);
    CHECK_FALSE(on_pool.in_loop);
    CHECK(on_pool.thread != loop_id);
}

// ---------------------------------------------------------------------------------------------
// Where the coroutine resumes.
// ---------------------------------------------------------------------------------------------

TEST_CASE("default resumption is inline, inside send, on the sender's thread",
          "[coroutine][resume]") {
    counted::reset();
    {
        oneshot::sender<counted> tx;
        oneshot::receiver<counted> rx;
        open(tx, rx);
        std::atomic<bool> send_returned{false};
        record<counted> rec;
        rec.watch = &send_returned;
        eager_task t = await_lvalue(&rx, &rec);
        REQUIRE_FALSE(t.done());

        bool sent = false;
        bool done_when_send_returned = false;
        std::thread sender_thread([&] {
            sent = std::move(tx).send(counted(5)).has_value();
            send_returned = true;
            done_when_send_returned = rec.resumed; // same thread: the continuation already ran
        });
        const std::thread::id sender_id = sender_thread.get_id();
        sender_thread.join();

        REQUIRE(t.wait());
        CHECK(sent);
        CHECK(done_when_send_returned);
        REQUIRE(rec.got_value());
        CHECK(rec.result->value().value == 5);
        CHECK(rec.thread == sender_id);
        CHECK_FALSE(rec.watched); // the continuation ran before send returned
        CHECK(rx.is_closed());    // the borrowed receiver handed its message over
    }
    CHECK(counted::live == 0);
    CHECK(counted::constructed == counted::destroyed);
}

TEST_CASE("resume_on(scheduler) resumes on the scheduler's thread, for every scheduler shape",
          "[coroutine][resume]") {
    thread_pool pool(2);
    event_loop loop; // run by the test thread
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    open(tx, rx);
    record<int> rec;
    rec.pool = &pool;
    rec.loop = &loop;
    std::optional<eager_task> t;
    bool via_loop = false;

    SECTION("post(f) member, scheduler held by value") {
        t.emplace(await_into(rx.recv_async().resume_on(test_support::post_ref{&pool}), &rec));
    }
    SECTION("pointer to a post(f) executor") {
        t.emplace(await_into(rx.recv_async().resume_on(&pool), &rec));
    }
    SECTION("invocable with std::coroutine_handle<>: a lambda") {
        t.emplace(await_into(
            rx.recv_async().resume_on([lp = &loop](std::coroutine_handle<> h) { (*lp)(h); }),
            &rec));
        via_loop = true;
    }
    SECTION("invocable with std::coroutine_handle<>: std::ref(loop)") {
        t.emplace(await_into(rx.recv_async().resume_on(std::ref(loop)), &rec));
        via_loop = true;
    }
    SECTION("pointer to an executor invocable with std::coroutine_handle<>") {
        t.emplace(await_into(rx.recv_async().resume_on(&loop), &rec));
        via_loop = true;
    }
    SECTION("a plain function pointer invocable with std::coroutine_handle<>") {
        global_loop = &loop;
        t.emplace(await_into(rx.recv_async().resume_on(&post_to_global_loop), &rec));
        via_loop = true;
    }
    SECTION("execute(f) member") {
        t.emplace(await_into(rx.recv_async().resume_on(execute_ref{&loop}), &rec));
        via_loop = true;
    }
    SECTION("owning awaiter: std::move(rx).recv_async().resume_on(&loop)") {
        t.emplace(await_into(std::move(rx).recv_async().resume_on(&loop), &rec));
        via_loop = true;
    }

    REQUIRE(t.has_value());
    REQUIRE_FALSE(t->done());
    REQUIRE(t->suspensions() == 1);
    std::atomic<bool> send_returned{false};
    rec.watch = &send_returned;
    bool sent = false;
    std::thread sender_thread([&] {
        sent = std::move(tx).send(8).has_value();
        send_returned = true;
    });
    const std::thread::id sender_id = sender_thread.get_id();
    sender_thread.join();
    CHECK(sent);

    if (via_loop) {
        // Nothing ran on the sender's thread: the resumption is queued on the loop.
        CHECK_FALSE(t->done());
        CHECK_FALSE(rec.resumed);
        CHECK(loop.pending() == 1);
        CHECK(loop.drain() == 1);
        REQUIRE(t->wait(0s));
        CHECK(rec.in_loop);
        CHECK(rec.thread == std::this_thread::get_id());
        CHECK(rec.watched); // resumed after send returned: the sender did not run the continuation
    } else {
        // (A pool thread may resume it before or after send returns: no ordering to check.)
        REQUIRE(t->wait());
        CHECK(pool.posted() == 1);
        CHECK(rec.in_pool);
        CHECK(rec.thread != sender_id);
        CHECK(loop.queued() == 0);
    }
    REQUIRE(rec.got_value());
    CHECK(rec.result->value() == 8);
}

// ---------------------------------------------------------------------------------------------
// No suspension when ready.
// ---------------------------------------------------------------------------------------------

TEST_CASE("no suspension when the message or the disconnection is already there",
          "[coroutine][ready]") {
    const std::thread::id me = std::this_thread::get_id();
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    open(tx, rx);
    record<int> rec;

    SECTION("co_await rx with the message there") {
        REQUIRE(std::move(tx).send(1).has_value());
        eager_task t = await_lvalue(&rx, &rec);
        CHECK(t.done()); // finished inside the call that started it
        CHECK(t.ready_count() == 1);
        CHECK(t.suspend_calls() == 0);
        REQUIRE(rec.got_value());
        CHECK(rec.result->value() == 1);
        CHECK(rec.thread == me);
    }
    SECTION("co_await std::move(rx) with the message there") {
        REQUIRE(std::move(tx).send(2).has_value());
        eager_task t = await_rvalue(std::move(rx), &rec);
        CHECK(t.done());
        CHECK(t.ready_count() == 1);
        CHECK(t.suspend_calls() == 0);
        REQUIRE(rec.got_value());
        CHECK(rec.result->value() == 2);
    }
    SECTION("sender already dropped") {
        { auto gone = std::move(tx); }
        eager_task t = await_lvalue(&rx, &rec);
        CHECK(t.done());
        CHECK(t.ready_count() == 1);
        CHECK(t.suspend_calls() == 0);
        CHECK(rec.got_error(recv_error::disconnected));
    }
    SECTION("resume_on(loop) with the message there: neither suspends nor schedules") {
        event_loop loop;
        REQUIRE(std::move(tx).send(3).has_value());
        eager_task t = await_into(rx.recv_async().resume_on(&loop), &rec);
        CHECK(t.done());
        CHECK(t.suspend_calls() == 0);
        CHECK(loop.queued() == 0);
        REQUIRE(rec.got_value());
        CHECK(rec.result->value() == 3);
        CHECK(rec.thread == me);
    }
    SECTION("lazy task: sync_wait finishes on the calling thread") {
        REQUIRE(std::move(tx).send(4).has_value());
        lazy_task<int> task = test_support::lazy_await_rvalue(std::move(rx), &rec);
        const std::optional<int> v = test_support::sync_wait(task);
        REQUIRE(v.has_value());
        REQUIRE(rec.got_value());
        CHECK(rec.result->value() == 4);
        CHECK(rec.thread == me);
    }
    SECTION("control: without the message, the same coroutine suspends exactly once") {
        eager_task t = await_lvalue(&rx, &rec);
        CHECK_FALSE(t.done());
        CHECK(t.ready_count() == 0);
        CHECK(t.suspensions() == 1);
        REQUIRE(std::move(tx).send(5).has_value()); // resumes it inline, here
        CHECK(t.done());
        REQUIRE(rec.got_value());
        CHECK(rec.result->value() == 5);
    }
}

TEST_CASE("await_suspend declines to suspend when the channel completes after await_ready",
          "[coroutine][ready]") {
    // Drives the awaiter by hand, as a compiler would, with a send landing between the two calls.
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    open(tx, rx);
    SECTION("a message") {
        auto aw = rx.recv_async();
        REQUIRE_FALSE(aw.await_ready());
        REQUIRE(std::move(tx).send(6).has_value());
        REQUIRE_FALSE(aw.await_suspend(std::noop_coroutine()));
        auto r = aw.await_resume();
        REQUIRE(r.has_value());
        CHECK(r.value() == 6);
    }
    SECTION("a disconnection") {
        auto aw = std::move(rx).recv_async();
        REQUIRE_FALSE(aw.await_ready());
        { auto gone = std::move(tx); }
        REQUIRE_FALSE(aw.await_suspend(std::noop_coroutine()));
        auto r = aw.await_resume();
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == recv_error::disconnected);
    }
    SECTION("registered, then completed: the sender resumes the registered handle once") {
        auto aw = rx.recv_async();
        REQUIRE_FALSE(aw.await_ready());
        REQUIRE(aw.await_suspend(std::noop_coroutine()));
        REQUIRE(std::move(tx).send(7).has_value());
        auto r = aw.await_resume();
        REQUIRE(r.has_value());
        CHECK(r.value() == 7);
    }
    SECTION("registered, then the awaiter goes away: a later send does not touch it") {
        {
            auto aw = rx.recv_async();
            REQUIRE_FALSE(aw.await_ready());
            REQUIRE(aw.await_suspend(std::noop_coroutine()));
        } // as if the frame were destroyed (ASan flags any later use of this stack slot)
        REQUIRE(std::move(tx).send(8).has_value());
        auto r = rx.try_recv();
        REQUIRE(r.has_value());
        CHECK(r.value() == 8);
    }
}

// ---------------------------------------------------------------------------------------------
// channel<void>, closed receivers, disconnection.
// ---------------------------------------------------------------------------------------------

TEST_CASE("channel<void> can be awaited", "[coroutine][void]") {
    oneshot::sender<void> tx;
    oneshot::receiver<void> rx;
    open(tx, rx);
    record<void> rec;

    SECTION("signalled from another thread while suspended (co_await std::move(rx))") {
        eager_task t = await_rvalue(std::move(rx), &rec);
        REQUIRE_FALSE(t.done());
        bool sent = false;
        std::thread th([&] { sent = std::move(tx).send().has_value(); });
        const std::thread::id id = th.get_id();
        th.join();
        REQUIRE(t.wait());
        CHECK(sent);
        CHECK(rec.got_value());
        CHECK(rec.thread == id);
    }
    SECTION("already signalled (co_await rx): no suspension, receiver detached afterwards") {
        REQUIRE(std::move(tx).send().has_value());
        eager_task t = await_lvalue(&rx, &rec);
        CHECK(t.done());
        CHECK(t.suspend_calls() == 0);
        CHECK(rec.got_value());
        CHECK(rx.is_closed());
    }
    SECTION("sender dropped while suspended") {
        eager_task t = await_lvalue(&rx, &rec);
        REQUIRE_FALSE(t.done());
        std::thread([&] { auto gone = std::move(tx); }).join();
        REQUIRE(t.wait());
        CHECK(rec.got_error(recv_error::disconnected));
    }
    SECTION("lazy task resumed on the pool through resume_on") {
        thread_pool pool(1);
        record<void> on_pool;
        on_pool.pool = &pool;
        auto body = [](oneshot::receiver<void> r, thread_pool* p,
                       record<void>* out) -> lazy_task<int> {
            out->note(co_await std::move(r).recv_async().resume_on(p));
            co_return 0;
        };
        lazy_task<int> task = body(std::move(rx), &pool, &on_pool);
        std::thread th([&] {
            std::this_thread::sleep_for(2ms);
            (void)std::move(tx).send();
        });
        const std::optional<int> v = test_support::sync_wait(task);
        th.join();
        REQUIRE(v.has_value());
        CHECK(on_pool.got_value());
        // Either it suspended (resumed on the pool) or the signal was already there (here).
        CHECK((on_pool.in_pool || on_pool.thread == std::this_thread::get_id()));
    }
}

TEST_CASE("co_await on a moved-from, default or already-used receiver gives disconnected at once",
          "[coroutine][closed]") {
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    open(tx, rx);
    record<int> rec;

    SECTION("moved-from receiver, awaited as an lvalue; the moved-to one still works") {
        oneshot::receiver<int> other = std::move(rx);
        eager_task t = await_lvalue(&rx, &rec);
        CHECK(t.done());
        CHECK(t.suspend_calls() == 0);
        CHECK(rec.got_error(recv_error::disconnected));
        REQUIRE(std::move(tx).send(1).has_value());
        auto r = other.try_recv();
        REQUIRE(r.has_value());
        CHECK(r.value() == 1);
    }
    SECTION("moved-from receiver, awaited as an rvalue") {
        oneshot::receiver<int> other = std::move(rx);
        eager_task t = await_rvalue(std::move(rx), &rec);
        CHECK(t.done());
        CHECK(t.suspend_calls() == 0);
        CHECK(rec.got_error(recv_error::disconnected));
    }
    SECTION("default-constructed receiver, with a stop-less recv_async and a scheduler") {
        event_loop loop;
        oneshot::receiver<int> closed;
        eager_task t = await_into(closed.recv_async().resume_on(&loop), &rec);
        CHECK(t.done());
        CHECK(t.suspend_calls() == 0);
        CHECK(loop.queued() == 0);
        CHECK(rec.got_error(recv_error::disconnected));
    }
    SECTION("the message was already received by a first co_await") {
        REQUIRE(std::move(tx).send(2).has_value());
        eager_task first = await_lvalue(&rx, &rec);
        REQUIRE(rec.got_value());
        record<int> again;
        eager_task second = await_lvalue(&rx, &again);
        CHECK(second.done());
        CHECK(second.suspend_calls() == 0);
        CHECK(again.got_error(recv_error::disconnected));
    }
    SECTION("disconnection already reported once is reported again") {
        { auto gone = std::move(tx); }
        CHECK(rx.try_recv().error() == recv_error::disconnected);
        eager_task t = await_lvalue(&rx, &rec);
        CHECK(t.done());
        CHECK(rec.got_error(recv_error::disconnected));
    }
}

TEST_CASE(
    "sender dropped while a coroutine awaits: disconnected, resumed inside the sender's destructor",
    "[coroutine][disconnect]") {
    counted::reset();
    {
        oneshot::sender<counted> tx;
        oneshot::receiver<counted> rx;
        open(tx, rx);
        std::atomic<bool> drop_returned{false};
        record<counted> rec;
        rec.watch = &drop_returned;
        std::optional<eager_task> t;
        bool borrowed = false;

        SECTION("co_await std::move(rx), sender destroyed") {
            t.emplace(await_rvalue(std::move(rx), &rec));
        }
        SECTION("co_await rx, sender destroyed") {
            t.emplace(await_lvalue(&rx, &rec));
            borrowed = true;
        }
        REQUIRE_FALSE(t->done());

        std::thread dropper([&] {
            { auto local = std::move(tx); } // the destructor resumes the coroutine
            drop_returned = true;
        });
        const std::thread::id dropper_id = dropper.get_id();
        dropper.join();

        REQUIRE(t->wait());
        CHECK(rec.got_error(recv_error::disconnected));
        CHECK(rec.thread == dropper_id);
        CHECK_FALSE(rec.watched); // resumed before the destructor returned
        if (borrowed) {
            CHECK(rx.is_closed());
            CHECK(rx.try_recv().error() == recv_error::disconnected);
        }
    }
    CHECK(counted::constructed == 0);
    CHECK(counted::live == 0);
}

TEST_CASE("sender replaced by move-assignment while awaited, and dropped with resume_on",
          "[coroutine][disconnect]") {
    thread_pool pool(2);
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    open(tx, rx);
    record<int> rec;
    rec.pool = &pool;
    std::optional<eager_task> t;
    bool via_pool = false;
    SECTION("move-assigning a closed sender over it drops it") {
        t.emplace(await_lvalue(&rx, &rec));
    }
    SECTION("resume_on(&pool): the disconnection resumes the coroutine on the pool") {
        t.emplace(await_into(rx.recv_async().resume_on(&pool), &rec));
        via_pool = true;
    }
    REQUIRE_FALSE(t->done());
    std::thread th([&] { tx = oneshot::sender<int>{}; });
    const std::thread::id id = th.get_id();
    th.join();
    REQUIRE(t->wait());
    CHECK(rec.got_error(recv_error::disconnected));
    if (via_pool) {
        CHECK(rec.in_pool);
        CHECK(pool.posted() == 1);
    } else {
        CHECK(rec.thread == id);
    }
}

// ---------------------------------------------------------------------------------------------
// Destroying a coroutine suspended on a receiver.
// ---------------------------------------------------------------------------------------------

TEST_CASE("destroy while suspended on co_await std::move(rx): later send or drop never resumes it",
          "[coroutine][destroy]") {
    counted::reset();
    {
        oneshot::sender<counted> tx;
        oneshot::receiver<counted> rx;
        open(tx, rx);
        record<counted> rec;
        std::optional<eager_task> eager;
        std::optional<lazy_task<int>> lazy;
        const bool use_lazy = GENERATE(false, true);
        INFO("task type: " << (use_lazy ? "lazy_task" : "eager_task"));
        if (use_lazy) {
            lazy.emplace(test_support::lazy_await_rvalue(std::move(rx), &rec));
            lazy->start();
            REQUIRE_FALSE(lazy->done());
            lazy->destroy();
        } else {
            eager.emplace(await_rvalue(std::move(rx), &rec));
            REQUIRE_FALSE(eager->done());
            REQUIRE(eager->suspensions() == 1);
            eager->destroy();
        }
        CHECK(rec.frame_destroyed == 1);
        CHECK_FALSE(rec.resumed);

        SECTION("then send from another thread: the receiver went with the frame, the send fails") {
            std::optional<oneshot::sender<counted>::send_result> sr;
            std::thread([&] { sr.emplace(std::move(tx).send(counted(9))); }).join();
            REQUIRE(sr.has_value());
            REQUIRE_FALSE(sr->has_value());
            CHECK(sr->error().value().value == 9); // handed back, not lost
            CHECK(counted::live == 1);
            sr.reset();
            CHECK(counted::live == 0);
        }
        SECTION("then the sender is dropped on another thread") {
            std::thread([&] { auto gone = std::move(tx); }).join();
            CHECK(counted::live == 0);
        }
        CHECK_FALSE(rec.resumed);
        CHECK(rec.frame_destroyed == 1);
    }
    CHECK(counted::live == 0);
    CHECK(counted::constructed == counted::destroyed);
}

TEST_CASE("destroy while suspended on co_await rx: the message stays for the receiver's owner",
          "[coroutine][destroy]") {
    counted::reset();
    {
        oneshot::sender<counted> tx;
        oneshot::receiver<counted> rx;
        open(tx, rx);
        record<counted> rec;
        eager_task t = await_lvalue(&rx, &rec);
        REQUIRE_FALSE(t.done());
        t.destroy();
        CHECK(rec.frame_destroyed == 1);

        SECTION("send from another thread, then the owner's try_recv gets it") {
            bool sent = false;
            std::thread([&] { sent = std::move(tx).send(counted(10)).has_value(); }).join();
            CHECK(sent);
            CHECK(rx.has_message());
            CHECK(counted::live == 1);
            auto r = rx.try_recv();
            REQUIRE(r.has_value());
            CHECK(r->value == 10);
        }
        SECTION("the owner blocks in recv on another thread, then a send arrives") {
            std::optional<oneshot::result<counted, recv_error>> got;
            std::thread owner([&] { got.emplace(rx.recv()); });
            std::this_thread::sleep_for(2ms);
            bool sent = false;
            std::thread([&] { sent = std::move(tx).send(counted(11)).has_value(); }).join();
            owner.join();
            CHECK(sent);
            REQUIRE(got.has_value());
            REQUIRE(got->has_value());
            CHECK(got->value().value == 11);
        }
        SECTION("another coroutine awaits the same receiver, then a send resumes it") {
            record<counted> second;
            eager_task t2 = await_lvalue(&rx, &second);
            REQUIRE_FALSE(t2.done());
            std::thread sender_thread([&] { (void)std::move(tx).send(counted(12)); });
            const std::thread::id id = sender_thread.get_id();
            sender_thread.join();
            REQUIRE(t2.wait());
            REQUIRE(second.got_value());
            CHECK(second.result->value().value == 12);
            CHECK(second.thread == id);
        }
        SECTION("sender dropped on another thread: the owner sees disconnected") {
            std::thread([&] { auto gone = std::move(tx); }).join();
            CHECK(rx.is_closed());
            CHECK(rx.try_recv().error() == recv_error::disconnected);
        }
        CHECK_FALSE(rec.resumed);
    }
    CHECK(counted::live == 0);
    CHECK(counted::constructed == counted::destroyed);
}

TEST_CASE("destroy while suspended with resume_on: nothing is scheduled afterwards",
          "[coroutine][destroy]") {
    counted::reset();
    {
        event_loop loop;
        oneshot::sender<counted> tx;
        oneshot::receiver<counted> rx;
        open(tx, rx);
        record<counted> rec;
        SECTION("borrowed receiver keeps the message") {
            eager_task t = await_into(rx.recv_async().resume_on(&loop), &rec);
            REQUIRE_FALSE(t.done());
            t.destroy();
            bool sent = false;
            std::thread([&] { sent = std::move(tx).send(counted(13)).has_value(); }).join();
            CHECK(sent);
            CHECK(loop.queued() == 0);
            auto r = rx.try_recv();
            REQUIRE(r.has_value());
            CHECK(r->value == 13);
        }
        SECTION("owned receiver: the send fails") {
            eager_task t =
                await_into(std::move(rx).recv_async().resume_on(execute_ref{&loop}), &rec);
            REQUIRE_FALSE(t.done());
            t.destroy();
            std::optional<oneshot::sender<counted>::send_result> sr;
            std::thread([&] { sr.emplace(std::move(tx).send(counted(14))); }).join();
            REQUIRE(sr.has_value());
            REQUIRE_FALSE(sr->has_value());
            CHECK(loop.queued() == 0);
        }
        CHECK_FALSE(rec.resumed);
    }
    CHECK(counted::live == 0);
    CHECK(counted::constructed == counted::destroyed);
}

TEST_CASE("destroy after the resumption was queued on the scheduler but before it ran",
          "[coroutine][destroy]") {
    // The executor discards its queue (e.g. shutting down) and the frame is destroyed instead of
    // resumed: the message is destroyed exactly once, or kept for the receiver's owner.
    counted::reset();
    {
        event_loop loop;
        oneshot::sender<counted> tx;
        oneshot::receiver<counted> rx;
        open(tx, rx);
        record<counted> rec;
        SECTION("owned receiver") {
            eager_task t = await_into(std::move(rx).recv_async().resume_on(&loop), &rec);
            REQUIRE_FALSE(t.done());
            bool sent = false;
            std::thread([&] { sent = std::move(tx).send(counted(15)).has_value(); }).join();
            CHECK(sent);
            REQUIRE(loop.pending() == 1);
            t.destroy();
            CHECK(loop.clear() == 1);
            CHECK(counted::live ==
                  0); // the frame's receiver was last out: it destroyed the message
        }
        SECTION("borrowed receiver") {
            eager_task t = await_into(rx.recv_async().resume_on(&loop), &rec);
            REQUIRE_FALSE(t.done());
            bool sent = false;
            std::thread([&] { sent = std::move(tx).send(counted(16)).has_value(); }).join();
            CHECK(sent);
            REQUIRE(loop.pending() == 1);
            t.destroy();
            CHECK(loop.clear() == 1);
            auto r = rx.try_recv();
            REQUIRE(r.has_value());
            CHECK(r->value == 16);
        }
        CHECK_FALSE(rec.resumed);
        CHECK(rec.frame_destroyed == 1);
    }
    CHECK(counted::live == 0);
    CHECK(counted::constructed == counted::destroyed);
}

TEST_CASE(
    "destroy-while-suspended, repeated: destroyed on one thread, then send or drop on another",
    "[coroutine][destroy][stress]") {
    counted::reset();
    test_support::racers race(2);
    const int reps = test_support::race_reps;
    int checked = 0;
    for (int i = 0; i < reps; ++i) {
        const bool owned = (i & 1) != 0;
        const bool send = (i & 2) != 0;
        oneshot::sender<counted> tx;
        oneshot::receiver<counted> rx;
        open(tx, rx);
        record<counted> rec;
        std::optional<eager_task> t;
        t.emplace(owned ? await_rvalue(std::move(rx), &rec) : await_lvalue(&rx, &rec));
        REQUIRE_FALSE(t->done());
        race.run({[&] { t->destroy(); }, nullptr});
        std::optional<oneshot::sender<counted>::send_result> sr;
        race.run({nullptr, [&] {
                      if (send)
                          sr.emplace(std::move(tx).send(counted(i)));
                      else
                          tx = oneshot::sender<counted>{};
                  }});
        REQUIRE_FALSE(rec.resumed);
        REQUIRE(rec.frame_destroyed == 1);
        if (send) {
            REQUIRE(sr.has_value());
            // Owned: the receiver died with the frame, the message comes back. Borrowed: delivered.
            REQUIRE(sr->has_value() == !owned);
            if (owned) REQUIRE(sr->error().value().value == i);
        }
        if (!owned) {
            auto r = rx.try_recv();
            REQUIRE(r.has_value() == send);
            if (send) REQUIRE(r->value == i);
        }
        ++checked;
    }
    CHECK(checked == reps);
    CHECK(counted::live == 0);
    CHECK(counted::constructed == counted::destroyed);
}

#if ONESHOT_HAS_EXCEPTIONS
namespace {
/// A message whose move constructor throws while `throws_left` is positive.
struct flaky {
    static inline int throws_left = 0;
    int value;
    explicit flaky(int v) noexcept : value(v) {}
    flaky(flaky&& other) : value(other.value) {
        if (throws_left > 0) {
            --throws_left;
            throw std::runtime_error("flaky move");
        }
    }
    flaky(const flaky&) = delete;
    flaky& operator=(const flaky&) = delete;
    flaky& operator=(flaky&&) = delete;
    ~flaky() = default;
};

struct flaky_outcome {
    bool first_threw = false;
    std::optional<oneshot::result<flaky, recv_error>> second;
    std::thread::id thread{};
};

/// Awaits; if taking the message out throws, catches it and awaits the same receiver again.
eager_task await_flaky(oneshot::receiver<flaky>* rx, flaky_outcome* out) {
    try {
        auto r = co_await *rx;
        (void)r;
    } catch (const std::runtime_error&) {
        out->first_threw = true;
    }
    out->second.emplace(co_await *rx);
    out->thread = std::this_thread::get_id();
}
} // namespace

TEST_CASE("an exception while taking the message out of await_resume leaves it in the channel",
          "[coroutine][exceptions]") {
    oneshot::sender<flaky> tx;
    oneshot::receiver<flaky> rx;
    open(tx, rx);
    flaky_outcome out;
    std::optional<eager_task> t;
    flaky::throws_left = 0;

    SECTION("message already there: no suspension") {
        REQUIRE(std::move(tx).emplace(18).has_value()); // constructed in place: no move
        flaky::throws_left = 1;
        t.emplace(await_flaky(&rx, &out));
        CHECK(t->done());
        CHECK(out.thread == std::this_thread::get_id());
    }
    SECTION("suspended, resumed inline by a sender on another thread") {
        t.emplace(await_flaky(&rx, &out));
        REQUIRE_FALSE(t->done());
        flaky::throws_left = 1;
        bool sent = false;
        std::thread sender_thread([&] { sent = std::move(tx).emplace(19).has_value(); });
        const std::thread::id id = sender_thread.get_id();
        sender_thread.join();
        CHECK(sent); // the exception stayed in the coroutine, which caught it
        REQUIRE(t->wait());
        CHECK(out.thread == id);
    }
    CHECK(out.first_threw);
    CHECK(flaky::throws_left == 0);
    REQUIRE(out.second.has_value());
    REQUIRE(out.second->has_value());
    CHECK((out.second->value().value == 18 || out.second->value().value == 19));
    CHECK(rx.is_closed());
}
#endif
