// co_await on a receiver with a test_support::stop_token: cancellation before suspension, during
// suspension (from another thread), through a scheduler, and racing with send / sender drop /
// the suspension itself, thousands of times; what a later receive gets after a cancellation.
//
// Catch2 assertions are made on the test's own thread only: coroutines and helper threads record
// what they saw, and the test checks it after joining them.
#include "catch.hpp"

#include "support/coro_common.hpp"
#include "support/counted.hpp"
#include "support/executors.hpp"
#include "support/race.hpp"
#include "support/stop.hpp"
#include "support/tasks.hpp"

#include <oneshot/channel.hpp>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <thread>
#include <utility>

using oneshot::recv_error;
using test_support::await_into;
using test_support::await_lvalue;
using test_support::counted;
using test_support::eager_task;
using test_support::event_loop;
using test_support::lazy_task;
using test_support::loop_thread;
using test_support::open;
using test_support::racers;
using test_support::record;
using test_support::spin_for;
using test_support::switch_to;
using test_support::thread_pool;
using test_support::xorshift;

namespace {
using namespace std::chrono_literals;
} // namespace

namespace {

/// A second receive from a coroutine running on the pool: `co_await std::move(rx)` there.
lazy_task<int> receive_on_pool(thread_pool* pool, oneshot::receiver<int> rx, record<int>* rec) {
    co_await switch_to(*pool);
    rec->note(co_await std::move(rx));
    co_return 0;
}

/// How a test takes the message after a cancellation.
enum class follow_up { try_recv, recv, co_await_again };

/// Receives once more from `rx` by the chosen means, on the test thread (the channel is complete,
/// so nothing blocks).
template <class T>
oneshot::result<T, recv_error> receive_again(oneshot::receiver<T>& rx, follow_up how) {
    switch (how) {
    case follow_up::try_recv: return rx.try_recv();
    case follow_up::recv: return rx.recv();
    case follow_up::co_await_again: break;
    }
    record<T> rec;
    eager_task t = await_lvalue(&rx, &rec);
    if (!t.done() || !rec.result.has_value())
        return oneshot::result<T, recv_error>(oneshot::unexpect, recv_error::empty);
    return std::move(*rec.result);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Cancellation, one step at a time.
// ---------------------------------------------------------------------------------------------

TEST_CASE("cancellation before suspension: stop already requested, no suspension",
          "[coroutine][cancel]") {
    const std::thread::id me = std::this_thread::get_id();
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    open(tx, rx);
    test_support::stop_source src;
    src.request_stop();
    record<int> rec;

    SECTION("borrowed receiver: the message sent afterwards stays in the channel") {
        eager_task t = await_into(rx.recv_async(src.get_token()), &rec);
        CHECK(t.done());
        CHECK(t.suspend_calls() == 0);
        CHECK(rec.got_error(recv_error::cancelled));
        CHECK(rec.thread == me);
        CHECK_FALSE(rx.is_closed());

        const follow_up how =
            GENERATE(follow_up::try_recv, follow_up::recv, follow_up::co_await_again);
        INFO("follow-up " << static_cast<int>(how));
        bool sent = false;
        std::thread([&] { sent = std::move(tx).send(1).has_value(); }).join();
        CHECK(sent);
        auto r = receive_again(rx, how);
        REQUIRE(r.has_value());
        CHECK(r.value() == 1);
    }
    SECTION("owned receiver: it went with the awaiter, so a later send hands the message back") {
        {
            eager_task t = await_into(std::move(rx).recv_async(src.get_token()), &rec);
            CHECK(t.done());
            CHECK(t.suspend_calls() == 0);
            CHECK(rec.got_error(recv_error::cancelled));
        } // the finished frame, its awaiter and the receiver it owned are destroyed here
        auto sr = std::move(tx).send(2);
        REQUIRE_FALSE(sr.has_value());
        CHECK(sr.error().value() == 2);
    }
    SECTION("a message already there wins over an earlier stop request") {
        REQUIRE(std::move(tx).send(3).has_value());
        eager_task t = await_into(rx.recv_async(src.get_token()), &rec);
        CHECK(t.done());
        REQUIRE(rec.got_value());
        CHECK(rec.result->value() == 3);
    }
    SECTION("a disconnection already there wins over an earlier stop request") {
        { auto gone = std::move(tx); }
        eager_task t = await_into(rx.recv_async(src.get_token()), &rec);
        CHECK(t.done());
        CHECK(rec.got_error(recv_error::disconnected));
    }
    SECTION("with resume_on: nothing is scheduled") {
        event_loop loop;
        eager_task t = await_into(rx.recv_async(src.get_token()).resume_on(&loop), &rec);
        CHECK(t.done());
        CHECK(loop.queued() == 0);
        CHECK(rec.got_error(recv_error::cancelled));
    }
}

TEST_CASE(
    "cancellation during suspension: request_stop on another thread resumes the coroutine there",
    "[coroutine][cancel]") {
    counted::reset();
    {
        oneshot::sender<counted> tx;
        oneshot::receiver<counted> rx;
        open(tx, rx);
        test_support::stop_source src;
        std::atomic<bool> stop_returned{false};
        record<counted> rec;
        rec.watch = &stop_returned;
        eager_task t = await_into(rx.recv_async(src.get_token()), &rec);
        REQUIRE_FALSE(t.done());
        REQUIRE(t.suspensions() == 1);

        std::thread stopper([&] {
            src.request_stop();
            stop_returned = true;
        });
        const std::thread::id stopper_id = stopper.get_id();
        stopper.join();

        REQUIRE(t.wait());
        CHECK(rec.got_error(recv_error::cancelled));
        CHECK(rec.thread == stopper_id);
        CHECK_FALSE(rec.watched); // resumed inline, inside request_stop
        CHECK_FALSE(rx.is_closed());
        CHECK_FALSE(rx.has_message());

        SECTION("a later send is received by try_recv / recv / a second co_await") {
            const follow_up how =
                GENERATE(follow_up::try_recv, follow_up::recv, follow_up::co_await_again);
            INFO("follow-up " << static_cast<int>(how));
            bool sent = false;
            std::thread([&] { sent = std::move(tx).send(counted(4)).has_value(); }).join();
            CHECK(sent);
            CHECK(rx.has_message());
            auto r = receive_again(rx, how);
            REQUIRE(r.has_value());
            CHECK(r->value == 4);
        }
        SECTION("a later sender drop is seen by try_recv") {
            std::thread([&] { auto gone = std::move(tx); }).join();
            CHECK(rx.try_recv().error() == recv_error::disconnected);
        }
    }
    CHECK(counted::live == 0);
    CHECK(counted::constructed == counted::destroyed);
}

TEST_CASE("after a cancellation, a thread blocks in recv() or another coroutine awaits again",
          "[coroutine][cancel]") {
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    open(tx, rx);
    test_support::stop_source src;
    record<int> rec;
    eager_task t = await_into(rx.recv_async(src.get_token()), &rec);
    REQUIRE_FALSE(t.done());
    std::thread([&] { src.request_stop(); }).join();
    REQUIRE(t.wait());
    REQUIRE(rec.got_error(recv_error::cancelled));

    SECTION("blocking recv() on another thread, the send arriving later from a third") {
        std::optional<oneshot::result<int, recv_error>> got;
        std::thread owner([&, r = std::move(rx)]() mutable { got.emplace(r.recv()); });
        std::this_thread::sleep_for(2ms); // let it block (not required for correctness)
        bool sent = false;
        std::thread([&] { sent = std::move(tx).send(5).has_value(); }).join();
        owner.join();
        CHECK(sent);
        REQUIRE(got.has_value());
        REQUIRE(got->has_value());
        CHECK(got->value() == 5);
    }
    SECTION("co_await std::move(rx) from a coroutine on the thread pool") {
        thread_pool pool(2);
        record<int> second;
        lazy_task<int> task = receive_on_pool(&pool, std::move(rx), &second);
        std::thread th([&] {
            std::this_thread::sleep_for(2ms);
            (void)std::move(tx).send(6);
        });
        const std::optional<int> done = test_support::sync_wait(task);
        th.join();
        REQUIRE(done.has_value());
        REQUIRE(second.got_value());
        CHECK(second.result->value() == 6);
    }
    SECTION("awaited again with a new stop token, then cancelled again, then received") {
        test_support::stop_source again;
        record<int> second;
        eager_task t2 = await_into(rx.recv_async(again.get_token()), &second);
        REQUIRE_FALSE(t2.done());
        std::thread([&] { again.request_stop(); }).join();
        REQUIRE(t2.wait());
        CHECK(second.got_error(recv_error::cancelled));
        REQUIRE(std::move(tx).send(7).has_value());
        auto r = rx.try_recv();
        REQUIRE(r.has_value());
        CHECK(r.value() == 7);
    }
}

TEST_CASE("cancellation goes through the scheduler given to resume_on",
          "[coroutine][cancel][resume]") {
    thread_pool pool(2);
    event_loop loop;
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    open(tx, rx);
    test_support::stop_source src;
    record<int> rec;
    rec.loop = &loop;
    rec.pool = &pool;
    std::optional<eager_task> t;
    bool via_loop = true;
    SECTION("recv_async(token).resume_on(&loop)") {
        t.emplace(await_into(rx.recv_async(src.get_token()).resume_on(&loop), &rec));
    }
    SECTION("recv_async().resume_on(&loop).with_stop_token(token)") {
        t.emplace(
            await_into(rx.recv_async().resume_on(&loop).with_stop_token(src.get_token()), &rec));
    }
    SECTION("std::move(rx).recv_async(token).resume_on(post_ref)") {
        t.emplace(await_into(
            std::move(rx).recv_async(src.get_token()).resume_on(test_support::post_ref{&pool}),
            &rec));
        via_loop = false;
    }
    REQUIRE_FALSE(t->done());
    std::thread stopper([&] { src.request_stop(); });
    const std::thread::id stopper_id = stopper.get_id();
    stopper.join();
    if (via_loop) {
        CHECK_FALSE(t->done());
        CHECK(loop.pending() == 1);
        CHECK(loop.drain() == 1);
        REQUIRE(t->wait(0s));
        CHECK(rec.in_loop);
        CHECK(rec.thread == std::this_thread::get_id());
        // The borrowed receiver is still usable.
        REQUIRE(std::move(tx).send(8).has_value());
        CHECK(loop.queued() == 1); // the send did not schedule anything more
        auto r = rx.try_recv();
        REQUIRE(r.has_value());
        CHECK(r.value() == 8);
    } else {
        REQUIRE(t->wait());
        CHECK(rec.in_pool);
        CHECK(rec.thread != stopper_id);
        CHECK(pool.posted() == 1);
    }
    CHECK(rec.got_error(recv_error::cancelled));
}

TEST_CASE("stop between await_ready and await_suspend, and after the message arrived (awaiter "
          "driven by hand)",
          "[coroutine][cancel]") {
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    open(tx, rx);
    test_support::stop_source src;
    SECTION("stop lands between await_ready and await_suspend: no suspension, cancelled") {
        auto aw = rx.recv_async(src.get_token());
        REQUIRE_FALSE(aw.await_ready());
        src.request_stop();
        REQUIRE_FALSE(aw.await_suspend(std::noop_coroutine()));
        auto r = aw.await_resume();
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == recv_error::cancelled);
        REQUIRE(std::move(tx).send(9).has_value());
        auto again = rx.try_recv();
        REQUIRE(again.has_value());
        CHECK(again.value() == 9);
    }
    SECTION("registered, the message arrives, then stop is requested: the message wins") {
        auto aw = rx.recv_async(src.get_token());
        REQUIRE_FALSE(aw.await_ready());
        REQUIRE(aw.await_suspend(std::noop_coroutine()));
        REQUIRE(std::move(tx).send(10).has_value());
        src.request_stop();
        auto r = aw.await_resume();
        REQUIRE(r.has_value());
        CHECK(r.value() == 10);
    }
    SECTION("registered, stop requested, then the message arrives: cancelled, message kept") {
        {
            auto aw = rx.recv_async(src.get_token());
            REQUIRE_FALSE(aw.await_ready());
            REQUIRE(aw.await_suspend(std::noop_coroutine()));
            src.request_stop();
            REQUIRE(std::move(tx).send(11).has_value());
            auto r = aw.await_resume();
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error() == recv_error::cancelled);
        }
        auto again = rx.recv();
        REQUIRE(again.has_value());
        CHECK(again.value() == 11);
    }
}

TEST_CASE("a stop token that never fires changes nothing and stopping after completion is harmless",
          "[coroutine][cancel]") {
    oneshot::sender<int> tx;
    oneshot::receiver<int> rx;
    open(tx, rx);
    std::optional<test_support::stop_source> src;
    src.emplace();
    record<int> rec;
    eager_task t = await_into(rx.recv_async(src->get_token()), &rec);
    REQUIRE_FALSE(t.done());
    bool sent = false;
    std::thread sender_thread([&] { sent = std::move(tx).send(12).has_value(); });
    const std::thread::id id = sender_thread.get_id();
    sender_thread.join();
    REQUIRE(t.wait());
    REQUIRE(rec.got_value());
    CHECK(rec.result->value() == 12);
    CHECK(rec.thread == id);
    std::thread([&] { src->request_stop(); }).join(); // the callback was withdrawn on resumption
    src.reset();
    CHECK(rec.got_value());
}

TEST_CASE("destroy while suspended with a stop token: later stop and send touch nothing",
          "[coroutine][cancel][destroy]") {
    counted::reset();
    {
        event_loop loop;
        oneshot::sender<counted> tx;
        oneshot::receiver<counted> rx;
        open(tx, rx);
        test_support::stop_source src;
        record<counted> rec;
        eager_task t = await_into(rx.recv_async(src.get_token()).resume_on(&loop), &rec);
        REQUIRE_FALSE(t.done());
        t.destroy();
        CHECK(rec.frame_destroyed == 1);
        std::thread([&] { src.request_stop(); }).join();
        bool sent = false;
        std::thread([&] { sent = std::move(tx).send(counted(13)).has_value(); }).join();
        CHECK(sent);
        CHECK(loop.queued() == 0);
        CHECK_FALSE(rec.resumed);
        auto r = rx.try_recv();
        REQUIRE(r.has_value());
        CHECK(r->value == 13);
    }
    CHECK(counted::live == 0);
    CHECK(counted::constructed == counted::destroyed);
}

// ---------------------------------------------------------------------------------------------
// Races, thousands of times. Each repetition asserts exactly one outcome.
// ---------------------------------------------------------------------------------------------

TEST_CASE("race: request_stop vs send while suspended resolves to exactly one outcome",
          "[coroutine][cancel][race]") {
    counted::reset();
    racers race(2);
    xorshift rng(1);
    int sends_won = 0;
    int stops_won = 0;
    for (int i = 0; i < test_support::race_reps; ++i) {
        const auto how = static_cast<follow_up>(i % 3);
        oneshot::sender<counted> tx;
        oneshot::receiver<counted> rx;
        open(tx, rx);
        test_support::stop_source src;
        record<counted> rec;
        std::optional<eager_task> t;
        t.emplace(await_into(rx.recv_async(src.get_token()), &rec));
        REQUIRE_FALSE(t->done());

        bool sent = false;
        const unsigned d0 = rng.below(400);
        const unsigned d1 = rng.below(400);
        race.run({[&] {
                      spin_for(d0);
                      src.request_stop();
                  },
                  [&] {
                      spin_for(d1);
                      sent = std::move(tx).send(counted(i)).has_value();
                  }});
        INFO("repetition " << i);
        REQUIRE(t->wait());
        REQUIRE(sent);
        REQUIRE(rec.result.has_value());
        auto again = receive_again(rx, how);
        if (rec.result->has_value()) {
            ++sends_won;
            REQUIRE(rec.result->value().value == i);
            REQUIRE(rec.thread == race.id(1)); // resumed inline by the sender
            REQUIRE_FALSE(again.has_value());
            REQUIRE(again.error() == recv_error::disconnected);
        } else {
            ++stops_won;
            REQUIRE(rec.result->error() == recv_error::cancelled);
            REQUIRE(rec.thread == race.id(0)); // resumed inline by request_stop
            REQUIRE(again.has_value());        // the message stayed in the channel
            REQUIRE(again->value == i);
        }
    }
    INFO("send won " << sends_won << ", stop won " << stops_won);
    CHECK(sends_won + stops_won == test_support::race_reps);
    CHECK(counted::live == 0);
    CHECK(counted::constructed == counted::destroyed);
}

TEST_CASE(
    "race: request_stop vs send with an owning awaiter: the message is delivered or destroyed once",
    "[coroutine][cancel][race]") {
    counted::reset();
    racers race(2);
    xorshift rng(2);
    for (int i = 0; i < test_support::race_reps; ++i) {
        oneshot::sender<counted> tx;
        oneshot::receiver<counted> rx;
        open(tx, rx);
        test_support::stop_source src;
        record<counted> rec;
        std::optional<eager_task> t;
        t.emplace(await_into(std::move(rx).recv_async(src.get_token()), &rec));
        REQUIRE_FALSE(t->done());
        std::optional<oneshot::sender<counted>::send_result> sr;
        const unsigned d0 = rng.below(400);
        const unsigned d1 = rng.below(400);
        race.run({[&] {
                      spin_for(d0);
                      src.request_stop();
                  },
                  [&] {
                      spin_for(d1);
                      sr.emplace(std::move(tx).send(counted(i)));
                  }});
        INFO("repetition " << i);
        REQUIRE(t->wait());
        REQUIRE(sr.has_value());
        REQUIRE(rec.result.has_value());
        if (rec.result->has_value()) {
            REQUIRE(sr->has_value());
            REQUIRE(rec.result->value().value == i);
        } else {
            REQUIRE(rec.result->error() == recv_error::cancelled);
            // The receiver went with the coroutine: the send either failed (message handed back)
            // or landed first and the message was destroyed with the receiver.
            if (!sr->has_value()) REQUIRE(sr->error().value().value == i);
        }
        t.reset();          // destroys the frame, its awaiter and the receiver the awaiter owned
        sr.reset();         // a message handed back
        rec.result.reset(); // a message received
        REQUIRE(counted::live == 0);
    }
    CHECK(counted::constructed == counted::destroyed);
}

TEST_CASE("race: request_stop vs sender drop while suspended", "[coroutine][cancel][race]") {
    racers race(2);
    xorshift rng(3);
    int drops_won = 0;
    int stops_won = 0;
    for (int i = 0; i < test_support::race_reps; ++i) {
        oneshot::sender<int> tx;
        oneshot::receiver<int> rx;
        open(tx, rx);
        test_support::stop_source src;
        record<int> rec;
        std::optional<eager_task> t;
        t.emplace(await_into(rx.recv_async(src.get_token()), &rec));
        REQUIRE_FALSE(t->done());
        const unsigned d0 = rng.below(400);
        const unsigned d1 = rng.below(400);
        race.run({[&] {
                      spin_for(d0);
                      src.request_stop();
                  },
                  [&] {
                      spin_for(d1);
                      tx = oneshot::sender<int>{};
                  }});
        INFO("repetition " << i);
        REQUIRE(t->wait());
        REQUIRE(rec.result.has_value());
        REQUIRE_FALSE(rec.result->has_value());
        if (rec.result->error() == recv_error::disconnected) {
            ++drops_won;
            REQUIRE(rec.thread == race.id(1));
        } else {
            ++stops_won;
            REQUIRE(rec.result->error() == recv_error::cancelled);
            REQUIRE(rec.thread == race.id(0));
        }
        REQUIRE(rx.try_recv().error() == recv_error::disconnected);
    }
    CHECK(drops_won + stops_won == test_support::race_reps);
}

TEST_CASE("race: the co_await itself vs request_stop vs send, on three threads",
          "[coroutine][cancel][race]") {
    counted::reset();
    racers race(3);
    xorshift rng(4);
    for (int i = 0; i < test_support::race_reps; ++i) {
        const auto how = static_cast<follow_up>(i % 3);
        oneshot::sender<counted> tx;
        oneshot::receiver<counted> rx;
        open(tx, rx);
        test_support::stop_source src;
        record<counted> rec;
        std::optional<eager_task> t;
        bool sent = false;
        const unsigned d0 = rng.below(300);
        const unsigned d1 = rng.below(300);
        const unsigned d2 = rng.below(300);
        race.run({[&] {
                      spin_for(d0);
                      t.emplace(await_into(rx.recv_async(src.get_token()), &rec));
                  },
                  [&] {
                      spin_for(d1);
                      src.request_stop();
                  },
                  [&] {
                      spin_for(d2);
                      sent = std::move(tx).send(counted(i)).has_value();
                  }});
        INFO("repetition " << i);
        REQUIRE(t.has_value());
        REQUIRE(t->wait());
        REQUIRE(sent);
        REQUIRE(rec.result.has_value());
        // Resumed by whoever completed it, or never suspended at all.
        REQUIRE((rec.thread == race.id(0) || rec.thread == race.id(1) || rec.thread == race.id(2)));
        if (t->suspensions() == 0) REQUIRE(rec.thread == race.id(0));
        auto again = receive_again(rx, how);
        if (rec.result->has_value()) {
            REQUIRE(rec.result->value().value == i);
            REQUIRE(again.error() == recv_error::disconnected);
        } else {
            REQUIRE(rec.result->error() == recv_error::cancelled);
            REQUIRE(again.has_value());
            REQUIRE(again->value == i);
        }
    }
    CHECK(counted::live == 0);
    CHECK(counted::constructed == counted::destroyed);
}

TEST_CASE("race: request_stop vs send through resume_on(loop): exactly one resumption is scheduled",
          "[coroutine][cancel][race]") {
    racers race(2);
    xorshift rng(5);
    event_loop loop; // run by the test thread
    for (int i = 0; i < test_support::race_reps; ++i) {
        oneshot::sender<int> tx;
        oneshot::receiver<int> rx;
        open(tx, rx);
        test_support::stop_source src;
        record<int> rec;
        rec.loop = &loop;
        std::optional<eager_task> t;
        t.emplace(await_into(rx.recv_async(src.get_token()).resume_on(&loop), &rec));
        REQUIRE_FALSE(t->done());
        bool sent = false;
        const unsigned d0 = rng.below(400);
        const unsigned d1 = rng.below(400);
        race.run({[&] {
                      spin_for(d0);
                      src.request_stop();
                  },
                  [&] {
                      spin_for(d1);
                      sent = std::move(tx).send(i).has_value();
                  }});
        INFO("repetition " << i);
        REQUIRE(sent);
        REQUIRE_FALSE(rec.resumed);
        REQUIRE(loop.drain() == 1);
        REQUIRE(t->wait(0s));
        REQUIRE(rec.in_loop);
        REQUIRE(rec.result.has_value());
        if (rec.result->has_value()) {
            REQUIRE(rec.result->value() == i);
            REQUIRE(rx.try_recv().error() == recv_error::disconnected);
        } else {
            REQUIRE(rec.result->error() == recv_error::cancelled);
            auto again = rx.try_recv();
            REQUIRE(again.has_value());
            REQUIRE(again.value() == i);
        }
    }
    CHECK(loop.pending() == 0);
}

namespace {
/// A resumer that hands the coroutine to a loop thread and waits until it ran there, as Qt's
/// BlockingQueuedConnection or WPF's Dispatcher.Invoke do.
struct blocking_resumer {
    event_loop* loop;
    void operator()(std::coroutine_handle<> h) const {
        std::promise<void> ran;
        std::future<void> done = ran.get_future();
        loop->push([h, &ran] {
            h.resume();
            ran.set_value();
        });
        done.wait();
    }
};
} // namespace

TEST_CASE("a stop request resumes through a resumer that waits for the coroutine to run",
          "[coroutine][cancel][resume]") {
    // The stopping thread runs the stop callback, which waits in the resumer until the coroutine
    // ran on the loop thread; the coroutine, resumed there, must not wait for that callback.
    event_loop loop;
    loop_thread runner(loop);
    for (const bool by_stop : {true, false}) {
        INFO((by_stop ? "request_stop" : "send"));
        oneshot::sender<int> tx;
        oneshot::receiver<int> rx;
        open(tx, rx);
        test_support::stop_source src;
        record<int> rec;
        eager_task t =
            await_into(rx.recv_async(src.get_token()).resume_on(blocking_resumer{&loop}), &rec);
        REQUIRE_FALSE(t.done());
        std::atomic<bool> returned{false};
        std::thread actor([&] {
            if (by_stop)
                src.request_stop();
            else
                (void)std::move(tx).send(5);
            returned = true;
        });
        for (int i = 0; i < 1000 && !returned; ++i)
            std::this_thread::sleep_for(10ms);
        if (!returned) {
            std::fputs("FAILED: deadlock between the stop callback and the resumed coroutine\n",
                       stderr);
            std::_Exit(1); // the blocked threads cannot be joined
        }
        actor.join();
        REQUIRE(t.wait(10s));
        CHECK(rec.thread == runner.id());
        if (by_stop)
            CHECK(rec.got_error(recv_error::cancelled));
        else
            CHECK(rec.got_value());
    }
}

TEST_CASE("race: send vs the co_await starting on another thread (no stop token)",
          "[coroutine][race]") {
    counted::reset();
    racers race(2);
    xorshift rng(6);
    int suspended = 0;
    for (int i = 0; i < test_support::race_reps; ++i) {
        oneshot::sender<counted> tx;
        oneshot::receiver<counted> rx;
        open(tx, rx);
        record<counted> rec;
        std::optional<eager_task> t;
        bool sent = false;
        const bool owned = (i & 1) != 0;
        const unsigned d0 = rng.below(300);
        const unsigned d1 = rng.below(300);
        race.run({[&] {
                      spin_for(d0);
                      if (owned)
                          t.emplace(test_support::await_rvalue(std::move(rx), &rec));
                      else
                          t.emplace(await_lvalue(&rx, &rec));
                  },
                  [&] {
                      spin_for(d1);
                      sent = std::move(tx).send(counted(i)).has_value();
                  }});
        INFO("repetition " << i);
        REQUIRE(t.has_value());
        REQUIRE(t->wait());
        REQUIRE(sent);
        REQUIRE(rec.got_value());
        REQUIRE(rec.result->value().value == i);
        if (t->suspensions() == 1) {
            ++suspended;
            REQUIRE(rec.thread == race.id(1)); // resumed inline by the sender
        } else {
            REQUIRE(t->suspensions() == 0);
            REQUIRE(rec.thread == race.id(0));
        }
        REQUIRE(rx.try_recv().error() == recv_error::disconnected);
    }
    INFO("suspended " << suspended << " times");
    CHECK(suspended <= test_support::race_reps);
    CHECK(counted::live == 0);
    CHECK(counted::constructed == counted::destroyed);
}
